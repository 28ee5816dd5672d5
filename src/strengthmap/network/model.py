"""The network as plain data: viewers, nodes, ties and the network they make (no store, no graph library).

Example:
    >>> from datetime import date
    >>> teresa = NetworkNode("teresa", "person", "Teresa", "public")
    >>> centre = NetworkNode("centre", "organization", "Community centre", "public")
    >>> tie = NetworkTie("t1", "teresa", "centre", "volunteers_at", start=date(2021, 3, 1))
    >>> net = Network((teresa, centre), (tie,))
    >>> [t.id for t in net.as_at(date(2020, 1, 1)).ties], [t.id for t in net.as_at(date(2022, 1, 1)).ties]
    ([], ['t1'])

A ``Network`` is immutable; ``visible_network`` (``strengthmap.network.consent``) and
``Network.as_at`` return new ones. Node ids are unique across kinds (directory ids are UUIDs;
a person's id is chosen by whoever adds them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from strengthmap.storage.schema.network import CONSENT_LEVELS, TIE_NODE_KINDS, TIE_TYPES

#: Node kinds, consent levels and tie types (the store's own lists).
NODE_KINDS = TIE_NODE_KINDS
#: Directory record kinds (nodes that are not people).
DIRECTORY_KINDS = ("organization", "service", "location")
#: Tie types that run both ways by nature (a directed analysis adds both arcs).
MUTUAL_TYPES = frozenset({"meets_with", "partners_with"})
#: Import formats (``network import --format``) and export formats (``network export --format``).
IMPORT_FORMATS = ("csv", "kumu")
EXPORT_FORMATS = ("graphml", "gexf", "kumu", "csv")
#: Who looks, in rising order of what they may see.
ROLES = ("anonymous", "viewer", "editor", "admin")
Role = Literal["anonymous", "viewer", "editor", "admin"]
_PRIVACY_RANK = {level: i for i, level in enumerate(CONSENT_LEVELS)}  # private 0 .. public 2


def most_private(*levels: str) -> str:
    """The most private of consent levels (a tie between two records defaults to it).

    >>> most_private("public", "internal")
    'internal'
    """
    return min(levels, key=lambda level: _PRIVACY_RANK[level])


@dataclass(frozen=True)
class Viewer:
    """Who asks: their role and, for a signed-in user, the actor name they edit under (email).

    ``anonymous`` sees public records; ``viewer`` (any signed-in user) also internal ones;
    ``editor`` also the private records it added itself; ``admin`` everything.

    >>> Viewer.anonymous().may_see("internal", None)
    False
    >>> Viewer.editor("ann@example.org").may_see("private", "ann@example.org")
    True
    >>> Viewer.editor("bob@example.org").may_see("private", "ann@example.org")
    False
    """

    role: Role = "anonymous"
    actor: str | None = None

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls("anonymous", None)

    @classmethod
    def signed_in(cls, actor: str) -> Viewer:
        return cls("viewer", actor)

    @classmethod
    def editor(cls, actor: str) -> Viewer:
        return cls("editor", actor)

    @classmethod
    def admin(cls, actor: str) -> Viewer:
        return cls("admin", actor)

    @classmethod
    def operator(cls) -> Viewer:
        """The CLI: a trusted operator with the database in hand (admin, actor ``cli``)."""
        return cls("admin", "cli")

    @classmethod
    def for_user(cls, role: str | None, actor: str | None) -> Viewer:
        """The viewer of an account role (``accounts.ROLES``: viewer, editor, admin) or of
        nobody signed in (``role=None``)."""
        if role is None or actor is None:
            return cls.anonymous()
        if role == "viewer":
            return cls("viewer", actor)
        if role == "editor":
            return cls("editor", actor)
        if role == "admin":
            return cls("admin", actor)
        raise ValueError(f"not a role: {role!r}")

    @property
    def is_signed_in(self) -> bool:
        return self.role != "anonymous"

    @property
    def may_edit(self) -> bool:
        return self.role in ("editor", "admin")

    def may_see(self, consent: str, added_by: str | None) -> bool:
        """Whether a record of this consent level, added by ``added_by``, is shown to this viewer."""
        if consent == "public":
            return True
        if consent == "internal":
            return self.is_signed_in
        if self.role == "admin":
            return True
        return self.role == "editor" and added_by is not None and added_by == self.actor

    def sees_private(self) -> bool:
        """Whether anything this viewer gets may hold private records (editors and admins)."""
        return self.may_edit


@dataclass(frozen=True)
class NetworkNode:
    """A person or a directory record in the network.

    ``area_code``: the LSOA of the person's or organisation's home, or of a service's or
    location's place. ``lon``/``lat``: a directory record's point (people never have one).
    ``listed``: entered in the network itself (a person, or a directory record with a
    ``network_member`` row); a directory record that is only the end of ties is not, and is
    shown only with a tie the viewer may see.
    """

    id: str
    kind: str
    name: str
    consent: str = "public"
    area_code: str | None = None
    role: str | None = None
    added_by: str | None = None
    consent_recorded_on: date | None = None
    lon: float | None = None
    lat: float | None = None
    listed: bool = True


@dataclass(frozen=True)
class NetworkTie:
    """A tie ``source`` -> ``target`` of a type; ``end`` is its last day; ``weight`` > 0."""

    id: str
    source: str
    target: str
    type: str
    label: str | None = None
    weight: float = 1.0
    start: date | None = None
    end: date | None = None
    consent: str = "internal"
    mutual: bool = False
    added_by: str | None = None
    consent_recorded_on: date | None = None
    note: str | None = None

    @property
    def type_name(self) -> str:
        """The type as people read it: a custom type's own label, else the type."""
        return self.label if self.type == "custom" and self.label else self.type

    @property
    def type_code(self) -> str:
        """The type as the CSV import reads it (``custom:<label>`` for a custom type)."""
        return f"custom:{self.label}" if self.type == "custom" and self.label else self.type

    def active_on(self, day: date) -> bool:
        """Whether the tie held on ``day`` (undated ends are open)."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def runs_both_ways(self) -> bool:
        return self.mutual or self.type in MUTUAL_TYPES


@dataclass(frozen=True)
class Network:
    """Nodes and ties, possibly filtered for a viewer (``viewer``) and a day (``day``).

    ``viewer=None`` means unfiltered: the whole stored network, for trusted code only.
    """

    nodes: tuple[NetworkNode, ...]
    ties: tuple[NetworkTie, ...]
    viewer: Viewer | None = None
    day: date | None = None
    _index: dict[str, NetworkNode] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._index.update((n.id, n) for n in self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[NetworkNode]:
        return iter(self.nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    def node(self, node_id: str) -> NetworkNode:
        return self._index[node_id]

    def get(self, node_id: str) -> NetworkNode | None:
        return self._index.get(node_id)

    def with_parts(
        self,
        nodes: Iterable[NetworkNode],
        ties: Iterable[NetworkTie],
        *,
        viewer: Viewer | None = None,
        day: date | None = None,
    ) -> Network:
        """The same network with other nodes and ties (and, if given, its viewer or day)."""
        return replace(
            self,
            nodes=tuple(nodes),
            ties=tuple(ties),
            viewer=viewer if viewer is not None else self.viewer,
            day=day if day is not None else self.day,
        )

    def as_at(self, day: date | None) -> Network:
        """The network on ``day``: the ties that held that day and the nodes they join
        (``None``: every tie and node, whatever its dates)."""
        if day is None:
            return self
        ties = [t for t in self.ties if t.active_on(day)]
        ends = {t.source for t in ties} | {t.target for t in ties}
        return self.with_parts([n for n in self.nodes if n.id in ends], ties, day=day)


def positive_weight(value: float) -> bool:
    """A tie weight: a finite number above zero."""
    return math.isfinite(value) and value > 0


__all__ = [
    "CONSENT_LEVELS",
    "DIRECTORY_KINDS",
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "MUTUAL_TYPES",
    "NODE_KINDS",
    "ROLES",
    "TIE_TYPES",
    "Network",
    "NetworkNode",
    "NetworkTie",
    "Role",
    "Viewer",
    "most_private",
    "positive_weight",
]

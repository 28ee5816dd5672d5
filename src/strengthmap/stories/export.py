"""Stories out of Strengthmap: a CSV or JSON export for staff, and the Atom feed of approved public
stories.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.stories import StoryDraft, add_story, approve_story, OPERATOR
    >>> store = open_store("sqlite://")
    >>> n = add_story(store, StoryDraft("=1+1 is what the maths club taught me", consent="public")).number
    >>> _ = approve_story(store, n, viewer=OPERATOR)
    >>> "'=1+1 is what" in export_stories(store, "csv", viewer=OPERATOR)
    True
    >>> import xml.etree.ElementTree as ET
    >>> feed = ET.fromstring(atom_feed(store, base_url="https://strengthmap.example"))
    >>> feed.tag, len(feed.findall("{http://www.w3.org/2005/Atom}entry"))
    ('{http://www.w3.org/2005/Atom}feed', 1)

The export holds the stories the viewer may read (signed-in staff only: ``Unauthorized`` for
anyone else) and never the teller's withdrawal token, their age band or relation to the place,
the moderation record or a withdrawn story's anything. CSV text cells that start like a spreadsheet formula (``= + - @``, tab, line
break, ``|``) get a leading ``'`` (OWASP "CSV injection"); numbers stay numbers.

The feed (Atom 1.0, RFC 4287) holds the newest approved public stories as plain text
(``type="text"``: no markup a reader could run) and, for 90 days, a deleted-entry tombstone
(RFC 6721) for each published story the teller withdrew, so feed readers that copied it can
drop their copy. The tombstone carries the entry's id and the date only.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from strengthmap.errors import InputError, Unauthorized
from strengthmap.storage import Store, schema
from strengthmap.stories.core import aware, views
from strengthmap.stories.model import ANONYMOUS, StoryView, Viewer
from strengthmap.stories.reading import (
    StoryQuery,
    check_rights,
    ordered,
    query_statement,
    with_theme_slugs,
)
from strengthmap.stories.text import neutralise_csv_cell
from strengthmap.stories.themes import themes_in

ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
EXPORT_FORMATS = ("csv", "json")
#: How long a withdrawn story's tombstone stays in the feed.
FEED_TOMBSTONE_DAYS = 90
#: What every export says about the stories in it.
EXPORT_NOTE = (
    "Stories shared with Strengthmap under the consent shown for each; use them only within "
    "that consent and do not republish internal or private stories. A story the teller "
    "withdraws must be deleted from copies too."
)
CSV_COLUMNS = (
    "id", "number", "status", "consent", "created_at", "published_at", "title", "text",
    "themes", "place_precision", "place_kind", "lon", "lat", "place_label", "area_codes",
    "services", "locations", "consent_method",
)  # fmt: skip


def _rows(store: Store, query: StoryQuery, viewer: Viewer, batch: int = 500) -> Iterator[StoryView]:
    """Every story of ``query`` the viewer may read, in number order, in batches."""
    with store.session() as session:
        themes = themes_in(session)
        query = with_theme_slugs(session, query)
        stmt = query_statement(store, replace(query, order=None), viewer)
        last = 0
        while True:
            rows = session.scalars(
                stmt.where(schema.Story.number > last).order_by(schema.Story.number).limit(batch)
            ).all()
            if not rows:
                return
            for v in views(session, rows, viewer, themes):
                if isinstance(v, StoryView):
                    yield v
            last = rows[-1].number


def _csv_row(v: StoryView) -> list[Any]:
    place = v.place
    teller = v.teller
    text_cells: dict[str, str | None] = {
        "title": v.title,
        "text": v.text,
        "themes": ";".join(t.slug for t in v.themes),
        "place_label": place.label if place else None,
        "area_codes": ";".join(a.code for a in place.areas) if place else None,
        "services": ";".join(a.id for a in v.assets if a.kind == "service"),
        "locations": ";".join(a.id for a in v.assets if a.kind == "location"),
    }
    values: dict[str, Any] = {
        "id": v.id,
        "number": v.number,
        "status": v.status,
        "consent": v.consent,
        "created_at": v.created_at.isoformat(),
        "published_at": v.published_at.isoformat() if v.published_at else None,
        "place_precision": place.precision if place else None,
        "place_kind": place.kind if place else None,
        "lon": place.lon if place else None,
        "lat": place.lat if place else None,
        "consent_method": teller.consent_method if teller else None,
        **{k: neutralise_csv_cell(s) if s else s for k, s in text_cells.items()},
    }
    return ["" if values[c] is None else values[c] for c in CSV_COLUMNS]


def export_stories(
    store: Store,
    fmt: Literal["csv", "json"] | str,
    *,
    viewer: Viewer,
    query: StoryQuery | None = None,
) -> str:
    """The stories ``viewer`` (signed-in staff) may read that match ``query``, as CSV or JSON."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(
            f"unknown format {fmt!r}; one of {', '.join(EXPORT_FORMATS)}", field="format"
        )
    if not viewer.is_staff:
        raise Unauthorized("sign in to export stories")
    query = query or StoryQuery()
    if query.status == "withdrawn":
        raise InputError("withdrawn stories hold nothing to export", field="status")
    check_rights(query, viewer)
    if fmt == "json":
        stories = [v.to_dict() for v in _rows(store, query, viewer)]
        for s in stories:  # the moderation record and what the teller said of themselves stay
            s.pop("moderation", None)
            if s.get("teller"):
                s["teller"] = {"consent_method": s["teller"]["consent_method"]}
        return json.dumps(
            {
                "exported_at": datetime.now(UTC).isoformat(),
                "note": EXPORT_NOTE,
                "count": len(stories),
                "stories": stories,
            },
            ensure_ascii=False,
            indent=2,
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for v in _rows(store, query, viewer):
        writer.writerow(_csv_row(v))
    return out.getvalue()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(
    store: Store,
    *,
    base_url: str,
    feed_path: str = "/stories/feed.atom",
    title: str = "Stories: what people say about their place",
    site_name: str = "Strengthmap",
    limit: int = 50,
    now: datetime | None = None,
) -> str:
    """The Atom 1.0 feed of the newest ``limit`` approved public stories (anyone may read it).
    Links point at ``{base_url}/stories/{id}``."""
    base = base_url.rstrip("/")
    now = now or datetime.now(UTC)
    query = StoryQuery(status="approved", consent="public", order="newest", per_page=1)
    with store.session() as session:
        stmt = query_statement(store, query, ANONYMOUS)
        rows = session.scalars(ordered(stmt, query).limit(limit)).all()
        items = [
            v
            for v in views(session, rows, ANONYMOUS, themes_in(session))
            if isinstance(v, StoryView)
        ]
        S = schema.Story
        gone = session.execute(
            sa.select(S.id, S.withdrawn_at)
            .where(
                S.withdrawn_at.is_not(None),
                S.withdrawn_at >= now - timedelta(days=FEED_TOMBSTONE_DAYS),
                S.consent == "public",
                S.moderation == "approved",
            )
            .order_by(S.withdrawn_at.desc())
            .limit(limit)
        ).all()
    ET.register_namespace("", ATOM)
    ET.register_namespace("at", TOMBSTONES)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    def updated_of(v: StoryView) -> datetime:
        return max(d for d in (v.created_at, v.updated_at, v.published_at) if d is not None)

    sub(feed, "id", f"{base}{feed_path}")
    sub(feed, "title", title, type="text")
    newest = [updated_of(v) for v in items] + [aware(w) or now for _, w in gone]
    sub(feed, "updated", _iso(max(newest) if newest else now))
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}{feed_path}")
    sub(feed, "link", rel="alternate", type="text/html", href=f"{base}/stories")
    author = sub(feed, "author")
    sub(author, "name", site_name)
    sub(feed, "generator", "Strengthmap")
    for v in items:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:uuid:{v.id}")
        sub(entry, "title", v.display_title, type="text")
        sub(entry, "updated", _iso(updated_of(v)))
        sub(entry, "published", _iso(v.published_at or v.created_at))
        sub(entry, "link", rel="alternate", type="text/html", href=f"{base}/stories/{v.id}")
        for t in v.themes:
            sub(entry, "category", term=t.slug, label=t.label)
        sub(entry, "content", v.text, type="text")
    for story_id, withdrawn_at in gone:
        ET.SubElement(
            feed,
            f"{{{TOMBSTONES}}}deleted-entry",
            {"ref": f"urn:uuid:{story_id}", "when": _iso(aware(withdrawn_at) or now)},
        )
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


__all__ = ["CSV_COLUMNS", "EXPORT_FORMATS", "EXPORT_NOTE", "atom_feed", "export_stories"]

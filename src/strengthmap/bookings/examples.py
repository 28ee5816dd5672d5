"""The New Wortley Community Centre example: its large meeting room with an illustrative rate card.

Example:
    >>> import_file(store, "docs/examples/new-wortley-community-centre.csv")    # doctest: +SKIP
    >>> room = add_new_wortley_room(store)                                      # doctest: +SKIP
    >>> room.name, room.capacity, room.hours.text                                # doctest: +SKIP
    ('Large meeting room', 60, 'Mo-Fr 09:00-21:00')

The location comes from ``docs/examples/new-wortley-community-centre.csv`` (import it first);
the room's hours match that file's "Large meeting room" row. Capacity, layouts and prices are
illustrative (``docs/examples/new-wortley-rates.csv``, also shipped in the package): confirm them
with the centre before publishing. Running it again updates the room and its rate card in place.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from strengthmap.bookings.prices import load_rate_card
from strengthmap.bookings.rooms import Layout, Room, RoomSpec, add_room, list_rooms, update_room
from strengthmap.errors import NotFound
from strengthmap.storage import Store, schema

LOCATION_NAME = "New Wortley Community Centre"
ROOM_NAME = "Large meeting room"
#: The illustrative rate card (the same file as docs/examples/new-wortley-rates.csv).
RATES_FILE = Path(__file__).with_name("new-wortley-rates.csv")
SPEC = dict(
    name=ROOM_NAME,
    capacity=60,
    description="A large, step-free meeting room for community groups, events and training "
    "(illustrative details: confirm with the centre).",
    hours=["Mo-Fr 09:00-21:00"],
    layouts=[Layout("theatre", 60), Layout("cabaret", 40), Layout("boardroom", 20)],
    facilities=["step_free", "accessible_toilet", "hearing_loop", "kitchen", "projector"],
    setup_minutes=15,
    cleanup_minutes=15,
    min_minutes=60,
    horizon_days=365,
)


def add_new_wortley_room(
    store: Store,
    *,
    location_id: str | None = None,
    rates: str | Path | None = None,
    actor: str = "cli",
) -> Room:
    """Add (or update) the example room at New Wortley Community Centre and load its rate card."""
    if location_id is None:
        with store.session() as session:
            location_id = session.scalars(
                select(schema.Location.id).where(
                    schema.Location.name == LOCATION_NAME, schema.Location.retired_at.is_(None)
                )
            ).first()
        if location_id is None:
            raise NotFound(
                f"no location named {LOCATION_NAME!r}: import docs/examples/"
                "new-wortley-community-centre.csv first (strengthmap directory import)"
            )
    existing = [r for r in list_rooms(store, location_id=location_id) if r.name == ROOM_NAME]
    if existing:
        room = update_room(
            store, existing[0].id, {k: v for k, v in SPEC.items() if k != "name"}, actor=actor
        )
    else:
        room = add_room(store, RoomSpec(location_id=location_id, **SPEC), actor=actor)  # type: ignore[arg-type]
    load_rate_card(store, room.id, rates or RATES_FILE, actor=actor)
    return room


__all__ = ["LOCATION_NAME", "RATES_FILE", "ROOM_NAME", "add_new_wortley_room"]

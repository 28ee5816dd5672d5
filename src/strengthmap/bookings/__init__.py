"""Rooms and bookings: community spaces at fair prices, booked without clashes, with an equity report.

Example:
    >>> from strengthmap.bookings import RoomSpec, BookingRequest, add_room, request_booking  # doctest: +SKIP
    >>> room = add_room(store, RoomSpec(location_id=loc, name="Hall", capacity=40))           # doctest: +SKIP
    >>> r = request_booking(store, BookingRequest(room_id=room.id, start="2026-06-01T10:00",
    ...     end="2026-06-01T12:00", hirer_name="Ann", email="ann@example.org",
    ...     category="voluntary"))                                                            # doctest: +SKIP
    >>> r.to_dict()["status"]                                                                 # doctest: +SKIP
    'pending'

Modules: ``rooms`` (rooms, hours, facilities, the ORUK accessibility entries), ``prices`` (rate
cards, concessions, quotes), ``core`` (requests, series, confirm/decline/cancel, the no-overlap
rule), ``availability`` (free slots, the public view, iCalendar), ``mail`` (messages and the
outbox), ``report`` (the equity report), ``privacy`` (anonymisation), ``examples`` (New Wortley).
Every result is a dataclass whose ``to_dict()`` is the JSON the CLI and API print.
"""

from __future__ import annotations

from strengthmap.bookings.availability import (
    Availability,
    Span,
    free_slots,
    public_availability,
    room_ics,
)
from strengthmap.bookings.core import (
    BookingRequest,
    HomeArea,
    RequestResult,
    cancel_booking,
    confirm_booking,
    decline_booking,
    get_booking,
    home_area,
    list_bookings,
    refresh_statuses,
    request_booking,
)
from strengthmap.bookings.examples import add_new_wortley_room
from strengthmap.bookings.ics import booking_calendar, busy_calendar
from strengthmap.bookings.mail import MailConfig, deliver, outbox
from strengthmap.bookings.prices import (
    CATEGORIES,
    Concession,
    Extra,
    Hirer,
    Quote,
    Rate,
    RateCard,
    compute_quote,
    load_rate_card,
    rate_card,
    read_rate_card,
)
from strengthmap.bookings.privacy import AnonymiseResult, anonymise_bookings
from strengthmap.bookings.report import EquityReport, equity_report, report_chart, report_csv
from strengthmap.bookings.rooms import (
    FACILITIES,
    Closure,
    Layout,
    LocationFacilities,
    Room,
    RoomSpec,
    add_room,
    get_room,
    list_rooms,
    location_facilities,
    parse_hours,
    retire_room,
    update_room,
)
from strengthmap.bookings.views import BookingConflict, BookingView, Clash

__all__ = [
    "CATEGORIES",
    "FACILITIES",
    "AnonymiseResult",
    "Availability",
    "BookingConflict",
    "BookingRequest",
    "BookingView",
    "Clash",
    "Closure",
    "Concession",
    "EquityReport",
    "Extra",
    "Hirer",
    "HomeArea",
    "Layout",
    "LocationFacilities",
    "MailConfig",
    "Quote",
    "Rate",
    "RateCard",
    "RequestResult",
    "Room",
    "RoomSpec",
    "Span",
    "add_new_wortley_room",
    "add_room",
    "anonymise_bookings",
    "booking_calendar",
    "busy_calendar",
    "cancel_booking",
    "compute_quote",
    "confirm_booking",
    "decline_booking",
    "deliver",
    "equity_report",
    "free_slots",
    "get_booking",
    "get_room",
    "home_area",
    "list_bookings",
    "list_rooms",
    "load_rate_card",
    "location_facilities",
    "outbox",
    "parse_hours",
    "public_availability",
    "rate_card",
    "read_rate_card",
    "refresh_statuses",
    "report_chart",
    "report_csv",
    "request_booking",
    "retire_room",
    "room_ics",
    "update_room",
]

"""Editor forms for the parts of a service (its location with address and accessibility, its
schedules, contacts and cost options) and for organisations. Every change goes through
``strengthmap.directory.editing`` (``edit_records``, ``retire_record``: audited, all or nothing);
nothing here writes a table. Editors and admins only; every form carries the CSRF token. A bad
value is shown beside its field (``aria-invalid`` + ``aria-describedby``), with a summary on top.

Paths: ``/edit/services/{id}/{part}/new`` (form), ``POST /edit/services/{id}/{part}`` (create),
``/edit/services/{id}/{part}/{part_id}`` (form, ``POST`` to update), ``.../retire``; ``part`` is
``locations``, ``schedules``, ``contacts`` or ``cost-options``. Organisations at
``/edit/organizations``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select

from strengthmap.accounts import User
from strengthmap.api.auth import require_role
from strengthmap.directory import editing
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.directory import ABCD_KINDS
from strengthmap.web.render import render

router = APIRouter(prefix="/edit", tags=["edit"])

DAY_CODES = (
    ("MO", "Monday"), ("TU", "Tuesday"), ("WE", "Wednesday"), ("TH", "Thursday"),
    ("FR", "Friday"), ("SA", "Saturday"), ("SU", "Sunday"),
)  # fmt: skip


@dataclass(frozen=True)
class Field:
    """One form field: ``kind`` is text, textarea, email, url, number, time, checkbox, days
    (weekday check boxes), choice (radio buttons from ``options``) or kind (ABCD select)."""

    name: str
    label: str
    kind: str = "text"
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False


#: Free-text kinds: the XSS test posts its payloads into every one of them.
TEXT_KINDS = ("text", "textarea", "email", "url")

LOCATION_FIELDS = (
    Field("name", "Name of the place", required=True, help="e.g. New Wortley Community Centre"),
    Field("description", "About the place", "textarea"),
    Field("address_1", "Address, first line", required=True),
    Field("address_2", "Address, second line"),
    Field("city", "Town or city", required=True),
    Field("state_province", "County", help="Left blank: the town or city is used."),
    Field(
        "postcode",
        "Postcode",
        required=True,
        help="Puts the place on the map (ONS postcode centroid), e.g. LS12 1BE",
    ),
    Field("access_description", "Access", "textarea", help="e.g. Step-free entrance, lift."),
    Field(
        "access_details", "More about access", help="e.g. Accessible toilet on the ground floor."
    ),
)
SCHEDULE_FIELDS = (
    Field(
        "mode",
        "How it repeats",
        "choice",
        options=(("weekly", "Every week on the days below"), ("rrule", "An RRULE (advanced)")),
    ),
    Field("days", "Days", "days"),
    Field("opens_at", "Opens at", "time", help="24-hour clock, e.g. 12:00"),
    Field("closes_at", "Closes at", "time", help="e.g. 14:00"),
    Field(
        "rrule",
        "RRULE",
        help="RFC 5545, e.g. FREQ=MONTHLY;BYDAY=1MO (the first Monday of each month)",
    ),
    Field("notes", "Notes", help="e.g. Not in school holidays."),
)
CONTACT_FIELDS = (
    Field("name", "Name", required=True),
    Field("title", "Role", help="e.g. Volunteer coordinator"),
    Field("email", "Email", "email"),
    Field("phone", "Phone", "tel", help="e.g. 0113 378 5005 (leave empty to remove it)"),
    Field(
        "private",
        "Private: only editors see this contact (never shown to the public or in the feed)",
        "checkbox",
    ),
)
COST_FIELDS = (
    Field("cost", "Cost", "choice", options=(("free", "Free"), ("amount", "An amount"))),
    Field("amount", "Amount in pounds", "number", help="e.g. 2.50"),
    Field("option", "What it pays for", help="e.g. Lunch"),
    Field("amount_description", "More about the cost", help="e.g. Pay what you can."),
)
ORGANIZATION_FIELDS = (
    Field("name", "Name", required=True),
    Field("description", "About the organisation", "textarea"),
    Field("abcd_kind", "Kind of asset", "kind"),
    Field("email", "Public email", "email"),
    Field("website", "Website", "url", help="Starts with https://"),
)


def _store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def _text(form: Any, name: str) -> str | None:
    raw = form.get(name)
    text = str(raw).strip() if raw is not None else ""
    return text or None


def _field_error(exc: InputError, names: dict[str, str] | None = None) -> dict[str, str]:
    field = (names or {}).get(exc.field or "", exc.field or "")
    return {field or "_form": str(exc.message)}


# --- the parts: how a form maps to editing ops and back ---------------------------------------


@dataclass(frozen=True)
class Part:
    """A part of a service: its form, title, how to read a record into form values, and how to
    turn the form into ``editing.edit_records`` ops."""

    slug: str
    entity: str
    title: str
    fields: tuple[Field, ...]
    load: Callable[[Any, str, str], dict[str, Any]]
    ops: Callable[[Store, str, str | None, Any, dict[str, Any]], list[tuple[Any, ...]]]
    #: library field name -> form field name (for showing an error beside its field)
    names: dict[str, str]


def _load_location(session: Any, service_id: str, location_id: str) -> dict[str, Any]:
    loc = session.get(schema.Location, location_id)
    if loc is None:
        raise NotFound(f"no location with id {location_id}")
    addr = session.scalars(
        select(schema.Address).where(
            schema.Address.location_id == location_id, schema.Address.retired_at.is_(None)
        )
    ).first()
    acc = session.scalars(
        select(schema.Accessibility).where(
            schema.Accessibility.location_id == location_id,
            schema.Accessibility.retired_at.is_(None),
        )
    ).first()
    values = {"name": loc.name, "description": loc.description}
    if addr is not None:
        values.update(
            address_1=addr.address_1, address_2=addr.address_2, city=addr.city,
            state_province=addr.state_province, postcode=addr.postal_code, _address_id=addr.id,
        )  # fmt: skip
    if acc is not None:
        values.update(
            access_description=acc.description, access_details=acc.details, _access_id=acc.id
        )
    return values


def _location_ops(
    store: Store, service_id: str, location_id: str | None, form: Any, old: dict[str, Any]
) -> list[tuple[Any, ...]]:
    from strengthmap.areas import resolve_postcode

    v = {f.name: _text(form, f.name) for f in LOCATION_FIELDS}
    for f in LOCATION_FIELDS:
        if f.required and not v[f.name]:
            raise InputError("required", field=f.name)
    postcode = str(v["postcode"])
    try:
        lon, lat, _code = resolve_postcode(store, postcode)
    except NotFound as exc:
        raise InputError(str(exc.message), field="postcode") from None
    location = {"name": v["name"], "description": v["description"], "latitude": lat,
                "longitude": lon}  # fmt: skip
    address = {
        "address_1": v["address_1"], "address_2": v["address_2"], "city": v["city"],
        "state_province": v["state_province"] or v["city"], "postal_code": postcode,
    }  # fmt: skip
    access = {"description": v["access_description"], "details": v["access_details"]}
    ops: list[tuple[Any, ...]] = []
    if location_id is None:
        ops.append(("create", "location", location))
        ops.append(("create", "service_at_location", {"service_id": service_id,
                                                      "location_id": "$0"}))  # fmt: skip
        ref = "$0"
    else:
        ops.append(("update", "location", location_id, location))
        ref = location_id
    if old.get("_address_id"):
        ops.append(("update", "address", old["_address_id"], address))
    else:
        ops.append(("create", "address", {"location_id": ref, **address}))
    if old.get("_access_id"):
        ops.append(("update", "accessibility", old["_access_id"], access))
    elif access["description"] or access["details"]:
        ops.append(("create", "accessibility", {"location_id": ref, **access}))
    return ops


def _get(session: Any, model: Any, rid: str, service_id: str) -> Any:
    row = session.get(model, rid)
    if row is None or getattr(row, "service_id", service_id) != service_id:
        raise NotFound(f"no {model.__tablename__} with id {rid} on this service")
    return row


def _load_schedule(session: Any, service_id: str, rid: str) -> dict[str, Any]:
    row = _get(session, schema.Schedule, rid, service_id)
    simple = row.freq == "WEEKLY" and not row.rrule and (row.interval or 1) == 1
    days = [d for d in (row.byday or "").split(",") if d]
    values = {"opens_at": row.opens_at, "closes_at": row.closes_at, "notes": row.notes}
    if simple and all(d in dict(DAY_CODES) for d in days):
        values.update(mode="weekly", days=days)
    else:
        from strengthmap.directory.schedules import to_rrule

        values.update(mode="rrule", rrule=row.rrule or to_rrule(row), days=[])
    return values


_RRULE_PREFIX = re.compile(r"^\s*RRULE:", re.IGNORECASE)


def _schedule_ops(
    store: Store, service_id: str, rid: str | None, form: Any, old: dict[str, Any]
) -> list[tuple[Any, ...]]:
    mode = _text(form, "mode") or "weekly"
    opens, closes = _text(form, "opens_at"), _text(form, "closes_at")
    values: dict[str, Any] = {"opens_at": opens, "closes_at": closes, "notes": _text(form, "notes")}
    if mode == "weekly":
        days = [str(d) for d in form.getlist("days") if str(d) in dict(DAY_CODES)]
        if not days:
            raise InputError("tick at least one day", field="days")
        values.update(freq="WEEKLY", byday=",".join(days), rrule=None, interval=None)
    elif mode == "rrule":
        text = _text(form, "rrule")
        if not text:
            raise InputError("required: an RRULE such as FREQ=WEEKLY;BYDAY=WE", field="rrule")
        values.update(rrule=_RRULE_PREFIX.sub("", text), freq=None, byday=None, interval=None)
    else:
        raise InputError("choose weekly or an RRULE", field="mode")
    if rid is None:
        return [("create", "schedule", {"service_id": service_id, **values})]
    return [("update", "schedule", rid, values)]


def _load_contact(session: Any, service_id: str, rid: str) -> dict[str, Any]:
    row = _get(session, schema.Contact, rid, service_id)
    values = {"name": row.name, "title": row.title, "email": row.email, "private": row.private}
    phone = session.scalars(
        select(schema.Phone)
        .where(schema.Phone.contact_id == rid, schema.Phone.retired_at.is_(None))
        .order_by(schema.Phone.created_at, schema.Phone.id)
    ).first()
    if phone is not None:  # the contact's first phone; others (from imports) are kept as they are
        values.update(phone=phone.number, _phone_id=phone.id)
    return values


def _contact_ops(
    store: Store, service_id: str, rid: str | None, form: Any, old: dict[str, Any]
) -> list[tuple[Any, ...]]:
    values: dict[str, Any] = {
        f.name: _text(form, f.name)
        for f in CONTACT_FIELDS
        if f.kind != "checkbox" and f.name != "phone"
    }
    if not values["name"]:
        raise InputError("required", field="name")
    values["private"] = form.get("private") in ("on", "true", "1")
    phone = _text(form, "phone")
    ops: list[tuple[Any, ...]] = []
    if rid is None:
        ops.append(("create", "contact", {"service_id": service_id, **values}))
        ref = "$0"
    else:
        ops.append(("update", "contact", rid, values))
        ref = rid
    if old.get("_phone_id") and phone:
        ops.append(("update", "phone", old["_phone_id"], {"number": phone}))
    elif old.get("_phone_id"):
        ops.append(("retire", "phone", old["_phone_id"]))
    elif phone:
        ops.append(("create", "phone", {"contact_id": ref, "number": phone}))
    return ops


def _load_cost(session: Any, service_id: str, rid: str) -> dict[str, Any]:
    row = _get(session, schema.CostOption, rid, service_id)
    return {
        "cost": "free" if row.amount == 0 else "amount",
        "amount": row.amount if row.amount else None,
        "option": row.option,
        "amount_description": row.amount_description,
    }


def _cost_ops(
    store: Store, service_id: str, rid: str | None, form: Any, old: dict[str, Any]
) -> list[tuple[Any, ...]]:
    kind = _text(form, "cost") or "amount"
    amount: float | None
    if kind == "free":
        amount = 0.0
    else:
        text = (_text(form, "amount") or "").lstrip("£")
        try:
            amount = float(text)
        except ValueError:
            raise InputError(
                "an amount in pounds, e.g. 2.50 (or choose Free)", field="amount"
            ) from None
    values = {"amount": amount, "currency": "GBP", "option": _text(form, "option"),
              "amount_description": _text(form, "amount_description")}  # fmt: skip
    if rid is None:
        return [("create", "cost_option", {"service_id": service_id, **values})]
    return [("update", "cost_option", rid, values)]


PARTS: dict[str, Part] = {
    p.slug: p
    for p in (
        Part(
            "locations",
            "location",
            "place",
            LOCATION_FIELDS,
            _load_location,
            _location_ops,
            {"postal_code": "postcode", "latitude": "postcode", "longitude": "postcode"},
        ),
        Part(
            "schedules",
            "schedule",
            "time",
            SCHEDULE_FIELDS,
            _load_schedule,
            _schedule_ops,
            {
                "byday": "days",
                "freq": "mode",
                "interval": "rrule",
                "bymonthday": "rrule",
                "count": "rrule",
                "until": "rrule",
                "wkst": "rrule",
            },
        ),
        Part(
            "contacts",
            "contact",
            "contact",
            CONTACT_FIELDS,
            _load_contact,
            _contact_ops,
            {"number": "phone"},
        ),
        Part(
            "cost-options",
            "cost_option",
            "cost",
            COST_FIELDS,
            _load_cost,
            _cost_ops,
            {"currency": "amount"},
        ),
    )
}


def _service_name(store: Store, service_id: str) -> str:
    with store.session() as session:
        row = session.get(schema.Service, service_id)
        if row is None:
            raise NotFound(f"no service with id {service_id}")
        return str(row.name)


def _part_form(
    request: Request,
    part: Part,
    service_id: str,
    part_id: str | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    name = _service_name(_store(request), service_id)
    base = f"/edit/services/{service_id}/{part.slug}"
    return render(
        request,
        "edit_part.html",
        {
            "title": f"{'Edit' if part_id else 'Add'} a {part.title}: {name}",
            "fields": part.fields,
            "values": values,
            "errors": errors or {},
            "action": f"{base}/{part_id}" if part_id else base,
            "retire_action": f"{base}/{part_id}/retire" if part_id else None,
            "back": f"/edit/services/{service_id}",
            "day_codes": DAY_CODES,
            "kinds": ABCD_KINDS,
        },
        status_code=status,
        data_page=False,
    )


def _form_values(part: Part, form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in part.fields:
        if f.kind == "days":
            out[f.name] = [str(d) for d in form.getlist(f.name)]
        elif f.kind == "checkbox":
            out[f.name] = form.get(f.name) in ("on", "true", "1")
        else:
            out[f.name] = form.get(f.name)
    return out


def _register(part: Part) -> None:
    """The five routes of one part (explicit paths, so /openapi.json lists each)."""
    path = f"/services/{{service_id}}/{part.slug}"

    def new_form(
        request: Request, service_id: str, user: User = Depends(require_role("editor"))
    ) -> HTMLResponse:
        defaults: dict[str, Any] = {"mode": "weekly", "days": [], "cost": "free", "private": False}
        return _part_form(request, part, service_id, None, defaults)

    async def create(
        request: Request, service_id: str, user: User = Depends(require_role("editor"))
    ) -> Response:
        return await _save(request, part, service_id, None, user)

    def edit_form(
        request: Request,
        service_id: str,
        part_id: str,
        user: User = Depends(require_role("editor")),
    ) -> HTMLResponse:
        with _store(request).session() as session:
            values = part.load(session, service_id, part_id)
        return _part_form(request, part, service_id, part_id, values)

    async def update(
        request: Request,
        service_id: str,
        part_id: str,
        user: User = Depends(require_role("editor")),
    ) -> Response:
        return await _save(request, part, service_id, part_id, user)

    def retire(
        request: Request,
        service_id: str,
        part_id: str,
        user: User = Depends(require_role("editor")),
    ) -> Response:
        store = _store(request)
        with store.session() as session:
            part.load(session, service_id, part_id)  # 404 unless it belongs to the service
        if part.entity == "location":
            # unlink the place from this service (other services may share it)
            with store.session() as session:
                link_ids = list(session.scalars(
                    select(schema.ServiceAtLocation.id).where(
                        schema.ServiceAtLocation.service_id == service_id,
                        schema.ServiceAtLocation.location_id == part_id,
                        schema.ServiceAtLocation.retired_at.is_(None),
                    )
                ))  # fmt: skip
            for lid in link_ids:
                editing.retire_record(store, "service_at_location", lid, actor=user.email)
        else:
            editing.retire_record(store, part.entity, part_id, actor=user.email)
        return RedirectResponse(f"/edit/services/{service_id}", status_code=303)

    what = f"a {part.title} of a service"
    router.add_api_route(f"{path}/new", new_form, methods=["GET"], response_class=HTMLResponse,
                         include_in_schema=False, summary=f"Form: add {what}")  # fmt: skip
    router.add_api_route(path, create, methods=["POST"], response_model=None,
                         summary=f"Add {what} (editors)")  # fmt: skip
    router.add_api_route(f"{path}/{{part_id}}", edit_form, methods=["GET"],
                         response_class=HTMLResponse, include_in_schema=False,
                         summary=f"Form: edit {what}")  # fmt: skip
    router.add_api_route(f"{path}/{{part_id}}", update, methods=["POST"], response_model=None,
                         summary=f"Change {what} (editors)")  # fmt: skip
    router.add_api_route(f"{path}/{{part_id}}/retire", retire, methods=["POST"],
                         response_model=None, summary=f"Retire {what} (editors)")  # fmt: skip


async def _save(
    request: Request, part: Part, service_id: str, part_id: str | None, user: User
) -> Response:
    store = _store(request)
    _service_name(store, service_id)  # 404 for an unknown service
    form = await request.form()
    old: dict[str, Any] = {}
    if part_id is not None:
        with store.session() as session:
            old = part.load(session, service_id, part_id)
    try:
        ops = part.ops(store, service_id, part_id, form, old)
        editing.edit_records(store, ops, actor=user.email)
    except InputError as exc:
        values = {**old, **_form_values(part, form)}
        return _part_form(request, part, service_id, part_id, values,
                          _field_error(exc, part.names), status=422)  # fmt: skip
    return RedirectResponse(f"/edit/services/{service_id}", status_code=303)


for _part in PARTS.values():
    _register(_part)


def service_parts(store: Store, service_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the service edit page lists: live locations, schedules, contacts and cost options."""
    from strengthmap.web.directory import describe_schedule

    with store.session() as session:
        links = select(schema.ServiceAtLocation.id).where(
            schema.ServiceAtLocation.service_id == service_id,
            schema.ServiceAtLocation.retired_at.is_(None),
        )
        locations = session.execute(
            select(schema.Location.id, schema.Location.name)
            .join(schema.ServiceAtLocation, schema.ServiceAtLocation.location_id == schema.Location.id)
            .where(schema.ServiceAtLocation.id.in_(links))
            .order_by(schema.Location.name)
        ).all()  # fmt: skip
        schedules = session.scalars(
            select(schema.Schedule)
            .where(
                or_(schema.Schedule.service_id == service_id,
                    schema.Schedule.service_at_location_id.in_(links)),
                schema.Schedule.retired_at.is_(None),
            )
            .order_by(schema.Schedule.id)
        ).all()  # fmt: skip
        contacts = session.scalars(
            select(schema.Contact)
            .where(schema.Contact.service_id == service_id, schema.Contact.retired_at.is_(None))
            .order_by(schema.Contact.name)
        ).all()
        phones: dict[str, list[str]] = {}
        for contact_id, number in session.execute(
            select(schema.Phone.contact_id, schema.Phone.number)
            .where(
                schema.Phone.contact_id.in_([c.id for c in contacts]),
                schema.Phone.retired_at.is_(None),
            )
            .order_by(schema.Phone.created_at, schema.Phone.id)
        ):
            phones.setdefault(str(contact_id), []).append(number)
        costs = session.scalars(
            select(schema.CostOption)
            .where(schema.CostOption.service_id == service_id, schema.CostOption.retired_at.is_(None))
            .order_by(schema.CostOption.id)
        ).all()  # fmt: skip
        return {
            "locations": [{"id": r.id, "label": r.name or "Unnamed place"} for r in locations],
            "schedules": [
                {
                    "id": s.id,
                    "label": describe_schedule(
                        {
                            "freq": s.freq,
                            "byday": s.byday,
                            "interval": s.interval,
                            "opens_at": s.opens_at,
                            "closes_at": s.closes_at,
                            "description": s.description or s.rrule,
                        }
                    ),
                    "editable": s.service_id == service_id,
                }
                for s in schedules
            ],
            "contacts": [
                {
                    "id": c.id,
                    "label": (c.name or "")
                    + (f", {', '.join(phones[c.id])}" if c.id in phones else "")
                    + (" (private)" if c.private else ""),
                }
                for c in contacts
            ],
            "cost-options": [
                {
                    "id": c.id,
                    "label": (
                        "Free"
                        if c.amount == 0
                        else f"£{c.amount:.2f}"
                        if c.amount is not None
                        else "Cost"
                    )
                    + (f": {c.option}" if c.option else ""),
                }
                for c in costs
            ],
        }


# --- organisations ---------------------------------------------------------------------------


def _org_form(
    request: Request,
    values: dict[str, Any],
    org_id: str | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "edit_part.html",
        {
            "title": f"Edit {values.get('name') or 'organisation'}"
            if org_id
            else "Add an organisation",
            "fields": ORGANIZATION_FIELDS,
            "values": values,
            "errors": errors or {},
            "action": f"/edit/organizations/{org_id}" if org_id else "/edit/organizations",
            "retire_action": f"/edit/organizations/{org_id}/retire" if org_id else None,
            "back": "/edit/organizations",
            "day_codes": DAY_CODES,
            "kinds": ABCD_KINDS,
        },
        status_code=status,
        data_page=False,
    )


@router.get("/organizations", response_class=HTMLResponse, include_in_schema=False)
def organizations(request: Request, user: User = Depends(require_role("editor"))) -> HTMLResponse:
    """The organisations an editor can change."""
    with _store(request).session() as session:
        orgs = session.execute(
            select(schema.Organization.id, schema.Organization.name, schema.Organization.last_verified)
            .where(schema.Organization.retired_at.is_(None))
            .order_by(schema.Organization.name)
        ).all()  # fmt: skip
    return render(request, "edit_organizations.html", {"orgs": orgs}, data_page=False)


@router.get("/organizations/new", response_class=HTMLResponse, include_in_schema=False)
def new_organization_form(
    request: Request, user: User = Depends(require_role("editor"))
) -> HTMLResponse:
    return _org_form(request, {"abcd_kind": "association"}, None)


def _org_values(form: Any) -> dict[str, Any]:
    values = {f.name: _text(form, f.name) for f in ORGANIZATION_FIELDS}
    values["description"] = values["description"] or ""  # a required column in ORUK
    return values


@router.post("/organizations", response_model=None, summary="Add an organisation (editors)")
async def create_organization(
    request: Request, user: User = Depends(require_role("editor"))
) -> Response:
    """Create an organisation (``editing.create_record``); editors only."""
    values = _org_values(await request.form())
    try:
        editing.create_record(_store(request), "organization", values, actor=user.email)
    except InputError as exc:
        return _org_form(request, values, None, _field_error(exc), status=422)
    return RedirectResponse("/edit/organizations", status_code=303)


@router.get("/organizations/{org_id}", response_class=HTMLResponse, include_in_schema=False)
def edit_organization_form(
    request: Request, org_id: str, user: User = Depends(require_role("editor"))
) -> HTMLResponse:
    with _store(request).session() as session:
        row = session.get(schema.Organization, org_id)
        if row is None:
            raise NotFound(f"no organisation with id {org_id}")
        values = {f.name: getattr(row, f.name) for f in ORGANIZATION_FIELDS}
    return _org_form(request, values, org_id)


@router.post(
    "/organizations/{org_id}", response_model=None, summary="Change an organisation (editors)"
)
async def update_organization(
    request: Request, org_id: str, user: User = Depends(require_role("editor"))
) -> Response:
    """Change an organisation (``editing.update_record``); editors only."""
    values = _org_values(await request.form())
    try:
        editing.update_record(_store(request), "organization", org_id, values, actor=user.email)
    except InputError as exc:
        return _org_form(request, values, org_id, _field_error(exc), status=422)
    return RedirectResponse("/edit/organizations", status_code=303)


@router.post("/organizations/{org_id}/retire", response_model=None,
             summary="Retire an organisation (editors)")  # fmt: skip
def retire_organization(
    request: Request, org_id: str, user: User = Depends(require_role("editor"))
) -> Response:
    """Retire an organisation (hidden, never deleted); editors only."""
    editing.retire_record(_store(request), "organization", org_id, actor=user.email)
    return RedirectResponse("/edit/organizations", status_code=303)


__all__ = [
    "CONTACT_FIELDS",
    "COST_FIELDS",
    "LOCATION_FIELDS",
    "ORGANIZATION_FIELDS",
    "PARTS",
    "SCHEDULE_FIELDS",
    "TEXT_KINDS",
    "Field",
    "router",
    "service_parts",
]

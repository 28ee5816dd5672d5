"""Editor forms for the parts of a service (its location with address and accessibility, its
schedules, contacts and cost options) and for organisations. Every change goes through
``strengthmap.directory.editing`` (``edit_records``, ``retire_record``: audited, all or nothing);
nothing here reads or writes a table. Editors and admins only; every form carries the CSRF token. A bad
value is shown beside its field (``aria-invalid`` + ``aria-describedby``), with a summary on top.

Paths: ``/edit/services/{id}/{part}/new`` (form), ``POST /edit/services/{id}/{part}`` (create),
``/edit/services/{id}/{part}/{part_id}`` (form, ``POST`` to update), ``.../retire``; ``part`` is
``locations``, ``schedules``, ``contacts`` or ``cost-options``. Organisations at
``/edit/organizations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strengthmap.accounts import User
from strengthmap.directory import editing
from strengthmap.errors import InputError
from strengthmap.server.deps import get_store, require_role
from strengthmap.storage import Store
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


def _text(form: Any, name: str) -> str | None:
    raw = form.get(name)
    text = str(raw).strip() if raw is not None else ""
    return text or None


def _field_error(exc: InputError, names: dict[str, str] | None = None) -> dict[str, str]:
    field = (names or {}).get(exc.field or "", exc.field or "")
    return {field or "_form": str(exc.message)}


# --- the parts: each form and the part of a service it edits ----------------------------------


@dataclass(frozen=True)
class Part:
    """A part of a service: its URL slug, the ``editing`` entity it edits (``editing.PART_FIELDS``:
    ``read_part`` fills the form, ``save_part`` turns it into ops), its form and title."""

    slug: str
    entity: str
    title: str
    fields: tuple[Field, ...]
    #: library field name -> form field name (for showing an error beside its field)
    names: dict[str, str]


PARTS: dict[str, Part] = {
    p.slug: p
    for p in (
        Part(
            "locations",
            "location",
            "place",
            LOCATION_FIELDS,
            {"postal_code": "postcode", "latitude": "postcode", "longitude": "postcode"},
        ),
        Part(
            "schedules",
            "schedule",
            "time",
            SCHEDULE_FIELDS,
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
            {"number": "phone"},
        ),
        Part(
            "cost-options",
            "cost_option",
            "cost",
            COST_FIELDS,
            {"currency": "amount"},
        ),
    )
}


def _part_form(
    request: Request,
    store: Store,
    part: Part,
    service_id: str,
    part_id: str | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    name = editing.service_name(store, service_id)
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
        request: Request,
        service_id: str,
        user: User = Depends(require_role("editor")),
        store: Store = Depends(get_store),
    ) -> HTMLResponse:
        defaults: dict[str, Any] = {"mode": "weekly", "days": [], "cost": "free", "private": False}
        return _part_form(request, store, part, service_id, None, defaults)

    async def create(
        request: Request,
        service_id: str,
        user: User = Depends(require_role("editor")),
        store: Store = Depends(get_store),
    ) -> Response:
        return await _save(request, store, part, service_id, None, user)

    def edit_form(
        request: Request,
        service_id: str,
        part_id: str,
        user: User = Depends(require_role("editor")),
        store: Store = Depends(get_store),
    ) -> HTMLResponse:
        values = editing.read_part(store, part.entity, service_id, part_id)
        return _part_form(request, store, part, service_id, part_id, values)

    async def update(
        request: Request,
        service_id: str,
        part_id: str,
        user: User = Depends(require_role("editor")),
        store: Store = Depends(get_store),
    ) -> Response:
        return await _save(request, store, part, service_id, part_id, user)

    def retire(
        service_id: str,
        part_id: str,
        user: User = Depends(require_role("editor")),
        store: Store = Depends(get_store),
    ) -> Response:
        editing.retire_part(store, part.entity, service_id, part_id, actor=user.email)
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
    request: Request,
    store: Store,
    part: Part,
    service_id: str,
    part_id: str | None,
    user: User,
) -> Response:
    editing.service_name(store, service_id)  # 404 for an unknown service
    values = _form_values(part, await request.form())
    try:
        editing.save_part(store, part.entity, service_id, part_id, values, actor=user.email)
    except InputError as exc:
        old = editing.read_part(store, part.entity, service_id, part_id) if part_id else {}
        return _part_form(request, store, part, service_id, part_id, {**old, **values},
                          _field_error(exc, part.names), status=422)  # fmt: skip
    return RedirectResponse(f"/edit/services/{service_id}", status_code=303)


for _part in PARTS.values():
    _register(_part)


def service_parts(store: Store, service_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the service edit page lists, by part slug (``editing.service_parts``)."""
    by_entity = editing.service_parts(store, service_id)
    return {slug: by_entity[part.entity] for slug, part in PARTS.items()}


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
def organizations(
    request: Request,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    """The organisations an editor can change."""
    orgs = editing.list_organizations(store)
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
    request: Request,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> Response:
    """Create an organisation (``editing.create_record``); editors only."""
    values = _org_values(await request.form())
    try:
        editing.create_record(store, "organization", values, actor=user.email)
    except InputError as exc:
        return _org_form(request, values, None, _field_error(exc), status=422)
    return RedirectResponse("/edit/organizations", status_code=303)


@router.get("/organizations/{org_id}", response_class=HTMLResponse, include_in_schema=False)
def edit_organization_form(
    request: Request,
    org_id: str,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    names = [f.name for f in ORGANIZATION_FIELDS]
    values = editing.read_record(store, "organization", org_id, names)
    return _org_form(request, values, org_id)


@router.post(
    "/organizations/{org_id}", response_model=None, summary="Change an organisation (editors)"
)
async def update_organization(
    request: Request,
    org_id: str,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> Response:
    """Change an organisation (``editing.update_record``); editors only."""
    values = _org_values(await request.form())
    try:
        editing.update_record(store, "organization", org_id, values, actor=user.email)
    except InputError as exc:
        return _org_form(request, values, org_id, _field_error(exc), status=422)
    return RedirectResponse("/edit/organizations", status_code=303)


@router.post("/organizations/{org_id}/retire", response_model=None,
             summary="Retire an organisation (editors)")  # fmt: skip
def retire_organization(
    org_id: str,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> Response:
    """Retire an organisation (hidden, never deleted); editors only."""
    editing.retire_record(store, "organization", org_id, actor=user.email)
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

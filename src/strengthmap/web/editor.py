"""Editor pages: create, edit and retire services through ``strengthmap.directory.editing``
(every change audited with the editor's email). Editors and admins only; every form carries the
CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strengthmap.accounts import User
from strengthmap.directory import editing
from strengthmap.errors import InputError
from strengthmap.server.deps import get_store, require_role
from strengthmap.storage import Store
from strengthmap.storage.schema.directory import ABCD_KINDS
from strengthmap.web.editor_parts import service_parts
from strengthmap.web.render import render

router = APIRouter(prefix="/edit", tags=["edit"])

#: The service form: (field, label, input type, help).
SERVICE_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("name", "Name", "text", "What people call it."),
    ("description", "Description", "textarea", "What happens, who it is for, what to expect."),
    ("abcd_kind", "Kind of asset", "kind", ""),
    (
        "organization_id",
        "Run by",
        "organization",
        "The organisation (add one under Organisations).",
    ),
    ("status", "Status", "status", ""),
    ("url", "Website", "url", "Starts with https://"),
    ("email", "Public email", "email", ""),
    ("fees", "Cost, in words", "text", "e.g. Free, or £2 for lunch"),
    ("alert", "Alert", "text", "A short notice shown at the top, e.g. closed this week."),
    ("minimum_age", "Youngest age", "number", ""),
    ("maximum_age", "Oldest age", "number", ""),
)
STATUSES = ("active", "inactive", "temporarily closed", "defunct")
_INT_FIELDS = {"minimum_age", "maximum_age"}


async def _values(request: Request) -> dict[str, Any]:
    """The form's service fields: blank -> None, ages -> whole numbers."""
    form = await request.form()
    out: dict[str, Any] = {}
    for name, *_ in SERVICE_FIELDS:
        raw = form.get(name)
        if raw is None:
            continue
        text = str(raw).strip()
        if name in _INT_FIELDS:
            if text and not text.isdigit():
                raise InputError("must be a whole number", field=name)
            out[name] = int(text) if text else None
        else:
            out[name] = text or None
    return out


def _form(
    request: Request,
    store: Store,
    *,
    action: str,
    values: dict[str, Any],
    title: str,
    error: str | None = None,
    status: int = 200,
    service_id: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "edit_service.html",
        {
            "fields": SERVICE_FIELDS,
            "values": values,
            "action": action,
            "title": title,
            "error": error,
            "kinds": ABCD_KINDS,
            "statuses": STATUSES,
            "service_id": service_id,
            "orgs": editing.list_organizations(store),
            "parts": service_parts(store, service_id) if service_id else None,
        },
        status_code=status,
        data_page=False,
    )


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def edit_home(
    request: Request,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    """The services an editor can change."""
    services = editing.list_services(store)
    return render(request, "edit_home.html", {"services": services}, data_page=False)


@router.get("/services/new", response_class=HTMLResponse, include_in_schema=False)
def new_service_form(
    request: Request,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    return _form(
        request,
        store,
        action="/edit/services",
        values={"status": "active", "abcd_kind": "association"},
        title="Add a service",
    )


@router.post("/services", response_model=None)
async def create_service(
    request: Request,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> Response:
    """Create a service (``editing.create_record``); editors only."""
    values = await _values(request)
    try:
        sid = editing.create_record(store, "service", values, actor=user.email)
    except InputError as exc:
        return _form(request, store, action="/edit/services", values=values, title="Add a service",
                     error=str(exc), status=422)  # fmt: skip
    return RedirectResponse(f"/services/{sid}", status_code=303)


@router.get("/services/{service_id}", response_class=HTMLResponse, include_in_schema=False)
def edit_service_form(
    request: Request,
    service_id: str,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    values = editing.read_record(store, "service", service_id, [n for n, *_ in SERVICE_FIELDS])
    return _form(
        request,
        store,
        action=f"/edit/services/{service_id}",
        values=values,
        title=f"Edit {values['name']}",
        service_id=service_id,
    )


@router.post("/services/{service_id}", response_model=None)
async def update_service(
    request: Request,
    service_id: str,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> Response:
    """Change a service's fields (``editing.update_record``); editors only."""
    values = await _values(request)
    try:
        editing.update_record(store, "service", service_id, values, actor=user.email)
    except InputError as exc:
        return _form(request, store, action=f"/edit/services/{service_id}", values=values,
                     title="Edit service", error=str(exc), status=422, service_id=service_id)  # fmt: skip
    return RedirectResponse(f"/services/{service_id}", status_code=303)


@router.post("/services/{service_id}/retire", response_model=None)
def retire_service(
    service_id: str,
    user: User = Depends(require_role("editor")),
    store: Store = Depends(get_store),
) -> Response:
    """Retire a service (hidden from search and the feed, never deleted); editors only."""
    editing.retire_record(store, "service", service_id, actor=user.email)
    return RedirectResponse("/edit", status_code=303)


__all__ = ["SERVICE_FIELDS", "router"]

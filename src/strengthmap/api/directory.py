"""``/api/directory``: search the directory with every filter; create, update, retire and restore records.

Example::

    GET  /api/directory/search?text=lunch&near=LS12%201JD&radius_m=1000&day=wed&from=12:00&to=17:00
    POST /api/directory/services            {"name": "Lunch club", "abcd_kind": "association"}
    PATCH /api/directory/services/{id}      {"description": "Hot lunch"}
    POST /api/directory/services/{id}/retire

Write endpoints need an editor: ``Authorization: Bearer <STRENGTHMAP_API_TOKEN>`` (only when a
token is configured) or a logged-in editor; otherwise 401 (anonymous) or 403.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from strengthmap.accounts import User
from strengthmap.directory import editing
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import InputError
from strengthmap.server.deps import get_store, require_role
from strengthmap.storage import Store

router = APIRouter(prefix="/api/directory", tags=["directory"])
_PLURAL = {"services": "service", "organizations": "organization", "locations": "location"}


@router.get("/search")
def search(
    store: Store = Depends(get_store),
    text: str | None = Query(None, description="Free text, e.g. lunch."),
    taxonomy: list[str] = Query([], description="Term code, name or id (repeatable)."),
    kind: str | None = Query(None, description="ABCD kind, e.g. association."),
    near: str | None = Query(None, description='LON,LAT or a postcode, e.g. "LS12 1BE".'),
    radius_m: float | None = Query(None, description="Within this many metres of near."),
    day: str | None = Query(None, description="mon..sun or YYYY-MM-DD."),
    start_time: str | None = Query(None, alias="from", description="Window start, HH:MM."),
    end_time: str | None = Query(None, alias="to", description="Window end, HH:MM."),
    free: bool | None = Query(None, description="Only free (true) or only paid (false)."),
    age: int | None = Query(None, description="Open to someone of this age."),
    minimum_age: int | None = Query(None, description="ORUK: open to people from this age."),
    maximum_age: int | None = Query(None, description="ORUK: open to people up to this age."),
    area: str | None = Query(None, description="Inside this area (ONS code)."),
    include_retired: bool = Query(False, description="Include retired services."),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=1000),
) -> dict[str, Any]:
    """Services matching every filter given, one page (``search_services``)."""
    query = ServiceQuery.from_params(
        store,
        text=text,
        taxonomy=taxonomy,
        kind=kind,
        near=near,
        radius_m=radius_m,
        day=day,
        start_time=start_time,
        end_time=end_time,
        free=free,
        age=age,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        area=area,
        include_retired=include_retired,
        page=page,
        per_page=per_page,
    )
    return search_services(store, query).to_dict()


def _entity(plural: str) -> str:
    if plural not in _PLURAL:
        raise InputError(f"not one of {', '.join(_PLURAL)}", field="entity")
    return _PLURAL[plural]


@router.post("/{plural}", status_code=201)
def create(
    plural: str,
    values: dict[str, Any] = Body(...),
    store: Store = Depends(get_store),
    user: User = Depends(require_role("editor")),
) -> dict[str, Any]:
    """Create a service, organization or location (``create_record``)."""
    rid = editing.create_record(store, _entity(plural), values, actor=user.email)
    return {"id": rid}


@router.patch("/{plural}/{record_id}")
def update(
    plural: str,
    record_id: str,
    changes: dict[str, Any] = Body(...),
    store: Store = Depends(get_store),
    user: User = Depends(require_role("editor")),
) -> dict[str, Any]:
    """Change fields of a record; answers what changed (``update_record``)."""
    return {
        "id": record_id,
        "changed": editing.update_record(
            store, _entity(plural), record_id, changes, actor=user.email
        ),
    }


@router.post("/{plural}/{record_id}/retire")
def retire(
    plural: str,
    record_id: str,
    store: Store = Depends(get_store),
    user: User = Depends(require_role("editor")),
    reason: str | None = Query(None),
) -> dict[str, Any]:
    """Retire a record: hidden, never deleted (``retire_record``)."""
    editing.retire_record(store, _entity(plural), record_id, actor=user.email, reason=reason)
    return {"id": record_id, "retired": True}


@router.post("/{plural}/{record_id}/restore")
def restore(
    plural: str,
    record_id: str,
    store: Store = Depends(get_store),
    user: User = Depends(require_role("editor")),
) -> dict[str, Any]:
    """Bring a retired record back (``restore_record``)."""
    editing.restore_record(store, _entity(plural), record_id, actor=user.email)
    return {"id": record_id, "retired": False}


@router.get("/{plural}/{record_id}/history")
def history(plural: str, record_id: str, store: Store = Depends(get_store)) -> list[dict[str, Any]]:
    """The audit trail of one record (``history``)."""
    _entity(plural)
    return editing.history(store, record_id)

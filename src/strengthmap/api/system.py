"""Health and what is loaded."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from strengthmap import overview
from strengthmap.server.deps import get_store
from strengthmap.storage import Store

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/health")
async def health(request: Request, store: Store = Depends(get_store)) -> dict[str, Any]:
    """Liveness and the store's backend and schema revision (read from the store once, on the
    first call: a health check every few seconds should not open an Alembic context each time)."""
    state = request.app.state
    revision = getattr(state, "schema_revision", None)
    if revision is None:
        revision = state.schema_revision = await run_in_threadpool(store.current_revision)
    # the answering process, so that a client (or a test) can see the workers share the load
    return {"status": "ok", "backend": store.dialect, "revision": revision, "pid": os.getpid()}


@router.get("/datasets")
def datasets(store: Store = Depends(get_store)) -> list[dict[str, Any]]:
    """Every loaded source file with its publisher, licence, attribution and row count."""
    return [d.to_dict() for d in overview.list_datasets(store)]

"""``/api/areas``: one area's profile (the same record as ``strengthmap areas show --json``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/areas", tags=["areas"])

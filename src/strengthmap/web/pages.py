"""The web pages. Thin: each page calls library functions and renders a template."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from strengthmap.storage import Store, schema

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def mount(app: FastAPI) -> None:
    """Add the pages and /static to ``app``."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        store: Store = request.app.state.store
        with store.session() as session:
            counts = session.execute(
                select(schema.Area.level, schema.Area.vintage, func.count())
                .where(schema.Area.geometry.is_not(None))
                .group_by(schema.Area.level, schema.Area.vintage)
                .order_by(schema.Area.level, schema.Area.vintage)
            ).all()
            datasets = session.scalars(select(schema.Dataset).order_by(schema.Dataset.id)).all()
        return templates.TemplateResponse(
            request, "home.html", {"counts": counts, "datasets": datasets}
        )

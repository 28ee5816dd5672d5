"""Helpers of the browser tests (imported by conftest.py and the tests): constants, the
``Visit`` wrapper with its off-site request guard, axe-core and screenshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from strengthmap.settings import Settings
from strengthmap.storage import Store

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "browser-test-password"
USERS = {
    "editor": "editor@example.org",
    "admin": "admin@example.org",
    "viewer": "viewer@example.org",
}


@dataclass
class LiveServer:
    url: str
    app: Any
    store: Store
    settings: Settings


@dataclass
class Visit:
    """A browser context on the live server that refuses and records off-site requests."""

    context: Any
    page: Any
    base: str
    offsite: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def login(self, role: str) -> None:
        self.goto("/login")
        self.page.fill("#email", USERS[role])
        self.page.fill("#password", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state("networkidle")


def _guard(route: Any, offsite: list[str]) -> None:
    host = urlsplit(route.request.url).hostname
    if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
        route.continue_()
    else:
        offsite.append(route.request.url)
        route.abort()


def open_visit(browser: Any, live_server: LiveServer, viewport: dict[str, int] = DESKTOP) -> Visit:
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    page = context.new_page()
    visit = Visit(context, page, live_server.url)
    context.route("**/*", lambda route: _guard(route, visit.offsite))
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.console_errors.append(str(e)))
    return visit


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (vendored, served from this site) on the page; serious and critical only."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

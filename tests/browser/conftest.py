"""The browser-test harness: the real server on 127.0.0.1 over the Leeds data, driven by Debian's
headless Chromium through Playwright (never ``playwright install``).

One SQLite file is loaded once per session (``load_data_dir`` + the New Wortley example) and the
server runs in a thread with uvicorn on a free port. Every page fixture intercepts requests: any
request to a host other than 127.0.0.1 is aborted and recorded, and the test fails if there was one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserkit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIXTURES,
    PASSWORD,
    ROOT,
    USERS,
    LiveServer,
    Visit,
    open_visit,
)

from strengthmap import accounts
from strengthmap.directory.imports import import_file
from strengthmap.directory.oruk import import_oruk
from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store


def load_examples(store: Store) -> list[str]:
    """Load the directory examples: the New Wortley template CSV of the user guide and our own
    small ORUK fixture. Returns what was loaded."""
    example_csv = ROOT / "docs" / "examples" / "new-wortley-community-centre.csv"
    import_file(store, example_csv)
    for doc in json.loads((FIXTURES / "web_directory.json").read_text()):
        import_oruk(store, doc)
    return [str(example_csv), "tests/fixtures/web_directory.json"]


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Store]:
    """One SQLite file with the Leeds data, the directory examples and three users."""
    from strengthmap.sources import load_data_dir

    path = tmp_path_factory.mktemp("web") / "leeds.sqlite"
    store = open_store(f"sqlite:///{path}")
    load_data_dir(store, data_dir, place="Leeds")
    load_examples(store)
    for role, email in USERS.items():
        accounts.create_user(store, email, password=PASSWORD, role=role, display_name=role.title())
    yield store
    store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(web_store: Store, data_dir: Path) -> Iterator[LiveServer]:
    """uvicorn serving ``create_app`` on 127.0.0.1 and a free port, in a thread."""
    import uvicorn

    from strengthmap.api import create_app

    settings = Settings(database_url=str(web_store.url), data_dir=data_dir)
    app = create_app(settings, store=web_store)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", app, web_store, settings)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/ensure-system.sh)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def visit(browser: Any, live_server: LiveServer) -> Iterator[Visit]:
    """A fresh anonymous browser context at desktop width; fails the test on any off-site request."""
    v = open_visit(browser, live_server)
    yield v
    v.context.close()
    assert v.offsite == [], f"requests left 127.0.0.1: {v.offsite}"

"""The layers hold (docs/architecture.md, "App assembly and layers"), checked by walking the source.

Rules, over every module of ``src/strengthmap``:

1. Domain modules (everything but ``api``, ``web``, ``cli``, ``server`` and ``__main__``) import
   none of ``strengthmap.api`` / ``.web`` / ``.cli`` / ``.server``, FastAPI, Starlette, uvicorn,
   typer, click or a database driver (``sqlite3``, ``psycopg``). ``storage`` may import the
   drivers (it is where backend specifics live), and so may the SQLite / PostgreSQL adapters of
   directory search (``ADAPTERS``).
2. ``api`` and ``web`` never import each other; of ``server`` they import ``server.deps`` only
   (the dependencies), as the assembly (``server.app``) imports them.
3. ``cli`` imports neither ``api`` nor ``web`` (``serve`` goes through ``server.app``).
4. No import cycles between modules at module level.

Every import statement counts for rules 1 to 3, wherever it stands (a function-level import of
FastAPI in a domain module is still a layering fault). For rule 4 an edge A -> B is a *top-level*
import in A that names module B (``import B``, ``from B import x``, or ``from P import B`` for a
submodule B of P): a statement executed when A is imported, in the module body or in an ``if`` /
``try`` / ``with`` / ``class`` body there, but not inside a function and not under
``if TYPE_CHECKING:``. Importing ``a.b.c`` is an edge to ``a.b.c`` only, not to the packages
``a`` and ``a.b`` whose ``__init__`` Python runs first: a package's ``__init__`` importing its own
submodules is how packages are built, not a cycle. A cycle is a strongly connected component of
more than one module (or a module importing itself).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "strengthmap"

#: Packages outside the domain: the thin layers and the app assembly.
LAYERS = ("api", "web", "cli", "server")
#: What no domain module imports (besides the layers themselves).
FORBIDDEN_LIBRARIES = ("fastapi", "starlette", "uvicorn", "typer", "click")
#: Database drivers: only the storage package and the backend adapters (``ADAPTERS``) use them.
DRIVERS = ("sqlite3", "psycopg", "psycopg2")
#: Domain modules allowed to use a driver besides ``storage`` and the backend adapters of the
#: directory search package (``directory/search/sqlite*.py``, ``directory/search/postgres*.py``).
ADAPTERS: tuple[str, ...] = ()
ADAPTER_PACKAGE = "directory.search"
ADAPTER_PREFIXES = ("sqlite", "postgres")
#: Imports allowed by name, each with its reason: (importer, imported) relative to the package.
ALLOWED = {
    # strengthmap.api.create_app stays importable for its callers: a lazy re-export of the
    # assembly, imported only under TYPE_CHECKING (for the type checker)
    ("api", "server.app"),
}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as seen from the importing module."""

    importer: str
    target: str
    line: int
    top_level: bool


def modules(root: Path, package: str) -> dict[str, Path]:
    """{dotted module name: file} of every module of the package at ``root``."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(body: list[ast.stmt], top_level: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement with whether it runs at import time (see the module's docstring)."""
    for node in body:
        yield node, top_level
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _statements(node.body, False)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(node.body, False)
            yield from _statements(node.orelse, top_level)
        else:
            for name in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, name, None)
                if isinstance(children, list):
                    stmts = [c for c in children if isinstance(c, ast.stmt)]
                    for handler in children:
                        if isinstance(handler, ast.ExceptHandler):
                            stmts.extend(handler.body)
                    yield from _statements(stmts, top_level)


def imports(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """The imports of module ``name`` (its file ``path``); ``known`` resolves submodules."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[Import] = []
    for node, top in _statements(tree.body, True):
        if isinstance(node, ast.Import):
            out += [Import(name, alias.name, node.lineno, top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append(Import(name, sub if sub in known else base, node.lineno, top))
    return out


def _resolve(target: str, known: dict[str, Path]) -> str | None:
    """The package module that ``target`` names (its longest known prefix), if any."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or of a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def import_graph(root: Path, package: str, *, top_level_only: bool = True) -> dict[str, set[str]]:
    """{module: the package modules it imports} (top-level imports only, by default)."""
    known = modules(root, package)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for imp in imports(name, path, known):
            target = _resolve(imp.target, known)
            if target is not None and (imp.top_level or not top_level_only):
                graph[name].add(target)
    return graph


def _layer(name: str, package: str) -> str:
    rest = name[len(package) + 1 :] if name != package else ""
    first = rest.split(".")[0]
    if first == "__main__":
        return "cli"
    return first if first in LAYERS else "domain"


def _driver_allowed(name: str, package: str) -> bool:
    rest = name[len(package) + 1 :]
    if _within(rest, "storage") or rest in ADAPTERS:
        return True
    leaf = rest.rpartition(".")[2]
    return _within(rest, ADAPTER_PACKAGE) and leaf.startswith(ADAPTER_PREFIXES)


def layering_faults(root: Path, package: str) -> list[str]:
    """Every broken rule, one line each (``importer:line imports target: why``); empty if none."""
    known = modules(root, package)
    faults: list[str] = []
    for name, path in known.items():
        layer = _layer(name, package)
        for imp in imports(name, path, known):
            target = imp.target
            inside = _within(target, package)
            rel = (name[len(package) + 1 :], target[len(package) + 1 :]) if inside else None
            if rel is not None and any(_within(rel[1], t) and rel[0] == i for i, t in ALLOWED):
                continue
            where = f"{name}:{imp.line} imports {target}"
            target_layer = _layer(target, package) if inside else None
            if layer == "domain":
                if target_layer in LAYERS:
                    faults.append(f"{where}: a domain module imports the {target_layer} layer")
                elif not inside and target.split(".")[0] in FORBIDDEN_LIBRARIES:
                    faults.append(f"{where}: a domain module imports a web or CLI framework")
                elif (
                    not inside
                    and target.split(".")[0] in DRIVERS
                    and not _driver_allowed(name, package)
                ):
                    faults.append(f"{where}: a database driver outside storage/ and the adapters")
            elif layer in ("api", "web"):
                other = "web" if layer == "api" else "api"
                if target_layer == other:
                    faults.append(f"{where}: {layer}/ and {other}/ never import each other")
                elif target_layer == "server" and not _within(target, f"{package}.server.deps"):
                    faults.append(f"{where}: {layer}/ imports only server.deps of the server")
            elif layer == "cli" and target_layer in ("api", "web"):
                faults.append(f"{where}: the CLI reaches the app through server.app only")
    for component in cycles(import_graph(root, package)):
        faults.append("import cycle: " + " -> ".join(component))
    return faults


# --- the project --------------------------------------------------------------------------------


def test_the_layers_hold() -> None:
    assert layering_faults(SRC, "strengthmap") == []


def test_no_import_cycles_at_module_level() -> None:
    assert cycles(import_graph(SRC, "strengthmap")) == []


def test_api_and_web_take_the_store_as_a_dependency_and_do_not_query() -> None:
    """Handlers call library functions: no SQL, no session, no ``app.state.store`` of their own."""
    found = []
    for layer in ("api", "web"):
        for path in sorted((SRC / layer).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for needle in ("select(", ".session()", "state.store", "sqlalchemy"):
                if needle in text:
                    found.append(f"{path.relative_to(SRC)}: {needle}")
    assert found == []


def test_the_checker_sees_the_real_package() -> None:
    """A guard against a checker that passes because it reads nothing."""
    graph = import_graph(SRC, "strengthmap")
    assert "strengthmap.server.app" in graph
    assert "strengthmap.api.openreferral" in graph["strengthmap.server.app"]
    assert "strengthmap.server.deps" in graph["strengthmap.api.directory"]
    assert len(graph) > 80


# --- the checker itself, on a small fake package ------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    """``fakepkg``: a domain module importing FastAPI, another sqlite3, an api module importing
    the web layer, a two-module cycle at top level, and two cycles that do not count (inside a
    function; under TYPE_CHECKING)."""
    return _write(
        tmp_path / "fakepkg",
        {
            "__init__.py": "",
            "errors.py": "class Oops(Exception): ...\n",
            "domain.py": "from fastapi import Request\n\nfrom fakepkg.errors import Oops\n",
            "raw.py": "def connect():\n    import sqlite3\n    return sqlite3.connect(':memory:')\n",
            "storage/__init__.py": "import sqlite3\n",
            "a.py": "from fakepkg import b\n",
            "b.py": "try:\n    import fakepkg.a\nexcept ImportError:\n    pass\n",
            "lazy1.py": "def f():\n    from fakepkg import lazy2\n",
            "lazy2.py": "import fakepkg.lazy1\n",
            "typed1.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from fakepkg import typed2\n",
            "typed2.py": "from fakepkg import typed1\n",
            "api/__init__.py": "",
            "api/things.py": "from fakepkg.web.pages import render\nfrom fakepkg.server.deps import x\n",
            "api/other.py": "from fakepkg.server.app import create_app\n",
            "web/__init__.py": "",
            "web/pages.py": "from .. import domain\n\ndef render(): ...\n",
            "server/__init__.py": "",
            "server/deps.py": "x = 1\n",
            "server/app.py": "from fakepkg.api import things\nfrom fakepkg.web import pages\n",
        },
    )


def test_the_checker_reports_a_forbidden_import_and_a_cycle(fake: Path) -> None:
    faults = layering_faults(fake, "fakepkg")
    assert "fakepkg.domain:1 imports fastapi: a domain module imports a web or CLI framework" in (
        faults
    )
    assert (
        "fakepkg.raw:2 imports sqlite3: a database driver outside storage/ and the adapters"
        in faults
    )
    assert (
        "fakepkg.api.things:1 imports fakepkg.web.pages: api/ and web/ never import each other"
        in faults
    )
    assert (
        "fakepkg.api.other:1 imports fakepkg.server.app: api/ imports only server.deps of the server"
        in faults
    )
    assert "import cycle: fakepkg.a -> fakepkg.b" in faults
    # nothing else: storage may use the driver, api may use server.deps, web may use the domain,
    # and imports inside functions or under TYPE_CHECKING make no cycle
    assert len(faults) == 5, faults


def test_the_checker_resolves_relative_and_submodule_imports(fake: Path) -> None:
    known = modules(fake, "fakepkg")
    assert {i.target for i in imports("fakepkg.web.pages", known["fakepkg.web.pages"], known)} == {
        "fakepkg.domain"
    }
    graph = import_graph(fake, "fakepkg")
    assert graph["fakepkg.a"] == {"fakepkg.b"} and graph["fakepkg.b"] == {"fakepkg.a"}
    assert graph["fakepkg.lazy1"] == set() and graph["fakepkg.typed1"] == set()
    everything = import_graph(fake, "fakepkg", top_level_only=False)
    assert cycles(everything) == [
        ["fakepkg.a", "fakepkg.b"],
        ["fakepkg.lazy1", "fakepkg.lazy2"],
        ["fakepkg.typed1", "fakepkg.typed2"],
    ]


def test_a_driver_is_allowed_in_the_search_adapters_only() -> None:
    assert _driver_allowed("strengthmap.storage.bulk", "strengthmap")
    assert _driver_allowed("strengthmap.directory.search.sqlite", "strengthmap")
    assert _driver_allowed("strengthmap.directory.search.postgres_rank", "strengthmap")
    assert not _driver_allowed("strengthmap.directory.candidates", "strengthmap")
    assert not _driver_allowed("strengthmap.directory.search.query", "strengthmap")
    assert not _driver_allowed("strengthmap.directory.sqlite_tools", "strengthmap")
    assert not _driver_allowed("strengthmap.maps", "strengthmap")

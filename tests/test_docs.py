"""The reference docs are generated from the code and complete; the README's two commands exist."""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import pkgutil
import re
import tomllib
from pathlib import Path

import pytest

import strengthmap
from strengthmap.cli.reference import cli_reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference_markdown(), (
        "docs/cli.md is stale: run make docs"
    )


def test_readme_quick_start_is_two_make_targets() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README has no Quick start code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


PUBLIC_API = [
    "AreaIndex", "ConfigError", "Conflict", "Forbidden", "InputError", "NotFound",
    "ServiceQuery", "Settings", "Store", "StrengthmapError", "__version__", "access_to_assets",
    "allocate_budget", "area_profile", "contrasts", "create_app", "export", "health_gap",
    "import_file", "import_oruk", "life_table", "load_data_dir", "need_strength", "neighbours",
    "open_store", "profile_route", "resolve_postcode",
    "route_chart", "search_services", "validate_oruk",
]  # fmt: skip


def test_public_api_is_pinned_sorted_and_importable() -> None:
    """A change to the public API is a deliberate edit of this list too."""
    names = strengthmap.__all__
    assert list(names) == sorted(names)
    assert list(names) == PUBLIC_API
    for name in names:
        value = getattr(strengthmap, name)
        assert value is not None, name
        if callable(value) and name[0].islower():
            assert value.__doc__, f"{name} has no docstring"


def test_one_version_number_from_the_package_metadata(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pyproject.toml is the one place the version is written; the package, the CLI and the app
    read it from the installed metadata."""
    from strengthmap.api import create_app
    from strengthmap.cli import main

    version = importlib.metadata.version("strengthmap")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == version == strengthmap.__version__
    assert create_app(strengthmap.Settings(database_url="sqlite://")).version == version
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"strengthmap {version}\n"
    written = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "src").rglob("*.py"))
        if f'"{version}"' in path.read_text()
    ]
    assert written == [], "the version is written out here too"


def test_the_package_ships_its_type_marker() -> None:
    """PEP 561: ``py.typed`` is in the package and in its package data, so installed copies
    are type-checked against our annotations."""
    assert (ROOT / "src" / "strengthmap" / "py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["strengthmap"]


def test_docs_link_targets_exist() -> None:
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+?\.md)\)", md.read_text()):
            if target.startswith("http"):
                continue
            assert (md.parent / target).exists(), f"{md.name} links to missing {target}"


def _package_modules() -> list[str]:
    """Every module of the package whose docstrings may hold examples (migrations are Alembic's
    scripts; ``__main__`` runs the CLI)."""
    return [
        info.name
        for info in pkgutil.walk_packages(strengthmap.__path__, "strengthmap.")
        if ".migrations" not in info.name and not info.name.endswith("__main__")
    ]


MODULES = _package_modules()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Every example in the module's docstrings runs and prints what it says (an example that
    needs the real data directory is marked ``+SKIP``; tests/test_sources_*.py check the same
    figures on the real files)."""
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    assert not runner.failures, "".join(report)


def test_the_docstring_examples_are_there() -> None:
    """The examples run above exist in number (a broken walk of the package would find none)."""
    examples = sum(
        len(test.examples)
        for name in MODULES
        for test in doctest.DocTestFinder().find(importlib.import_module(name), name)
    )
    assert len(MODULES) > 50 and examples > 100

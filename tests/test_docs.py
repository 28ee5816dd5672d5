"""The reference docs are generated from the code and complete; the README's two commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import strengthmap
from strengthmap.cli.reference import cli_reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference_markdown(), (
        "docs/cli.md is stale: run python scripts/gen_cli_docs.py"
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


def test_public_api_is_sorted_and_importable() -> None:
    names = strengthmap.__all__
    assert list(names) == sorted(names)
    for name in names:
        assert hasattr(strengthmap, name), name


def test_docs_link_targets_exist() -> None:
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+?\.md)\)", md.read_text()):
            if target.startswith("http"):
                continue
            assert (md.parent / target).exists(), f"{md.name} links to missing {target}"

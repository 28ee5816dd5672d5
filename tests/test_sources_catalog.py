"""The data catalog is the dispatch table of ``load_data_dir``: each entry's kind reads, checks
and writes its file, and the place comes from the caller (``Settings.place``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

import strengthmap.sources as sources
from strengthmap.sources._common import SourceFile
from strengthmap.sources.catalog import (
    CATALOG,
    CatalogEntry,
    ReadContext,
    SourceKind,
)
from strengthmap.storage import Store, schema


def test_every_entry_has_a_kind_that_reads_checks_and_writes() -> None:
    kinds = {e.kind.name for e in CATALOG}
    assert kinds == {"boundaries", "lookup", "imd2019", "imd2025", "life_expectancy",
                     "population", "postcodes"}  # fmt: skip
    for e in CATALOG:
        assert callable(e.kind.read) and callable(e.kind.write), e.id
        assert e.publisher and e.attribution and e.url.startswith("https://"), e.id
    # the groups that hold cross-check files have a check that compares them
    for e in CATALOG:
        if e.role == "crosscheck":
            assert e.kind.check is not None, e.id


def test_load_data_dir_dispatches_through_the_catalog(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, ...]] = []

    def read(path: Path, ctx: ReadContext) -> SourceFile:
        calls.append(("read", path.name, ctx.dataset, ctx.place))
        return SourceFile(ctx.dataset, str(path), f"sha-of-{path.name}", 3)

    def write(session: Session, files: Sequence[SourceFile]) -> dict[str, int]:
        calls.append(("write", [f.dataset for f in files]))
        return {files[0].dataset: 2}

    def check(primaries: Sequence[SourceFile], crosschecks: Sequence[SourceFile]) -> None:
        calls.append(("check", [f.dataset for f in primaries], [f.dataset for f in crosschecks]))

    kind = SourceKind("test", read, write, "A publisher", "An attribution", "https://x.test/",
                      check=check)  # fmt: skip
    entries = (
        CatalogEntry("t_main", "t/main.csv", "Main", kind, "upstream", "t", england_wide=True),
        CatalogEntry("t_extract", "t/extract.csv", "Extract", kind, "upstream", "t",
                     role="crosscheck"),
    )  # fmt: skip
    monkeypatch.setattr(sources, "CATALOG", entries)
    (tmp_path / "t").mkdir()
    for name in ("main.csv", "extract.csv"):
        (tmp_path / "t" / name).write_text("x\n")
    reports = sources.load_data_dir(sqlite_store, tmp_path, place="Bradford")
    # read (the place only for the England-wide file), checked as a group, then written
    assert calls == [
        ("read", "main.csv", "t_main", "Bradford"),
        ("read", "extract.csv", "t_extract", None),
        ("check", ["t_main"], ["t_extract"]),
        ("write", ["t_main"]),
    ]
    assert [(r.dataset, r.rows_read, r.rows_written) for r in reports] == [
        ("t_main", 3, 2),
        ("t_extract", 3, 0),
    ]
    with sqlite_store.session() as s:
        scopes = {d.id: d.scope for d in s.query(schema.Dataset)}
    assert scopes == {"t_main": "Bradford", "t_extract": "as published"}
    # loading again: the same files (checksum and scope) are skipped, nothing written
    calls.clear()
    again = sources.load_data_dir(sqlite_store, tmp_path, place="Bradford")
    assert all(r.skipped_unchanged for r in again)
    assert [c[0] for c in calls] == ["read", "read", "check"]

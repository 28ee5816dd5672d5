"""The in-memory candidate sets of SQLite search: same answers as SQL alone, and never stale.

Services are generated here (a seeded mix of names, terms, places, several locations per service,
retired services, places, links and tags), and every query is asked twice: with the candidate
sets (the default) and with ``prefilter=False`` (every filter in SQL). Writes made by another
process with plain ``sqlite3`` (no Strengthmap code, so only the database's own triggers can
notice them) must show in the very next search.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from datetime import date
from pathlib import Path

import pytest

from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.directory.search import sqlite_candidates as candidates
from strengthmap.storage import Store, open_store, schema

CENTRE = (-1.5754, 53.7902)
WORDS = ["lunch", "club", "advice", "walk", "choir", "garden", "toddler", "cafe", "money", "art"]
CODES = ["food", "social", "money", "walking"]
TODAY = date(2025, 6, 2)


def _populate(store: Store, n: int = 600, seed: int = 3) -> dict[str, str]:
    """``n`` services around CENTRE; returns the term codes -> ids."""
    rng = random.Random(seed)
    with store.transaction() as s:
        parent = schema.TaxonomyTerm(code="wellbeing", name="Wellbeing")
        s.add(parent)
        s.flush()
        terms = {}
        for code in CODES:
            t = schema.TaxonomyTerm(code=code, name=code.title(), parent_id=parent.id)
            s.add(t)
            s.flush()
            terms[code] = t.id
        for i in range(n):
            words = rng.sample(WORDS, 2)
            svc = schema.Service(
                name=f"{words[0].title()} {words[1]} {i}", description=f"A {rng.choice(WORDS)}"
            )
            if rng.random() < 0.05:
                svc.retired_at = schema.base.utcnow()
            s.add(svc)
            s.flush()
            for _ in range(rng.choice((0, 1, 1, 1, 2))):
                loc = schema.Location(
                    name=f"Place {i}",
                    longitude=CENTRE[0] + rng.uniform(-0.03, 0.03),
                    latitude=CENTRE[1] + rng.uniform(-0.02, 0.02),
                )
                if rng.random() < 0.05:
                    loc.retired_at = schema.base.utcnow()
                s.add(loc)
                s.flush()
                link = schema.ServiceAtLocation(service_id=svc.id, location_id=loc.id)
                if rng.random() < 0.05:
                    link.retired_at = schema.base.utcnow()
                s.add(link)
            for code in rng.sample(CODES, rng.choice((0, 1, 2))):
                attr = schema.Attribute(
                    link_id=svc.id, link_type="service", taxonomy_term_id=terms[code]
                )
                if rng.random() < 0.1:
                    attr.retired_at = schema.base.utcnow()
                s.add(attr)
            s.add(
                schema.Schedule(
                    service_id=svc.id,
                    freq="WEEKLY",
                    byday=rng.choice(["MO", "WE", "FR"]),
                    opens_at="12:00",
                    closes_at="14:00",
                )
            )
    return terms


def _queries(seed: int = 11, n: int = 120) -> list[ServiceQuery]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kw: dict[str, object] = {"per_page": 1000, "today": TODAY}
        if rng.random() < 0.6:
            kw["text"] = " ".join(rng.sample(WORDS, rng.choice((1, 1, 2))))
        if rng.random() < 0.5:
            kw["taxonomy_term_ids"] = [rng.choice([*CODES, "wellbeing"])]
        if rng.random() < 0.6:
            kw["near"] = (
                CENTRE[0] + rng.uniform(-0.02, 0.02),
                CENTRE[1] + rng.uniform(-0.015, 0.015),
            )
            kw["radius_m"] = rng.choice((100, 400, 1000, 3000))
        if rng.random() < 0.3:
            kw.update(day="wed", start_time="12:30", end_time="13:00")
        if rng.random() < 0.1:
            kw["include_retired"] = True
        out.append(ServiceQuery(**kw))  # type: ignore[arg-type]  # filters drawn above
    return out


def _answer(store: Store, query: ServiceQuery, prefilter: bool = True) -> list[tuple[object, ...]]:
    page = search_services(store, query, prefilter=prefilter)
    assert page.total == len(page.items)
    return [(h.service_id, h.distance_m, h.score, h.location_id) for h in page.items]


def test_candidate_sets_answer_exactly_as_sql(sqlite_store: Store) -> None:
    _populate(sqlite_store)
    with sqlite_store.session() as session:
        assert candidates.available(session)
    nonempty = 0
    for query in _queries():
        fast = _answer(sqlite_store, query)
        assert fast == _answer(sqlite_store, query, prefilter=False), query
        nonempty += bool(fast)
    assert nonempty > 40  # the queries are not all empty
    # pages: a text search ranked by the kept scores reads only its page's places; its pages
    # are slices of the whole answer, on both paths
    for text in ("lunch", "club advice", "garden"):
        whole = _answer(sqlite_store, ServiceQuery(text=text, per_page=1000))
        assert len(whole) > 14
        for prefilter in (True, False):
            for page in (1, 2, 3):
                got = search_services(
                    sqlite_store,
                    ServiceQuery(text=text, page=page, per_page=7),
                    prefilter=prefilter,
                )
                assert got.total == len(whole)
                rows = [(h.service_id, h.distance_m, h.score, h.location_id) for h in got.items]
                assert rows == whole[(page - 1) * 7 : page * 7], (text, page, prefilter)


def _version(path: Path) -> int:
    with sqlite3.connect(path) as con:
        return int(con.execute("SELECT n FROM directory_version").fetchone()[0])


def _in_other_process(path: Path, sql: str, *params: object) -> None:
    """Run one write with plain sqlite3 in a separate Python process."""
    code = textwrap.dedent(
        """
        import json, sqlite3, sys
        con = sqlite3.connect(sys.argv[1])
        con.execute(sys.argv[2], json.loads(sys.argv[3]))
        con.commit()
        """
    )
    import json

    subprocess.run(
        [sys.executable, "-c", code, str(path), sql, json.dumps(list(params))], check=True
    )


def test_writes_by_another_process_show_in_the_next_search(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        terms = _populate(store, n=200)
        near = {"near": CENTRE, "radius_m": 1000.0, "per_page": 1000}
        query = ServiceQuery(text="zebra", **near)  # type: ignore[arg-type]
        assert _answer(store, query) == []
        with store.session() as s:  # a live service with a live place near the centre
            hit = search_services(store, ServiceQuery(near=CENTRE, radius_m=300)).items[0]
            rowid = (
                s.connection()
                .exec_driver_sql("SELECT rowid FROM service WHERE id = ?", (hit.service_id,))
                .scalar_one()
            )
        before = _version(path)

        # renamed by another process: the text set follows
        _in_other_process(
            path, "UPDATE service SET name = 'Zebra crossing club' WHERE rowid = ?", rowid
        )
        assert _version(path) > before
        assert [r[0] for r in _answer(store, query)] == [hit.service_id]

        # tagged, then the tag retired
        attr_id = str(uuid.uuid4())
        _in_other_process(
            path,
            "INSERT INTO attribute (id, link_id, link_type, taxonomy_term_id, created_at, "
            "updated_at) VALUES (?, ?, 'service', ?, '2025-01-01', '2025-01-01')",
            attr_id, hit.service_id, terms["walking"],
        )  # fmt: skip
        tagged = ServiceQuery(text="zebra", taxonomy_term_ids=["walking"], **near)  # type: ignore[arg-type]
        assert [r[0] for r in _answer(store, tagged)] == [hit.service_id]
        _in_other_process(
            path, "UPDATE attribute SET retired_at = '2025-02-01' WHERE id = ?", attr_id
        )
        assert _answer(store, tagged) == []

        # moved far away: the box set follows; then its link retired
        _in_other_process(
            path,
            "UPDATE location SET longitude = -1.40, latitude = 53.90 WHERE id = ?",
            hit.location_id,
        )
        assert _answer(store, query) == []
        far = ServiceQuery(text="zebra", near=(-1.40, 53.90), radius_m=50)
        assert [r[0] for r in _answer(store, far)] == [hit.service_id]
        _in_other_process(
            path,
            "UPDATE service_at_location SET retired_at = '2025-02-01' WHERE location_id = ?",
            hit.location_id,
        )
        assert _answer(store, far) == []
        for q in _queries(n=30):  # and everything else still agrees with SQL
            assert _answer(store, q) == _answer(store, q, prefilter=False)
    finally:
        store.close()


def test_only_directory_writes_that_commit_move_the_version(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        _populate(store, n=50)
        _answer(store, ServiceQuery(text="lunch", near=CENTRE, radius_m=2000))
        v = _version(path)
        with pytest.raises(RuntimeError), store.transaction() as s:
            s.add(schema.Service(name="Lunch that never was"))
            s.flush()
            raise RuntimeError("roll back")
        assert _version(path) == v
        with store.transaction() as s:  # not a table the candidate sets read
            s.add(schema.Area(code="E01099999", name="Test", level="lsoa", vintage=2021))
        assert _version(path) == v
        with store.transaction() as s:
            s.add(schema.Service(name="Lunch that is"))
        assert _version(path) == v + 1
    finally:
        store.close()


def test_an_older_schema_answers_in_sql(tmp_path: Path) -> None:
    """A store at migration 0003 (no version counter) is still searched, in SQL alone."""
    path = tmp_path / "old.sqlite"
    store = open_store(f"sqlite:///{path}", upgrade=False)
    try:
        store.upgrade("0003")
        _populate(store, n=80)
        with store.session() as session:
            assert not candidates.available(session)
            with pytest.raises(RuntimeError, match="db upgrade"):
                candidates.narrow(session, box=(-2, 53, -1, 54))
        for q in _queries(n=20):
            assert _answer(store, q) == _answer(store, q, prefilter=False)
    finally:
        store.close()


def test_retired_tags_do_not_match(store: Store) -> None:
    """On both backends and both paths: a retired attribute no longer tags its service."""
    _populate(store, n=0)
    with store.transaction() as s:
        food = s.query(schema.TaxonomyTerm).filter_by(code="food").one()
        svc = schema.Service(name="Soup kitchen")
        s.add(svc)
        s.flush()
        attr = schema.Attribute(link_id=svc.id, link_type="service", taxonomy_term_id=food.id)
        s.add(attr)
        s.flush()
        attr_id = attr.id
    q = ServiceQuery(taxonomy_term_ids=["food"], text="soup")
    assert len(search_services(store, q).items) == 1
    with store.transaction() as s:
        s.get(schema.Attribute, attr_id).retired_at = schema.base.utcnow()  # type: ignore[union-attr]  # added above
    for prefilter in (True, False):
        assert search_services(store, q, prefilter=prefilter).items == []


def test_kept_sets_stay_within_their_memory_budget(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Least recently used sets are dropped beyond the byte budget; answers are unchanged."""
    _populate(sqlite_store, n=300)
    monkeypatch.setattr(candidates, "MAX_BYTES", 2_000)
    for word in WORDS:
        query = ServiceQuery(text=word, per_page=1000)
        assert _answer(sqlite_store, query) == _answer(sqlite_store, query, prefilter=False)
    sets = candidates._SETS[sqlite_store.engine]
    assert 0 < sets.bytes <= 2_000 or len(sets.keyed) == 1
    assert sets.bytes == sum(candidates._nbytes(v) for v in sets.keyed.values())
    assert len(sets.keyed) < 2 * len(WORDS) + 1  # some were dropped


def test_text_pages_ranked_by_the_database_or_the_kept_scores_equal_the_full_answer(
    store: Store,
) -> None:
    """A text search with no place or time filter is ranked and paged without reading every
    match's places (SQLite: the kept scores; PostgreSQL: ORDER BY ts_rank in SQL); its pages
    are exactly the pages of the full answer, on both backends, with other filters too."""
    _populate(store, n=400)
    for text, extra in (
        ("lunch", {}),
        ("club", {"include_retired": True}),
        ("garden walk", {"age": 30}),
    ):
        kw = {k: v for k, v in extra.items() if v is not None}
        whole = _answer(store, ServiceQuery(text=text, per_page=1000, **kw), prefilter=False)  # type: ignore[arg-type]
        assert len(whole) > 10 or text == "garden walk"
        for page in (1, 2, 4):
            got = search_services(store, ServiceQuery(text=text, page=page, per_page=6, **kw))  # type: ignore[arg-type]
            assert got.total == len(whole)
            rows = [(h.service_id, h.distance_m, h.score, h.location_id) for h in got.items]
            assert rows == whole[(page - 1) * 6 : page * 6], (store.dialect, text, page)

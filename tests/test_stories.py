"""Stories: telling with consent and precision, the personal-data check, moderation, withdrawal,
reading and search on both backends, exports and the Atom feed, the rate limit, and crawls of
every library output for what an anonymous reader must never see."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from strengthmap.directory.editing import edit_records
from strengthmap.errors import (
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from strengthmap.storage import Store, schema
from strengthmap.stories import (
    REDACTED,
    WITHDRAWN_REASON,
    PersonalDataFound,
    PlaceInput,
    StoreSubmissionLimiter,
    StoryDraft,
    StoryQuery,
    StoryView,
    TokenNotValid,
    TokenUsed,
    Tombstone,
    TooManyStories,
    Viewer,
    add_story,
    add_theme,
    approve_story,
    atom_feed,
    check_story,
    export_stories,
    find_personal_data,
    get_story,
    honeypot_tripped,
    list_stories,
    list_themes,
    moderation_policy,
    moderation_queue,
    paragraphs,
    redact_story,
    redaction_history,
    reject_story,
    remove_personal_data,
    render_paragraphs,
    request_changes,
    retire_theme,
    revise_with_token,
    search_stories,
    set_moderation_policy,
    snap_to_street,
    story_counts,
    story_for_token,
    story_history,
    story_map,
    withdraw_story,
    withdraw_with_token,
)
from strengthmap.stories.places import STREET_CELL_M
from strengthmap.stories.text import neutralise_csv_cell

ANON = Viewer()
VIEWER = Viewer("viewer", "viewer@example.org")
EDITOR = Viewer("editor", "editor@example.org")
ADMIN = Viewer("admin", "admin@example.org")
ROLES = {"anonymous": ANON, "viewer": VIEWER, "editor": EDITOR, "admin": ADMIN}

LSOA_A = "E01000001"
LSOA_B = "E01000002"
WARD = "E05000001"
LAD = "E08000035"
BOX_A = box(-1.60, 53.79, -1.58, 53.80)
BOX_B = box(-1.58, 53.79, -1.56, 53.80)
IN_A = (-1.5912, 53.7953)  # the postcode LS12 1BE of the fixture
IN_B = (-1.5700, 53.7950)  # the service's location
OUTSIDE = (-1.40, 53.85)


@dataclass
class World:
    store: Store
    service_id: str
    location_id: str


def _area(code: str, name: str, level: str, vintage: int, geom: Any) -> schema.Area:
    minx, miny, maxx, maxy = geom.bounds
    return schema.Area(
        code=code, name=name, level=level, vintage=vintage, lad_code=LAD, geometry=geom,
        min_lon=minx, min_lat=miny, max_lon=maxx, max_lat=maxy,
    )  # fmt: skip


@pytest.fixture
def world(store: Store) -> World:
    """Two LSOAs in one ward, three postcodes (inside, outside, without a point) and a service."""
    with store.transaction() as s:
        a = _area(LSOA_A, "Leeds 001A", "lsoa", 2011, BOX_A)
        b = _area(LSOA_B, "Leeds 001B", "lsoa", 2011, BOX_B)
        ward = _area(WARD, "Armley", "ward", 2022, box(-1.60, 53.79, -1.56, 53.80))
        s.add_all([a, b, ward])
        s.flush()
        s.add_all(
            [
                schema.AreaLink(child_id=a.id, parent_id=ward.id, relation="parent"),
                schema.AreaLink(child_id=b.id, parent_id=ward.id, relation="parent"),
                schema.Postcode(postcode="LS12 1BE", pcd7="LS121BE", lon=IN_A[0], lat=IN_A[1]),
                schema.Postcode(postcode="YO1 7HH", pcd7="YO1 7HH", lon=OUTSIDE[0], lat=OUTSIDE[1]),
                schema.Postcode(postcode="LS1 1AA", pcd7="LS1 1AA", lon=None, lat=None),
            ]
        )
    service_id, location_id, _ = edit_records(
        store,
        [
            ("create", "service", {"name": "Community lunch"}),
            ("create", "location", {"name": "Hall", "longitude": IN_B[0], "latitude": IN_B[1]}),
            ("create", "service_at_location", {"service_id": "$0", "location_id": "$1"}),
        ],
        actor="test",
    )
    return World(store, service_id, location_id)


def _counts(store: Store) -> dict[str, int]:
    tables = ["story", "story_link", "audit_entry", "story_redaction", "story_submission"]
    with store.session() as s:
        return {t: int(s.scalar(sa.text(f"SELECT count(*) FROM {t}")) or 0) for t in tables}


def _draft(text: str, **kw: Any) -> StoryDraft:
    return StoryDraft(text=text, **kw)


# --- telling -------------------------------------------------------------------------------------


def test_add_returns_the_contract_and_keeps_only_the_tokens_hash(world: World) -> None:
    store = world.store
    added = add_story(store, _draft("The lunch club got me through winter.", consent="public"))
    body = added.to_dict()
    assert {"id", "status", "withdraw_token"} <= set(body)
    assert body["status"] == "pending" and added.number == 1
    with store.session() as s:
        row = s.get(schema.Story, added.id)
        assert row is not None
        assert row.withdraw_token_hash == hashlib.sha256(added.withdraw_token.encode()).hexdigest()
        stored = json.dumps(
            [getattr(row, c.name) for c in schema.Story.__table__.columns], default=str
        )
    assert added.withdraw_token not in stored
    # the token never shows again, to anyone
    for viewer in (ANON, EDITOR, ADMIN):
        if viewer is ANON:
            continue
        assert added.withdraw_token not in json.dumps(
            get_story(store, added.id, viewer=viewer).to_dict()
        )


@pytest.mark.parametrize(
    ("viewer", "consent", "status"),
    [
        (ANON, "public", "pending"),
        (ANON, "private", "pending"),
        (VIEWER, "internal", "pending"),
        (EDITOR, "private", "approved"),
        (EDITOR, "internal", "approved"),
        (EDITOR, "public", "pending"),
        (ADMIN, "public", "pending"),
    ],
)
def test_status_when_added(world: World, viewer: Viewer, consent: str, status: str) -> None:
    added = add_story(world.store, _draft("A story.", consent=consent), viewer=viewer)
    assert added.status == status
    view = get_story(world.store, added.id, viewer=EDITOR)
    assert isinstance(view, StoryView)
    assert view.teller is not None
    assert view.teller.consent_method == ("verbal" if viewer.is_team else "form")


BAD_DRAFTS: list[tuple[str, StoryDraft, str]] = [
    ("empty", StoryDraft(""), "text"),
    ("blank", StoryDraft(" \n\t "), "text"),
    ("too long", StoryDraft("x" * 20_001), "text"),
    ("control character", StoryDraft("bell \x07 here"), "text"),
    ("NUL", StoryDraft("nul \x00 here"), "text"),
    ("unknown consent", StoryDraft("ok", consent="everyone"), "consent"),
    ("unknown age band", StoryDraft("ok", age_band="old"), "age_band"),
    ("unknown relation", StoryDraft("ok", relation="neighbour"), "relation"),
    ("unknown theme", StoryDraft("ok", themes=("weather",)), "theme"),
    ("two places", StoryDraft("ok", place=PlaceInput(postcode="LS12 1BE", area=LSOA_A)), "place"),
    (
        "bad precision",
        StoryDraft("ok", place=PlaceInput(area=LSOA_A, precision="house")),
        "precision",
    ),
    ("not a postcode", StoryDraft("ok", place=PlaceInput(postcode="LS12")), "postcode"),
    ("unknown postcode", StoryDraft("ok", place=PlaceInput(postcode="LS13 9ZZ")), "postcode"),
    ("postcode outside", StoryDraft("ok", place=PlaceInput(postcode="YO1 7HH")), "postcode"),
    (
        "postcode without a point",
        StoryDraft("ok", place=PlaceInput(postcode="LS1 1AA")),
        "postcode",
    ),
    ("point outside", StoryDraft("ok", place=PlaceInput(lonlat=OUTSIDE)), "point"),
    ("lat/lon swapped", StoryDraft("ok", place=PlaceInput(lonlat=(53.79, -1.59))), "lonlat"),
    ("unknown area", StoryDraft("ok", place=PlaceInput(area="E01999999")), "area"),
    ("unknown service", StoryDraft("ok", place=PlaceInput(service="nope")), "service"),
    ("title too long", StoryDraft("ok", title="t" * 301), "title"),
]


@pytest.mark.parametrize(("case", "draft", "field"), BAD_DRAFTS, ids=[c[0] for c in BAD_DRAFTS])
def test_bad_input_is_a_clear_error_and_writes_nothing(
    world: World, case: str, draft: StoryDraft, field: str
) -> None:
    before = _counts(world.store)
    with pytest.raises(InputError) as err:
        add_story(world.store, draft, viewer=EDITOR)
    assert err.value.field == field, str(err.value)
    assert err.value.exit_code == 2
    assert _counts(world.store) == before
    check = check_story(world.store, draft)
    assert not check.ok and check.faults[0].path == field


def test_several_faults_are_listed_together(world: World) -> None:
    with pytest.raises(ValidationFailed) as err:
        add_story(world.store, StoryDraft("", consent="everyone", relation="neighbour"))
    assert {f.path for f in err.value.faults} == {"text", "consent", "relation"}


SCRIPTS = [
    "ہمارے محلے کی لائبریری ہر جمعرات کو کھلتی ہے۔ شکریہ!",  # Urdu
    "Świetlica w Armley: zajęcia dla dzieci, łąka i ogród — dziękuję!",  # Polish
    "المكتبة في حيّنا مكانٌ دافئ في الشتاء 🌙",  # Arabic
    "Family 👨‍👩‍👧‍👦, flags 🏴󠁧󠁢󠁥󠁮󠁧󠁿 and skin tones 👋🏽",  # emoji sequences
    "Cafe\u0301 (combining accent), NBSP\u00a0here, tabs\tand\r\nWindows line ends\r\n",
    "  leading and trailing spaces kept  ",
]


@pytest.mark.parametrize("text", SCRIPTS)
def test_text_in_any_script_round_trips_byte_for_byte(world: World, text: str) -> None:
    store = world.store
    added = add_story(store, _draft(text, title=text[:40], consent="public"), viewer=EDITOR)
    approve_story(store, added.id, viewer=EDITOR)
    view = get_story(store, added.id, viewer=ANON)
    assert isinstance(view, StoryView)
    assert view.text.encode("utf-8") == text.encode("utf-8")
    assert (view.title or "").encode("utf-8") == text[:40].encode("utf-8")
    with store.session() as s:
        raw = s.scalar(sa.text("SELECT text FROM story WHERE id = :i"), {"i": added.id})
    assert raw.encode("utf-8") == text.encode("utf-8")
    exported = json.loads(export_stories(store, "json", viewer=ADMIN))["stories"][0]["text"]
    assert exported.encode("utf-8") == text.encode("utf-8")
    entry = ET.fromstring(atom_feed(store, base_url="https://x.example")).find(
        "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content"
    )
    assert entry is not None and entry.text is not None
    # XML turns CR LF into LF (XML 1.0 section 2.11); everything else arrives unchanged
    assert entry.text == text.replace("\r\n", "\n")
    cell = next(csv.DictReader(io.StringIO(export_stories(store, "csv", viewer=ADMIN))))["text"]
    assert cell == text


# --- place and precision -------------------------------------------------------------------------


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[1] - b[1]) * 111_195
    dlon = (a[0] - b[0]) * 111_195 * math.cos(math.radians(a[1]))
    return math.hypot(dlat, dlon)


def test_snap_to_street_is_a_fixed_grid_within_the_cell() -> None:
    for lon, lat in [(-1.5912, 53.7953), (-1.5478, 53.7965), (0.0001, 51.4779), (-3.19, 55.95)]:
        snapped = snap_to_street(lon, lat)
        assert _metres((lon, lat), snapped) <= STREET_CELL_M / math.sqrt(2) + 1
        assert snap_to_street(*snapped) == snapped  # a cell centre stays put
    # two doorsteps 20 m apart in one cell give the same point
    assert snap_to_street(-1.59120, 53.79530) == snap_to_street(-1.59100, 53.79540)


@pytest.mark.parametrize(
    ("place", "precision", "kind"),
    [
        (PlaceInput(postcode="ls121be", precision="exact"), "exact", "postcode"),
        (PlaceInput(postcode="LS12 1BE"), "street", "postcode"),
        (PlaceInput(lonlat=IN_A, precision="area"), "area", "point"),
        (PlaceInput(area=LSOA_A), "area", "area"),
    ],
)
def test_place_is_kept_only_to_the_chosen_precision(
    world: World, place: PlaceInput, precision: str, kind: str
) -> None:
    store = world.store
    added = add_story(store, _draft("Here.", place=place, consent="public"), viewer=EDITOR)
    approve_story(store, added.id, viewer=EDITOR)
    with store.session() as s:
        row = s.get(schema.Story, added.id)
        assert row is not None and row.lon is not None and row.lat is not None
        stored = (row.lon, row.lat)
        assert row.place_precision == precision and row.place_kind == kind
    if precision == "exact":
        assert stored == IN_A
    elif precision == "street":
        assert stored == snap_to_street(*IN_A) and stored != IN_A
    else:  # the LSOA's representative point: nothing closer to the teller is kept anywhere
        assert BOX_A.contains(Point(stored)) and stored != IN_A
        assert stored == (
            round(BOX_A.representative_point().x, 6),
            round(BOX_A.representative_point().y, 6),
        )
    view = get_story(store, added.id, viewer=ADMIN)
    assert isinstance(view, StoryView) and view.place is not None
    assert (view.place.lon, view.place.lat) == stored  # staff see no more than the public
    assert {a.code for a in view.place.areas} == {LSOA_A, WARD, LAD}
    assert view.place.label == "Armley"
    feature = story_map(store).to_dict()["features"][0]
    assert tuple(feature["geometry"]["coordinates"]) == stored
    assert feature["properties"]["precision"] == precision


def test_a_story_about_an_asset(world: World) -> None:
    store = world.store
    added = add_story(
        store, _draft("Lunch here.", place=PlaceInput(service=world.service_id), consent="public")
    )
    approve_story(store, added.id, viewer=EDITOR)
    view = get_story(store, added.id)
    assert isinstance(view, StoryView) and view.place is not None
    assert (view.place.lon, view.place.lat) == IN_B and view.place.precision == "exact"
    assert {(a.kind, a.id, a.name) for a in view.assets} == {
        ("service", world.service_id, "Community lunch"),
        ("location", world.location_id, "Hall"),
    }
    assert {a.code for a in view.place.areas} == {LSOA_B, WARD, LAD}
    for asset in (world.service_id, world.location_id):
        assert [s.id for s in list_stories(store, StoryQuery(asset=asset)).items] == [added.id]


# --- visibility ----------------------------------------------------------------------------------

STATES = ["pending", "approved", "rejected", "needs_changes", "withdrawn"]


def _story_in_state(store: Store, consent: str, state: str, marker: str) -> str:
    added = add_story(
        store,
        _draft(f"{marker} story text", title=f"{marker} title", consent=consent,
               themes=("whats-strong",), place=PlaceInput(postcode="LS12 1BE"),
               age_band="75-plus", relation="used-to-live-here"),
    )  # fmt: skip
    if state == "approved":
        approve_story(store, added.id, viewer=EDITOR)
    elif state == "rejected":
        reject_story(store, added.id, f"{marker} reason", viewer=EDITOR)
    elif state == "needs_changes":
        request_changes(store, added.id, f"{marker} note", viewer=EDITOR)
    elif state == "withdrawn":
        approve_story(store, added.id, viewer=EDITOR)
        redact_story(store, added.id, 0, len(marker), viewer=EDITOR, reason=f"{marker} why")
        withdraw_with_token(store, added.withdraw_token)
    return added.id


def _expected(role: str, consent: str, state: str) -> bool:
    if state == "withdrawn":
        return False
    if role in ("editor", "admin"):
        return True
    if state != "approved":
        return False
    return consent == "public" or (consent == "internal" and role == "viewer")


@pytest.fixture
def every_kind(world: World) -> dict[tuple[str, str], tuple[str, str]]:
    """One story of each consent in each state: (consent, state) -> (id, marker word)."""
    out = {}
    for consent in ("private", "internal", "public"):
        for state in STATES:
            marker = f"zq{consent[:3]}{state.replace('_', '')}"
            out[(consent, state)] = (_story_in_state(world.store, consent, state, marker), marker)
    return out


@pytest.mark.parametrize("role", list(ROLES))
def test_visibility_by_role_and_state(
    world: World, every_kind: dict[tuple[str, str], tuple[str, str]], role: str
) -> None:
    store, viewer = world.store, ROLES[role]
    listed = {s.id for s in list_stories(store, StoryQuery(per_page=100), viewer=viewer).items}
    expected = {sid for (c, st), (sid, _) in every_kind.items() if _expected(role, c, st)}
    assert listed == expected
    for (consent, state), (sid, marker) in every_kind.items():
        if _expected(role, consent, state):
            view = get_story(store, sid, viewer=viewer)
            assert isinstance(view, StoryView) and marker in view.text
            assert search_stories(store, marker, viewer=viewer).total == 1
            assert (view.teller is not None) is viewer.is_team
            assert (view.moderation is not None) is viewer.is_team
        elif state == "withdrawn" and (viewer.is_team or consent == "public"):
            assert isinstance(get_story(store, sid, viewer=viewer), Tombstone)
        else:
            with pytest.raises(NotFound):
                get_story(store, sid, viewer=viewer)
        if state == "withdrawn" or not _expected(role, consent, state):
            assert search_stories(store, marker, viewer=viewer).total == 0


@pytest.mark.parametrize(
    ("viewer", "query"),
    [
        (ANON, StoryQuery(status="pending")),
        (VIEWER, StoryQuery(status="rejected")),
        (VIEWER, StoryQuery(status="withdrawn")),
        (ANON, StoryQuery(consent="internal")),
        (VIEWER, StoryQuery(consent="private")),
    ],
)
def test_asking_for_what_one_may_not_see_is_forbidden(
    world: World, viewer: Viewer, query: StoryQuery
) -> None:
    with pytest.raises(Forbidden):
        list_stories(world.store, query, viewer=viewer)


def test_a_viewer_cannot_moderate_and_nothing_is_written(world: World) -> None:
    store = world.store
    added = add_story(store, _draft("Please approve me.", consent="public"))
    before = _counts(store)
    for act in (
        lambda: approve_story(store, added.id, viewer=VIEWER),
        lambda: reject_story(store, added.id, "no", viewer=VIEWER),
        lambda: request_changes(store, added.id, "shorter", viewer=ANON),
        lambda: redact_story(store, added.id, 0, 5, viewer=VIEWER),
        lambda: withdraw_story(store, added.id, viewer=VIEWER),
        lambda: moderation_queue(store, viewer=VIEWER),
    ):
        with pytest.raises(Forbidden):
            act()
    assert _counts(store) == before
    assert get_story(store, added.id, viewer=EDITOR).status == "pending"


# --- the crawl -----------------------------------------------------------------------------------


def _crawl(store: Store, viewer: Viewer, words: list[str]) -> str:
    """Every output of the library a ``viewer`` can ask for, as one text."""
    out: list[str] = []
    page = 1
    while True:
        result = list_stories(store, StoryQuery(page=page, per_page=5), viewer=viewer)
        out.append(json.dumps(result.to_dict(), ensure_ascii=False))
        if page >= result.total_pages:
            break
        page += 1
    for word in words:
        out.append(
            json.dumps(search_stories(store, word, viewer=viewer).to_dict(), ensure_ascii=False)
        )
    for query in (StoryQuery(), StoryQuery(area=WARD), StoryQuery(themes=("whats-strong",))):
        out.append(json.dumps(story_map(store, query, viewer=viewer).to_dict(), ensure_ascii=False))
    for level in ("lsoa", "ward"):
        out.append(json.dumps(story_counts(store, viewer=viewer, level=level).to_dict()))
    out.append(atom_feed(store, base_url="https://x.example"))
    with store.session() as s:
        ids = list(s.scalars(sa.select(schema.Story.id)))
    for sid in ids:
        try:
            view = get_story(store, sid, viewer=viewer)
        except NotFound:
            continue
        out.append(json.dumps(view.to_dict(), ensure_ascii=False))
        if isinstance(view, StoryView):
            out.append(str(render_paragraphs(view.text)))
    if viewer.is_staff:
        for fmt in ("csv", "json"):
            out.append(export_stories(store, fmt, viewer=viewer))
    else:
        with pytest.raises(Unauthorized):
            export_stories(store, "csv", viewer=viewer)
    if viewer.is_team:
        out.append(json.dumps([v.to_dict() for v in moderation_queue(store, viewer=viewer)]))
        for sid in ids:
            out.append(json.dumps(story_history(store, sid, viewer=viewer)))
    if viewer.at_least("admin"):
        for sid in ids:
            out.append(
                json.dumps([r.to_dict() for r in redaction_history(store, sid, viewer=viewer)])
            )
    return "\n".join(out).lower()


@pytest.mark.parametrize("role", list(ROLES))
def test_crawl_every_output_for_text_the_viewer_must_not_see(
    world: World, every_kind: dict[tuple[str, str], tuple[str, str]], role: str
) -> None:
    viewer = ROLES[role]
    markers = [m for _, m in every_kind.values()]
    text = _crawl(world.store, viewer, markers)
    for (consent, state), (_, marker) in every_kind.items():
        if _expected(role, consent, state):
            assert marker in text, (consent, state)
        else:
            assert marker not in text, (role, consent, state)
    # what the teller said of themselves: for editors and admins only, never in an export
    assert ("used-to-live-here" in text) is viewer.is_team
    if viewer.is_staff:
        for fmt in ("csv", "json"):
            exported = export_stories(world.store, fmt, viewer=viewer)
            assert "used-to-live-here" not in exported and "75-plus" not in exported


def test_withdrawal_leaves_nothing_of_the_words_in_the_store(
    world: World, every_kind: dict[tuple[str, str], tuple[str, str]]
) -> None:
    store = world.store
    gone = [(sid, m) for (c, st), (sid, m) in every_kind.items() if st == "withdrawn"]
    with store.session() as s:
        for sid, marker in gone:
            row = s.get(schema.Story, sid)
            assert row is not None
            columns = json.dumps(
                [getattr(row, c.name) for c in schema.Story.__table__.columns], default=str
            )
            assert marker not in columns
            assert row.audience == "none" and row.withdrawn_reason == WITHDRAWN_REASON
            assert s.scalar(sa.select(sa.func.count()).where(schema.StoryLink.story_id == sid)) == 0
            redactions = s.scalars(
                sa.select(schema.StoryRedaction).where(schema.StoryRedaction.story_id == sid)
            ).all()
            assert len(redactions) == 1
            assert redactions[0].removed_text is None and redactions[0].reason is None
        trail = json.dumps([e.changes for e in s.scalars(sa.select(schema.AuditEntry))])
    for _, marker in gone:
        assert marker not in trail
    # the full-text index no longer holds the words
    for _, marker in gone:
        with store.session() as s:
            if store.dialect == "sqlite":
                hits = s.scalar(
                    sa.text("SELECT count(*) FROM story_fts WHERE story_fts MATCH :q"),
                    {"q": marker},
                )
            else:
                hits = s.scalar(
                    sa.text(
                        "SELECT count(*) FROM story WHERE story_fts_vector @@ "
                        "plainto_tsquery('english', :q)"
                    ),
                    {"q": marker},
                )
        assert hits == 0
    # an admin sees when and where a passage was redacted, nothing of it
    record = redaction_history(store, gone[0][0], viewer=ADMIN)[0]
    assert record.purged and record.removed_text is None and record.start == 0


def test_withdrawal_removes_a_story_from_search_at_once(world: World) -> None:
    store = world.store
    added = add_story(store, _draft("The allotment gardens feed families.", consent="public"))
    approve_story(store, added.id, viewer=EDITOR)
    assert search_stories(store, "garden").total == 1  # stemmed: gardens
    assert search_stories(store, "allotment", viewer=ADMIN).total == 1
    withdraw_with_token(store, added.withdraw_token)
    for viewer in ROLES.values():
        assert search_stories(store, "garden", viewer=viewer).total == 0
        assert list_stories(store, viewer=viewer).total == 0
    feed = atom_feed(store, base_url="https://x.example")
    assert "allotment" not in feed.lower()
    assert f'ref="urn:uuid:{added.id}"' in feed  # RFC 6721 tombstone for readers' copies
    tomb = get_story(store, added.id)
    assert isinstance(tomb, Tombstone) and tomb.to_dict()["reason"] == "withdrawn by the teller"
    assert set(tomb.to_dict()) == {"id", "number", "status", "withdrawn_at", "reason"}


def test_tokens_wrong_or_used_are_clear_errors_and_write_nothing(world: World) -> None:
    store = world.store
    added = add_story(store, _draft("Mine to take back.", consent="internal"))
    before = _counts(store)
    for bad in ("", "x" * 43, added.withdraw_token[:-1], added.withdraw_token + "x"):
        with pytest.raises(TokenNotValid) as err:
            withdraw_with_token(store, bad)
        assert err.value.exit_code == 2 and err.value.http_status == 404
    assert _counts(store) == before
    withdraw_with_token(store, added.withdraw_token)
    after = _counts(store)
    with pytest.raises(TokenUsed) as used:
        withdraw_with_token(store, added.withdraw_token)
    assert used.value.http_status == 410
    with pytest.raises(TokenUsed):
        revise_with_token(store, added.withdraw_token, text="again")
    assert _counts(store) == after
    assert story_for_token(store, added.withdraw_token).status == "withdrawn"
    with pytest.raises(Conflict):
        withdraw_story(store, added.id, viewer=EDITOR)
    with pytest.raises(Conflict):
        approve_story(store, added.id, viewer=EDITOR)


def test_staff_withdraw_at_the_tellers_request(world: World) -> None:
    store = world.store
    added = add_story(store, _draft("Told to me at the cafe.", consent="public"), viewer=EDITOR)
    approve_story(store, added.id, viewer=EDITOR)
    tomb = withdraw_story(store, added.number, viewer=EDITOR)
    assert tomb.reason == WITHDRAWN_REASON
    assert [e["action"] for e in story_history(store, added.id, viewer=EDITOR)] == [
        "create", "approve", "withdraw",
    ]  # fmt: skip
    with pytest.raises(TokenUsed):
        withdraw_with_token(store, added.withdraw_token)


# --- moderation ----------------------------------------------------------------------------------


def test_moderation_flow_with_the_tellers_link(world: World) -> None:
    store = world.store
    added = add_story(store, _draft("Our park needs lights. Call 07700 900123 to help.", consent="public"), allow_personal_data=True)  # fmt: skip
    queue = moderation_queue(store, viewer=EDITOR)
    assert [v.id for v in queue] == [added.id]
    assert queue[0].moderation is not None
    assert [m.kind for m in queue[0].moderation.personal_data] == ["phone"]
    request_changes(store, added.id, "Please leave out the phone number.", viewer=EDITOR)
    teller = story_for_token(store, added.withdraw_token)
    assert teller.status == "needs_changes" and teller.can_revise
    assert teller.note == "Please leave out the phone number."
    assert moderation_queue(store, viewer=EDITOR) == []
    revised = revise_with_token(store, added.withdraw_token, text="Our park needs lights.")
    assert revised.status == "pending"
    assert list_stories(store).total == 0
    set_moderation_policy(store, "Be kind. No names.", viewer=ADMIN)
    approved = approve_story(store, added.id, viewer=EDITOR)
    assert approved.moderation is not None and approved.moderation.policy_version == 1
    assert [s.id for s in list_stories(store).items] == [added.id]
    assert approve_story(store, added.id, viewer=EDITOR).status == "approved"  # idempotent
    with pytest.raises(Conflict):
        revise_with_token(store, added.withdraw_token, text="changed after approval")
    actions = [e["action"] for e in story_history(store, added.id, viewer=EDITOR)]
    assert actions == ["create", "request_changes", "revise", "approve"]
    rejected = add_story(store, _draft("Spam spam spam.", consent="public"))
    with pytest.raises(InputError):
        reject_story(store, rejected.id, "  ", viewer=EDITOR)
    reject_story(store, rejected.id, "Advertising.", viewer=EDITOR)
    assert story_for_token(store, rejected.withdraw_token).note == "Advertising."
    assert [v.id for v in moderation_queue(store, viewer=EDITOR, status="rejected")] == [
        rejected.id
    ]


def test_redaction_is_kept_for_admins_only(world: World) -> None:
    store = world.store
    text = "Thanks to Mrs Khan for the lunch club."
    added = add_story(store, _draft(text, consent="public"), allow_personal_data=True)
    start = text.index("Mrs Khan")
    view = redact_story(store, added.id, start, start + 8, viewer=EDITOR, reason="a name")
    assert view.text == f"Thanks to {REDACTED} for the lunch club."
    approve_story(store, added.id, viewer=EDITOR)
    assert "Khan" not in json.dumps(get_story(store, added.id, viewer=ANON).to_dict())
    assert "Khan" not in json.dumps(story_history(store, added.id, viewer=EDITOR))
    with pytest.raises(Forbidden):
        redaction_history(store, added.id, viewer=EDITOR)
    [record] = redaction_history(store, added.id, viewer=ADMIN)
    assert (record.removed_text, record.start, record.end, record.actor) == (
        "Mrs Khan", start, start + 8, EDITOR.actor,
    )  # fmt: skip
    assert search_stories(store, "Khan", viewer=ADMIN).total == 0
    before = _counts(store)
    for bad in ((5, 5), (-1, 3), (0, 999)):
        with pytest.raises(InputError):
            redact_story(store, added.id, *bad, viewer=EDITOR)
    assert _counts(store) == before


# --- reading -------------------------------------------------------------------------------------


def test_filters_by_theme_area_asset_and_date(world: World) -> None:
    store = world.store
    a = add_story(store, _draft("Strong here.", themes=("whats-strong",), place=PlaceInput(postcode="LS12 1BE"), consent="public"))  # fmt: skip
    b = add_story(store, _draft("An idea for the hall.", themes=("An idea",), place=PlaceInput(service=world.service_id), consent="public"))  # fmt: skip
    c = add_story(store, _draft("No place, hard times.", themes=("WHAT’S HARD",), consent="public"))
    for s in (a, b, c):
        approve_story(store, s.id, viewer=EDITOR)

    def ids(**kw: Any) -> set[str]:
        return {s.id for s in list_stories(store, StoryQuery(**kw)).items}

    assert ids(themes=("whats-strong",)) == {a.id}
    assert ids(themes=("whats-strong", "idea")) == {a.id, b.id}
    assert ids(themes=("What’s strong here",)) == {a.id}  # a label names the theme too
    with pytest.raises(InputError, match="unknown theme"):
        list_stories(store, StoryQuery(themes=("weather",)))
    assert ids(area=LSOA_A) == {a.id}
    assert ids(area=WARD.lower()) == {a.id, b.id}
    assert ids(area=LAD) == {a.id, b.id}
    assert ids(asset=world.service_id) == {b.id}
    today = datetime.now(UTC).date()
    assert ids(since=today, until=today) == {a.id, b.id, c.id}
    assert ids(until=today - timedelta(days=1)) == set()
    for missing in ("9" * 30, "#999", "not-an-id"):
        with pytest.raises(NotFound):
            get_story(store, missing)
    assert ids(text="hall idea") == {b.id}
    assert [s.id for s in list_stories(store).items] == [c.id, b.id, a.id]  # newest first
    assert story_map(store).total == 2  # c has no point


def test_counts_per_area_and_theme(world: World) -> None:
    store = world.store
    for place, theme in [
        (PlaceInput(postcode="LS12 1BE"), "whats-strong"),
        (PlaceInput(lonlat=IN_A), "whats-hard"),
        (PlaceInput(lonlat=IN_B), "whats-strong"),
        (PlaceInput(), "idea"),
    ]:
        s = add_story(store, _draft("x", place=place, themes=(theme,), consent="public"))
        approve_story(store, s.id, viewer=EDITOR)
    add_story(
        store, _draft("pending, not counted", place=PlaceInput(lonlat=IN_A), consent="public")
    )
    lsoa = story_counts(store, level="lsoa")
    assert lsoa.total == 4 and lsoa.without_area == 1
    assert {(c.area_code, c.n) for c in lsoa.by_area} == {(LSOA_A, 2), (LSOA_B, 1)}
    assert {(c.area_code, c.theme, c.n) for c in lsoa.by_area_and_theme} == {
        (LSOA_A, "whats-strong", 1), (LSOA_A, "whats-hard", 1), (LSOA_B, "whats-strong", 1),
    }  # fmt: skip
    ward = story_counts(store, level="ward")
    assert ward.vintage == 2022 and [(c.area_name, c.n) for c in ward.by_area] == [("Armley", 3)]
    assert {(c.theme, c.n) for c in ward.by_theme} == {
        ("whats-strong", 2),
        ("whats-hard", 1),
        ("idea", 1),
    }
    with pytest.raises(InputError):
        story_counts(store, level="street")


def test_themes_are_managed_by_staff(world: World) -> None:
    store = world.store
    with pytest.raises(Forbidden):
        add_theme(store, "food", "Food", viewer=VIEWER)
    add_theme(store, "food", "Food and growing", viewer=EDITOR)
    with pytest.raises(Conflict):
        add_theme(store, "food", "Again", viewer=EDITOR)
    with pytest.raises(InputError):
        add_theme(store, "Bad Slug!", "Bad", viewer=EDITOR)
    s = add_story(store, _draft("Seeds.", themes=("food",), consent="public"))
    retire_theme(store, "food", viewer=EDITOR)
    retire_theme(store, "idea", viewer=EDITOR)
    assert "food" not in {t.slug for t in list_themes(store)}
    assert {t.slug for t in list_themes(store, include_retired=True)} >= {"food", "idea"}
    with pytest.raises(InputError, match="retired theme"):
        add_story(store, _draft("More seeds.", themes=("food",)))
    view = get_story(store, s.id, viewer=EDITOR)
    assert isinstance(view, StoryView) and [t.label for t in view.themes] == ["Food and growing"]
    assert list_stories(store, StoryQuery(themes=("food",)), viewer=EDITOR).total == 1  # retired
    retire_theme(store, "food", viewer=EDITOR, retired=False)
    add_story(store, _draft("More seeds.", themes=("food",)))


def test_policy_is_a_versioned_setting(world: World) -> None:
    store = world.store
    default = moderation_policy(store)
    assert default.version == 0 and "withdraw" in default.text
    with pytest.raises(Forbidden):
        set_moderation_policy(store, "Mine now.", viewer=EDITOR)
    set_moderation_policy(store, "Version one.", viewer=ADMIN)
    set_moderation_policy(store, "Version two.", viewer=ADMIN)
    assert (moderation_policy(store).version, moderation_policy(store).text) == (2, "Version two.")


def test_numbers_are_unique_under_concurrent_writers(world: World) -> None:
    store = world.store
    errors: list[BaseException] = []

    def tell(i: int) -> None:
        try:
            for j in range(8):
                add_story(store, _draft(f"writer {i} story {j}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=tell, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as s:
        numbers = list(s.scalars(sa.select(schema.Story.number)))
    assert sorted(numbers) == list(range(1, 25))


# --- exports and the feed ------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def test_atom_feed_is_valid_atom_1_0(world: World) -> None:
    store = world.store
    xss = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    for text, title in [(xss, "A title <b>bold</b>"), ("Second story.", None)]:
        s = add_story(store, _draft(text, title=title, themes=("idea",), consent="public"))
        approve_story(store, s.id, viewer=EDITOR)
    add_story(store, _draft("Pending, not in the feed.", consent="public"))
    body = atom_feed(store, base_url="https://strengthmap.example/")
    feed = ET.fromstring(body)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author/" + ATOM + "name"):
        assert feed.find(ATOM + required) is not None, required
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == "https://strengthmap.example/stories/feed.atom"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "content", "link"):
            assert entry.find(ATOM + required) is not None, required
        assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated", "").replace("Z", "+00:00"))
        assert entry.find(f"{ATOM}content").get("type") == "text"  # type: ignore[union-attr]
        assert entry.find(f"{ATOM}category").get("term") == "idea"  # type: ignore[union-attr]
    # the payload is character data, never markup
    contents = [e.findtext(f"{ATOM}content") for e in entries]
    assert xss in contents
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "Pending" not in body


def test_csv_export_neutralises_formulas(world: World) -> None:
    store = world.store
    payloads = ['=HYPERLINK("http://evil.example","x")', "+1 good", "-2 bad", "@SUM(A1)", "\tTab"]
    for p in payloads:
        s = add_story(store, _draft(p, title=p, consent="internal"), viewer=EDITOR)
        assert s.status == "approved"
    body = export_stories(store, "csv", viewer=VIEWER)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["text"] for r in rows} == {"'" + p for p in payloads}
    assert {r["title"] for r in rows} == {"'" + p for p in payloads}
    assert all(r["consent"] == "internal" for r in rows)
    with pytest.raises(Unauthorized):
        export_stories(store, "json", viewer=ANON)
    with pytest.raises(InputError):
        export_stories(store, "xlsx", viewer=ADMIN)
    assert neutralise_csv_cell("fine") == "fine"


# --- safety --------------------------------------------------------------------------------------


def test_rate_limit_per_address_counted_in_the_store(world: World) -> None:
    store = world.store
    limiter = StoreSubmissionLimiter(store, max_posts=2, window_s=3600, secret_key="k")
    for _ in range(2):
        add_story(
            store, _draft("From the library computer."), limiter=limiter, address="203.0.113.9"
        )
    before = _counts(store)
    with pytest.raises(TooManyStories) as err:
        add_story(store, _draft("One more."), limiter=limiter, address="203.0.113.9")
    assert err.value.http_status == 429
    assert _counts(store) == before
    add_story(store, _draft("Another address."), limiter=limiter, address="198.51.100.7")
    add_story(store, _draft("An editor at an event."), viewer=EDITOR, limiter=limiter, address="203.0.113.9")  # fmt: skip
    assert limiter.blocked("203.0.113.9")
    assert not limiter.blocked("203.0.113.9", now=datetime.now(UTC) + timedelta(hours=1, seconds=1))
    with store.session() as s:
        hashes = list(s.scalars(sa.select(schema.StorySubmission.key_hash)))
    assert len(hashes) == 3 and "203.0.113.9" not in "".join(hashes)
    # a second limiter on the same store (another worker) shares the count
    assert StoreSubmissionLimiter(store, max_posts=2, secret_key="k").blocked("203.0.113.9")


def test_honeypot() -> None:
    assert not honeypot_tripped(None) and not honeypot_tripped("") and not honeypot_tripped("  ")
    assert honeypot_tripped("https://buy.example")


def test_personal_data_is_refused_with_positions_unless_kept(world: World) -> None:
    store = world.store
    text = "Ask Dr Patel or email me at jo@example.org"
    before = _counts(store)
    with pytest.raises(PersonalDataFound) as err:
        add_story(store, _draft(text, title="From LS12 1BE"))
    assert _counts(store) == before
    found = [
        (m.kind, m.field, text[m.start : m.end] if m.field == "text" else m.text)
        for m in err.value.matches
    ]
    assert found == [("name", "text", "Dr Patel"), ("email", "text", "jo@example.org"), ("postcode", "title", "LS12 1BE")]  # fmt: skip
    assert err.value.to_dict()["personal_data"][0]["start"] == text.index("Dr Patel")
    cleaned = remove_personal_data(text, [m for m in err.value.matches if m.field == "text"])
    assert cleaned == "Ask [removed] or email me at [removed]"
    added = add_story(store, _draft(cleaned))
    assert added.personal_data == ()
    kept = add_story(store, _draft(text), allow_personal_data=True)
    assert [m.kind for m in kept.personal_data] == ["name", "email"]


PII_CASES = [
    ("Mrs Khan runs it", [("name", "Mrs Khan")]),
    ("thanks Dr. J. Patel-Jones!", [("name", "Dr. J. Patel-Jones")]),
    ("Mr Ali and Ms O’Brien", [("name", "Mr Ali"), ("name", "Ms O’Brien")]),
    ("I miss the old library", []),
    ("Miss Zofia Łukasiewicz helped", [("name", "Miss Zofia Łukasiewicz")]),
    ("ring 0113 378 5005", [("phone", "0113 378 5005")]),
    ("ring (0113) 3785005 now", [("phone", "(0113) 3785005")]),
    ("mobile 07700 900123.", [("phone", "07700 900123")]),
    ("mobile +44 7700 900123", [("phone", "+44 7700 900123")]),
    ("+44 (0)113 378 5005", [("phone", "+44 (0)113 378 5005")]),
    ("0044 20 7946 0000", [("phone", "0044 20 7946 0000")]),
    ("in 2019 we fed 1,200 people on 12/03/2020 at 10am", []),
    ("a number 0113 378", []),
    ("jo.bloggs+news@mail.example.co.uk.", [("email", "jo.bloggs+news@mail.example.co.uk")]),
    ("LS12 1BE", [("postcode", "LS12 1BE")]),
    ("near ls121be or m1 1aa", [("postcode", "ls121be"), ("postcode", "m1 1aa")]),
    ("LS12 and the A58", []),
    ("NHS number 943 476 5919", [("nhs_number", "943 476 5919")]),
    ("not an NHS number 943 476 5910", []),
    ("ہمارے محلے کی لائبریری 😀", []),
]


@pytest.mark.parametrize(("text", "expected"), PII_CASES, ids=[c[0] for c in PII_CASES])
def test_personal_data_detector(text: str, expected: list[tuple[str, str]]) -> None:
    found = find_personal_data(text)
    assert [(m.kind, m.text) for m in found] == expected
    for m in found:
        assert text[m.start : m.end] == m.text


def test_paragraphs_and_safe_html() -> None:
    text = "First line\nsecond line\n\n\n<script>alert(1)</script> [link](javascript:alert(1))\r\n\r\nhttps://x.example"
    assert paragraphs(text) == [
        "First line\nsecond line",
        "<script>alert(1)</script> [link](javascript:alert(1))",
        "https://x.example",
    ]
    html = str(render_paragraphs(text))
    assert html == (
        "<p>First line<br>\nsecond line</p>\n"
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; [link](javascript:alert(1))</p>\n"
        "<p>https://x.example</p>"
    )
    assert "<a" not in html


# --- the migration -------------------------------------------------------------------------------


def test_migration_numbers_existing_stories(tmp_path: Any) -> None:
    from strengthmap.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'old.sqlite'}", upgrade=False)
    store.upgrade("0005")
    with store.engine.begin() as conn:
        for i, (consent, moderation) in enumerate([("public", "approved"), ("private", "pending")]):
            conn.execute(
                sa.text(
                    "INSERT INTO story (id, title, text, consent, moderation, created_at) "
                    "VALUES (:id, '', :text, :c, :m, :at)"
                ),
                {"id": f"s{i}", "text": f"old story {i} about gardens", "c": consent, "m": moderation,
                 "at": datetime(2025, 1, 1 + i, tzinfo=UTC)},
            )  # fmt: skip
    store.upgrade("0010")
    with store.session() as s:
        rows = s.execute(sa.select(schema.Story.id, schema.Story.number, schema.Story.audience).order_by(schema.Story.number)).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [("s0", 1, "public"), ("s1", 2, "team")]
    assert search_stories(store, "garden").total == 1
    assert add_story(store, _draft("new")).number == 3
    store.upgrade("0005")  # and back down, keeping the rows
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM story")).scalar() == 3
    store.close()


def test_date_filter_bounds_are_inclusive_days(world: World) -> None:
    store = world.store
    s = add_story(store, _draft("Yesterday's story."), viewer=EDITOR)
    with store.transaction() as session:
        row = session.get(schema.Story, s.id)
        assert row is not None
        row.created_at = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)

    def found(since: date | None = None, until: date | None = None) -> bool:
        query = StoryQuery(since=since, until=until)
        return list_stories(store, query, viewer=EDITOR).total == 1

    assert found(since=date(2026, 3, 1), until=date(2026, 3, 1))
    assert not found(since=date(2026, 3, 2)) and not found(until=date(2026, 2, 28))
    with pytest.raises(InputError):
        list_stories(store, StoryQuery(since=date(2026, 3, 2), until=date(2026, 3, 1)))


# --- the command line ----------------------------------------------------------------------------


def _cli(store: Store, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from strengthmap.cli import main

    url = store.engine.url.render_as_string(hide_password=False)
    capsys.readouterr()
    code = main(["--database", url, "stories", *args])
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


def test_cli_contract_add_moderate_list_withdraw(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    store = world.store
    code, out, _ = _cli(
        store, capsys, "add", "--text", "Świetlica feeds us 😀", "--title", "Armley",
        "--postcode", "LS12 1BE", "--theme", "whats-strong", "--theme", "A place that matters",
        "--consent", "public", "--json",
    )  # fmt: skip
    assert code == 0
    added = json.loads(out)
    assert {"id", "status", "withdraw_token"} <= set(added) and added["status"] == "pending"
    token = added["withdraw_token"]
    code, out, _ = _cli(store, capsys, "list", "--as", "anonymous", "--json")
    assert code == 0 and json.loads(out)["total_items"] == 0
    assert _cli(store, capsys, "moderate", added["id"], "--approve")[0] == 0
    code, out, _ = _cli(
        store, capsys, "list", "--as", "anonymous", "--status", "approved", "--area", WARD,
        "--theme", "whats-strong", "--json",
    )  # fmt: skip
    page = json.loads(out)
    assert [i["id"] for i in page["items"]] == [added["id"]]
    assert page["items"][0]["text"] == "Świetlica feeds us 😀"
    assert "teller" not in page["items"][0] and "moderation" not in page["items"][0]
    # the token was printed once: no other command shows it
    outputs = [
        _cli(store, capsys, "list", "--json")[1],
        _cli(store, capsys, "show", str(added["id"]), "--json")[1],
        _cli(store, capsys, "search", "Świetlica", "--json")[1],
        _cli(store, capsys, "queue", "--json")[1],
        _cli(store, capsys, "history", added["id"])[1],
        _cli(store, capsys, "feed")[1],
    ]
    assert all(token not in o for o in outputs)
    assert "Świetlica" in outputs[2]
    # the teller's view and withdrawal through the token
    code, out, _ = _cli(store, capsys, "show", "--token", token, "--json")
    assert code == 0 and json.loads(out)["status"] == "approved"
    code, _, err = _cli(store, capsys, "withdraw", added["id"], "--token", token + "x")
    assert code == 2 and "not valid" in err
    code, out, _ = _cli(store, capsys, "withdraw", added["id"], "--token", token, "--json")
    assert code == 0 and json.loads(out)["reason"] == "withdrawn by the teller"
    code, _, err = _cli(store, capsys, "withdraw", added["id"], "--token", token)
    assert code == 2 and "used" in err
    code, out, _ = _cli(store, capsys, "list", "--status", "withdrawn", "--json")
    assert json.loads(out)["items"][0]["status"] == "withdrawn"
    for args in (("list", "--json"), ("search", "Świetlica", "--json"), ("feed",)):
        assert "Świetlica" not in _cli(store, capsys, *args)[1]


def test_cli_moderation_actions_and_staff_withdrawal(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    store = world.store
    ids = [add_story(store, _draft(f"Story {i} with Mrs Khan", consent="public"), allow_personal_data=True).id for i in range(3)]  # fmt: skip
    code, out, _ = _cli(store, capsys, "moderate", ids[0], "--reject", "Names a person.", "--json")
    assert code == 0 and json.loads(out)["status"] == "rejected"
    code, out, _ = _cli(store, capsys, "moderate", "#2", "--redact", "13:21", "--json")
    assert code == 0 and json.loads(out)["text"] == f"Story 1 with {REDACTED}"
    code, out, _ = _cli(store, capsys, "history", ids[1], "--redactions")
    assert json.loads(out)[0]["removed_text"] == "Mrs Khan"
    assert _cli(store, capsys, "moderate", ids[2], "--changes", "Leave out the name.")[0] == 0
    code, _, err = _cli(store, capsys, "moderate", ids[2], "--approve", "--reject", "x")
    assert code == 2 and "exactly one" in err
    assert _cli(store, capsys, "moderate", ids[2], "--redact", "a:b")[0] == 2
    assert _cli(store, capsys, "moderate", ids[2], "--redact", "5:999")[0] == 2
    assert _cli(store, capsys, "moderate", "no-such-story", "--approve")[0] == 4
    code, out, _ = _cli(store, capsys, "withdraw", "3", "--json")
    assert code == 0 and json.loads(out)["status"] == "withdrawn"
    code, out, _ = _cli(store, capsys, "history", ids[1], "--redactions")
    assert json.loads(out)[0]["removed_text"] == "Mrs Khan"  # not withdrawn
    assert _cli(store, capsys, "withdraw", ids[1])[0] == 0
    code, out, _ = _cli(store, capsys, "history", ids[1], "--redactions")
    assert json.loads(out)[0]["removed_text"] is None


def test_cli_bad_input_exits_2_and_writes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    store = world.store
    before = _counts(store)
    for args, words in [
        (("--text", ""), "empty"),
        (("--text", "x" * 20_001), "too long"),
        (("--text", "ok", "--lonlat", f"{OUTSIDE[0]},{OUTSIDE[1]}"), "outside the loaded areas"),
        (("--text", "ok", "--lonlat", "west,north"), "LON,LAT"),
        (("--text", "ok", "--postcode", "YO1 7HH"), "outside the loaded areas"),
        (("--text", "ok", "--area", "E01999999"), "no loaded area"),
        (("--text", "ok", "--theme", "weather"), "unknown theme"),
        (("--text", "ok", "--consent", "everyone"), "unknown consent"),
        (("--text", "call 07700 900123"), "personal data"),
    ]:
        code, _, err = _cli(store, capsys, "add", *args)
        assert code == 2, args
        assert words in err, (args, err)
        assert "Traceback" not in err
    assert _counts(store) == before


def test_cli_moderation_by_a_viewer_is_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from strengthmap.accounts import create_user

    store = world.store
    create_user(store, "vera@example.org", password="a long password 1", role="viewer")
    create_user(store, "ed@example.org", password="a long password 2", role="editor")
    added = add_story(store, _draft("Waiting.", consent="public"))
    before = _counts(store)
    for action in (["--approve"], ["--reject", "no"], ["--redact", "0:3"]):
        code, _, err = _cli(
            store, capsys, "moderate", added.id, *action, "--as", "vera@example.org"
        )
        assert code == 6 and "only editors and admins" in err
    assert _cli(store, capsys, "withdraw", added.id, "--as", "vera@example.org")[0] == 6
    assert _cli(store, capsys, "list", "--status", "pending", "--as", "vera@example.org")[0] == 6
    assert _counts(store) == before
    assert _cli(store, capsys, "moderate", added.id, "--approve", "--as", "ed@example.org")[0] == 0
    entries = story_history(store, added.id, viewer=EDITOR)
    assert entries[-1]["actor"] == "ed@example.org" and entries[-1]["action"] == "approve"


def test_cli_export_feed_counts_themes_policy(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    store = world.store
    s = add_story(store, _draft("=cmd|' /C calc'!A0", place=PlaceInput(lonlat=IN_A), themes=("idea",), consent="public"))  # fmt: skip
    approve_story(store, s.id, viewer=EDITOR)
    out = tmp_path / "stories.csv"
    assert _cli(store, capsys, "export", str(out), "--format", "csv")[0] == 0
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["text"].startswith("'=") and row["themes"] == "idea"
    assert _cli(store, capsys, "export", str(out), "--as", "anonymous")[0] == 6
    code, body, _ = _cli(store, capsys, "feed", "--base-url", "https://x.example")
    assert code == 0 and ET.fromstring(body).tag == f"{ATOM}feed"
    code, body, _ = _cli(store, capsys, "counts", "--level", "lsoa", "--json")
    assert json.loads(body)["by_area"] == [
        {"area_code": LSOA_A, "area_name": "Leeds 001A", "theme": None, "n": 1}
    ]
    code, body, _ = _cli(store, capsys, "themes", "--add", "food", "--label", "Food", "--json")
    assert code == 0 and "food" in {t["slug"] for t in json.loads(body)}
    policy = tmp_path / "policy.txt"
    policy.write_text("Be kind.\n\nNo names.", encoding="utf-8")
    assert _cli(store, capsys, "policy", "--set", str(policy), "--as", "anonymous")[0] == 6
    code, body, _ = _cli(store, capsys, "policy", "--set", str(policy), "--json")
    assert code == 0 and json.loads(body)["version"] == 1
    assert _cli(store, capsys, "policy")[1].strip() == "Be kind.\n\nNo names."


# --- the search cache ----------------------------------------------------------------------------


def test_search_pages_and_filters_with_words(world: World) -> None:
    store = world.store
    ids = []
    for i in range(7):
        place = PlaceInput(postcode="LS12 1BE") if i % 2 else PlaceInput(lonlat=IN_B)
        theme = ("idea",) if i < 3 else ("whats-hard",)
        text = "bus " * (i + 1) + f"story {i}"
        s = add_story(store, _draft(text, place=place, themes=theme, consent="public"))
        approve_story(store, s.id, viewer=EDITOR)
        ids.append(s.id)
    first = search_stories(store, "bus", StoryQuery(per_page=3))
    second = search_stories(store, "bus", StoryQuery(per_page=3, page=2))
    third = search_stories(store, "bus", StoryQuery(per_page=3, page=3))
    assert (first.total, first.total_pages) == (7, 3)
    order = [s.id for page in (first, second, third) for s in page.items]
    assert sorted(order) == sorted(ids) and len(set(order)) == 7
    scores = [
        s.score for page in (first, second, third) for s in page.items if isinstance(s, StoryView)
    ]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert {s.id for s in search_stories(store, "bus", StoryQuery(area=LSOA_A)).items} == {
        ids[i] for i in (1, 3, 5)
    }
    assert {s.id for s in search_stories(store, "bus", StoryQuery(themes=("idea",))).items} == set(
        ids[:3]
    )
    assert search_stories(store, "bus", StoryQuery(area=LSOA_A, themes=("idea",))).total == 1
    newest = search_stories(store, "bus", StoryQuery(order="newest"))
    assert [s.id for s in newest.items] == ids[::-1]


def test_search_sees_writes_from_another_process_at_once(world: World) -> None:
    """Two stores on one database stand for two worker processes: a withdrawal through one is
    seen by the next search through the other, whose ranked results were cached."""
    from strengthmap.storage import open_store

    store = world.store
    other = open_store(store.engine.url.render_as_string(hide_password=False))
    try:
        added = add_story(store, _draft("The canal towpath is our gym.", consent="public"))
        approve_story(store, added.id, viewer=EDITOR)
        for s in (store, other, store, other):
            assert search_stories(s, "canal").total == 1  # ranked, then reused
        later = add_story(other, _draft("Canal boats and kingfishers.", consent="public"))
        assert search_stories(store, "canal").total == 1  # pending: not for the public
        approve_story(other, later.id, viewer=EDITOR)
        assert search_stories(store, "canal").total == 2
        withdraw_with_token(other, added.withdraw_token)
        assert [s.id for s in search_stories(store, "canal").items] == [later.id]
        redact_story(other, later.id, 0, 5, viewer=EDITOR)
        assert search_stories(store, "canal").total == 0  # "Canal" redacted away
        assert search_stories(store, "kingfishers").total == 1
    finally:
        other.close()


def test_rank_cache_is_bounded() -> None:
    import numpy as np

    from strengthmap.stories.ranking import RankCache

    cache = RankCache(max_entries=3, max_items=20)
    for i in range(5):
        cache.put(("db", "e", 1, "text", i), (np.arange(2), np.zeros(2)))
    assert [cache.get(("db", "e", 1, "text", i)) is None for i in range(5)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    cache.put(("db", "e", 1, "audience"), np.zeros(9, np.int8))  # 12 + 9 > 20 numbers held
    assert (
        cache.get(("db", "e", 1, "text", 2)) is None
        and cache.get(("db", "e", 1, "audience")) is not None
    )
    cache.clear("audience")
    assert (
        cache.get(("db", "e", 1, "audience")) is None
        and cache.get(("db", "e", 1, "text", 4)) is not None
    )

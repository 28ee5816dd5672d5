"""Write the synthetic Leeds-like network of ``tests/fixtures/network/`` (seeded: the same files every run).

The people are FICTIONAL: invented names, homes drawn at random among real LSOAs, ties drawn
at random. The groups and services they are tied to are real records of the directory that
``strengthmap data load`` (the Leeds data directory) and the New Wortley example
(``docs/examples/new-wortley-community-centre.csv``) put in the store, referred to by their
stable ids only (no name or other field of the open data is copied into the fixture).

Usage:
    .venv/bin/python scripts/gen_network_fixture.py [--data ../shared/data] [--database URL] [--seed 17]

Without ``--database`` a temporary SQLite store is built from ``--data`` and the example.

How the network is drawn (a few hundred nodes, shaped like a city's community life):

* six neighbourhoods of west and central Leeds, each around a centre point; the groups of a
  neighbourhood are the directory organisations (associations, culture, institutions and
  spaces: ``GROUP_KINDS``) whose location is nearest that centre (at most ``GROUPS_PER_AREA``
  within 1.5 km); the New Wortley Community Association, its centre and
  its eight services belong to New Wortley;
* in each neighbourhood one community builder (Teresa in New Wortley), connectors, residents
  and a link worker; residents meet others of their neighbourhood (with triadic closure, so
  friends of friends meet), volunteer at its groups; connectors meet many residents;
  community builders meet each other across neighbourhoods; link workers refer people's
  needs to groups and services anywhere; groups partner with groups near them; the
  community association runs its services;
* consent: community builders public; connectors public or internal; residents mostly
  private or internal; ties default to the most private of their ends;
* dates between 2018 and 2025, about one tie in seven ended; weights 1-5 (how often they meet).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from strengthmap.network.places import directory_places
from strengthmap.storage import Store, open_store, schema

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "network"
EXAMPLE = ROOT / "docs" / "examples" / "new-wortley-community-centre.csv"
NEW_WORTLEY_ORG = "14bd3f1b-2e6e-5168-b21e-65b80f3d5a91"  # the example's stable organisation id
GROUPS_PER_AREA = 9
#: Directory organisations that people meet at, volunteer at or are referred to (not shops,
#: banks or cash machines: the economy kind), minus OpenStreetMap features named only by their
#: tag (a drinking fountain, a shelter).
GROUP_KINDS = ("association", "culture", "institution", "physical_space")
NOT_GROUPS = ("Drinking water", "Shelter", "Atm", "Toilets", "Bench")
#: (name, lon, lat, residents): centres of six neighbourhoods (EPSG:4326).
NEIGHBOURHOODS = (
    ("New Wortley", -1.5754, 53.7902, 40),
    ("Armley", -1.5905, 53.7985, 34),
    ("Holbeck", -1.5600, 53.7855, 30),
    ("City centre", -1.5450, 53.7975, 24),
    ("Woodhouse", -1.5590, 53.8085, 32),
    ("Burmantofts", -1.5250, 53.8020, 30),
)
FIRST = [
    "Aisha",
    "Amir",
    "Ann",
    "Asha",
    "Ben",
    "Bilal",
    "Bronwen",
    "Cara",
    "Chen",
    "Connor",
    "Dalia",
    "Dave",
    "Deepa",
    "Des",
    "Elif",
    "Ella",
    "Emeka",
    "Fatima",
    "Femi",
    "Gail",
    "Grace",
    "Hamza",
    "Hannah",
    "Ian",
    "Ifeoma",
    "Imran",
    "Jade",
    "Jan",
    "Jo",
    "Kamal",
    "Kate",
    "Kwame",
    "Lena",
    "Liam",
    "Lorraine",
    "Maya",
    "Mohammed",
    "Nadia",
    "Niamh",
    "Olu",
    "Pat",
    "Priya",
    "Rachel",
    "Ravi",
    "Rosa",
    "Sam",
    "Sana",
    "Sean",
    "Shauna",
    "Tariq",
    "Tom",
    "Uma",
    "Vic",
    "Wes",
    "Yasmin",
    "Zainab",
    "Zoe",
]
LAST = [
    "Ahmed",
    "Akhtar",
    "Bailey",
    "Begum",
    "Boateng",
    "Brooks",
    "Carter",
    "Chowdhury",
    "Clarke",
    "Davies",
    "Evans",
    "Farah",
    "Foster",
    "Grant",
    "Green",
    "Hall",
    "Hussain",
    "Iqbal",
    "Jackson",
    "Kaur",
    "Khan",
    "Kowalski",
    "Lee",
    "Lewis",
    "Malik",
    "Mensah",
    "Moore",
    "Nowak",
    "Okafor",
    "Patel",
    "Price",
    "Quinn",
    "Reid",
    "Riley",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Turner",
    "Walsh",
    "Ward",
    "Wood",
    "Wright",
    "Yusuf",
]


@dataclass
class Builder:
    rng: random.Random
    nodes: list[dict[str, str]] = field(default_factory=list)
    edges: list[dict[str, str]] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def person(self, pid: str, role: str, area: str, consent: str) -> str:
        while True:
            name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
            if name not in self.names:
                break
        if pid == "p-teresa":
            name = "Teresa Hall"
        self.names.add(name)
        recorded = date(2023, 1, 1) + timedelta(days=self.rng.randrange(900))
        self.nodes.append(
            {
                "id": pid,
                "kind": "person",
                "name": name,
                "consent": consent,
                "area_code": area,
                "role": f"{role} (fictional)",
                "consent_date": recorded.isoformat(),
            }
        )
        return pid

    def record(self, rid: str, kind: str, consent: str = "") -> None:
        self.nodes.append(
            {
                "id": rid,
                "kind": kind,
                "name": "",
                "consent": consent,
                "area_code": "",
                "role": "",
                "consent_date": "",
            }
        )

    def tie(self, a: str, b: str, kind: str, consent: str = "", weight: int | None = None) -> None:
        key = (min(a, b), max(a, b), kind)
        if a == b or key in self.seen:
            return
        self.seen.add(key)
        start = date(2018, 1, 1) + timedelta(days=self.rng.randrange(7 * 365 + 180))
        end = ""
        if self.rng.random() < 1 / 7:
            end = (start + timedelta(days=90 + self.rng.randrange(900))).isoformat()
        w = weight if weight is not None else self.rng.choice((1, 1, 2, 2, 3, 4, 5))
        self.edges.append(
            {
                "source": a,
                "target": b,
                "type": kind,
                "weight": str(w),
                "start": start.isoformat(),
                "end": end,
                "consent": consent,
            }
        )


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance in metres (enough to rank places within a few km)."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def _store(args: argparse.Namespace) -> Store:
    if args.database:
        return open_store(args.database)
    from strengthmap.directory.imports import import_file
    from strengthmap.sources import load_data_dir

    path = Path(tempfile.mkdtemp()) / "leeds.sqlite"
    store = open_store(f"sqlite:///{path}")
    load_data_dir(store, Path(args.data), place="Leeds")
    import_file(store, EXAMPLE, None, actor="cli")
    return store


def build(store: Store, seed: int) -> Builder:
    rng = random.Random(seed)
    with store.session() as session:
        orgs = sorted(
            session.execute(
                sa.select(schema.Organization.id)
                .join(schema.Location, schema.Location.organization_id == schema.Organization.id)
                .where(
                    schema.Organization.retired_at.is_(None),
                    schema.Location.latitude.is_not(None),
                    schema.Organization.abcd_kind.in_(GROUP_KINDS),
                    schema.Organization.name.not_in(NOT_GROUPS),
                )
                .distinct()
            ).scalars()
        )
        nw_services = sorted(
            session.execute(
                sa.select(schema.Service.id).where(
                    schema.Service.organization_id == NEW_WORTLEY_ORG
                )
            ).scalars()
        )
        nw_location = session.execute(
            sa.select(schema.Location.id).where(schema.Location.organization_id == NEW_WORTLEY_ORG)
        ).scalar_one()
        lsoas = session.execute(
            sa.select(
                schema.Area.code,
                schema.Area.min_lon,
                schema.Area.max_lon,
                schema.Area.min_lat,
                schema.Area.max_lat,
            )
            .where(schema.Area.level == "lsoa", schema.Area.vintage == 2021)
            .order_by(schema.Area.code)
        ).all()
    if NEW_WORTLEY_ORG not in orgs:
        sys.exit("the New Wortley example is not in the store: import docs/examples/... first")
    places = directory_places(store, orgs, vintage=2021)
    b = Builder(rng)
    taken: set[str] = set()
    groups: dict[str, list[str]] = {}
    homes: dict[str, list[str]] = {}
    for name, lon, lat, _ in NEIGHBOURHOODS:
        near = sorted(
            (o for o in orgs if o in places and o not in taken and o != NEW_WORTLEY_ORG),
            key=lambda o: _distance_m(lon, lat, places[o].lon, places[o].lat),
        )
        chosen = [o for o in near if _distance_m(lon, lat, places[o].lon, places[o].lat) < 1500]
        groups[name] = chosen[:GROUPS_PER_AREA]
        taken.update(groups[name])
        centres = [
            (
                r.code,
                _distance_m(lon, lat, (r.min_lon + r.max_lon) / 2, (r.min_lat + r.max_lat) / 2),
            )
            for r in lsoas
        ]
        homes[name] = [c for c, _ in sorted(centres, key=lambda x: x[1])[:6]]
    groups["New Wortley"].insert(0, NEW_WORTLEY_ORG)
    for name in groups:
        for o in groups[name]:
            b.record(o, "organization")
    b.record(nw_location, "location")
    for s in nw_services:
        b.record(s, "service")
        b.tie(NEW_WORTLEY_ORG, s, "runs", consent="public", weight=5)
    builders: list[str] = []
    link_workers: list[str] = []
    for k, (name, _lon, _lat, n_residents) in enumerate(NEIGHBOURHOODS):
        home = homes[name]
        cb = b.person("p-teresa" if k == 0 else f"p-cb-{k}", "community builder", home[0], "public")
        builders.append(cb)
        connectors = [
            b.person(
                f"p-{k}-c{i}", "connector", rng.choice(home), rng.choice(("public", "internal"))
            )
            for i in range(5)
        ]
        residents = [
            b.person(
                f"p-{k}-r{i:02d}",
                "resident",
                rng.choice(home),
                rng.choices(("private", "internal", "public"), (3, 4, 3))[0],
            )
            for i in range(n_residents)
        ]
        lw = b.person(f"p-lw-{k}", "social prescribing link worker", home[-1], "internal")
        link_workers.append(lw)
        here = groups[name]
        for g in here[: max(1, len(here) // 2)]:
            b.tie(cb, g, "partners_with", consent="public")
        for person in connectors:
            b.tie(cb, person, "meets_with")
        for person in rng.sample(residents, min(len(residents), 10)):
            b.tie(cb, person, "meets_with")
        for c in connectors:
            for person in rng.sample(residents, rng.randint(4, 8)):
                b.tie(c, person, "meets_with")
            for g in rng.sample(here, min(len(here), rng.randint(1, 2))):
                b.tie(c, g, "volunteers_at")
            if rng.random() < 0.4:
                b.tie(c, rng.choice(residents), "custom:mentors")
        friends: dict[str, set[str]] = {r: set() for r in residents}
        for r in residents:
            for _ in range(rng.randint(1, 2)):
                other = rng.choice(residents)
                if other != r:
                    friends[r].add(other)
                    friends[other].add(r)
        for r in residents:  # triadic closure: a friend of a friend
            if friends[r] and rng.random() < 0.3:
                ff = rng.choice(sorted(friends[rng.choice(sorted(friends[r]))]))
                if ff != r:
                    friends[r].add(ff)
        for r, fs in friends.items():
            for f in fs:
                b.tie(r, f, "meets_with")
            if here and rng.random() < 0.35:
                b.tie(r, rng.choice(here), "volunteers_at")
        b.tie(lw, cb, "meets_with")
        for i, g in enumerate(here):
            if i + 1 < len(here) and rng.random() < 0.5:
                b.tie(g, here[i + 1], "partners_with", consent="public")
    b.tie("p-teresa", nw_location, "volunteers_at", consent="public", weight=5)
    b.tie("p-teresa", NEW_WORTLEY_ORG, "volunteers_at", consent="public", weight=5)
    for i, cb in enumerate(builders):
        for other in builders[i + 1 :]:
            if rng.random() < 0.45:
                b.tie(cb, other, "meets_with", consent="public")
    everything = [g for gs in groups.values() for g in gs] + nw_services
    for lw in link_workers:
        for target in rng.sample(everything, 6):
            b.tie(lw, target, "refers_to")
    return b


def write(b: Builder, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "nodes.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(
            f, ["id", "kind", "name", "consent", "area_code", "role", "consent_date"]
        )
        w.writeheader()
        w.writerows(b.nodes)
    with (out / "edges.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["source", "target", "type", "weight", "start", "end", "consent"])
        w.writeheader()
        w.writerows(b.edges)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=str(ROOT.parent / "shared" / "data"), help="the Leeds data directory"
    )
    parser.add_argument(
        "--database", help="a store with the Leeds data and the New Wortley example loaded"
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    store = _store(args)
    b = build(store, args.seed)
    write(b, Path(args.out))
    people = sum(1 for n in b.nodes if n["kind"] == "person")
    print(
        f"wrote {len(b.nodes)} nodes ({people} fictional people) and {len(b.edges)} ties to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

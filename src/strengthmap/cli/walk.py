"""``strengthmap walk``: plan a walk on the streets (``plan_walk``), its briefing and GPX, saved walks, the walking network."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from strengthmap.cli.common import console, print_json, state
from strengthmap.errors import InputError

app = typer.Typer(help="Walks: plan a contrast walk on real streets; briefing, GPX, saved walks.",
                  no_args_is_help=True)  # fmt: skip
network_app = typer.Typer(help="The walking network built from OSM ways.", no_args_is_help=True)
app.add_typer(network_app, name="network")


def _hhmm(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M") if iso else ""


def _open(value: bool | None) -> str:
    return "open" if value else "closed" if value is False else "unknown"


@app.command("plan")
def plan(
    ctx: typer.Context,
    from_: str | None = typer.Option(
        None,
        "--from",
        help="Start: LON,LAT (or NAME@LON,LAT), a postcode, or a directory location name.",
    ),
    to: str | None = typer.Option(None, "--to", help="End: a PLACE as for --from."),
    via: list[str] | None = typer.Option(None, "--via", help="A place to pass, in order (repeat)."),
    loop: bool = typer.Option(False, "--loop", help="Come back to the start (no --to)."),
    at: str | None = typer.Option(
        None, "--at", help="Start date and time, YYYY-MM-DDTHH:MM in Europe/London (default: now)."
    ),
    max_km: float | None = typer.Option(
        None, "--max-km", help="Length budget in km (default: 25% or 1 km over the shortest)."
    ),
    step_free: bool = typer.Option(False, "--step-free", help="Avoid steps."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    gpx: Path | None = typer.Option(None, "--gpx", help="Write the walk as GPX 1.1 to OUT."),
    briefing: Path | None = typer.Option(
        None, "--briefing", help="Write the briefing sheet to OUT.pdf or OUT.html."
    ),
    geojson: Path | None = typer.Option(
        None, "--geojson", help="Write the walk as GeoJSON to OUT."
    ),
    max_minutes: float | None = typer.Option(
        None, "--max-minutes", help="Time budget in minutes, stops included."
    ),
    speed: float = typer.Option(4.5, "--speed", help="Walking speed, km/h."),
    dwell: float = typer.Option(10.0, "--dwell", help="Minutes spent at each stop."),
    max_stops: int = typer.Option(5, "--max-stops", help="At most this many stops at assets."),
    kinds: str | None = typer.Option(
        None,
        "--kinds",
        help="Stop only at these ABCD kinds (comma separated), e.g. association,physical_space.",
    ),
    imd_release: int | None = typer.Option(
        None, "--imd-release", help="2019 or 2025 (default: the latest loaded)."
    ),
    preset: str | None = typer.Option(
        None,
        "--preset",
        help="A named walk (its start, via places and end), e.g. station-new-wortley.",
    ),
) -> None:
    """Plan a walk on the streets, past assets open on arrival, and report the contrast it crosses."""
    from strengthmap.walks import PRESETS, plan_walk, to_geojson, to_gpx, write_briefing

    st = state(ctx)
    vias = list(via or [])
    if preset is not None:
        if preset not in PRESETS:
            raise InputError(
                f"unknown preset {preset!r}; one of {', '.join(PRESETS)}", field="preset"
            )
        p = PRESETS[preset]
        from_ = from_ or p.from_
        if not loop and to is None:
            to, loop = p.to, p.loop
        vias = vias or list(p.via)
    if from_ is None:
        raise InputError("give --from PLACE (LON,LAT, a postcode or a location name)", field="from")
    store = st.store()
    result = plan_walk(
        store, from_, to, via=vias, loop=loop, at=at, max_km=max_km, max_minutes=max_minutes,
        speed_kmh=speed, step_free=step_free, dwell_min=dwell, max_stops=max_stops,
        kinds=[k.strip() for k in kinds.split(",") if k.strip()] if kinds else None,
        imd_release=imd_release,
    )  # fmt: skip
    written: list[str] = []
    if gpx is not None:
        gpx.parent.mkdir(parents=True, exist_ok=True)
        gpx.write_text(to_gpx(result), encoding="utf-8")
        written.append(f"GPX written to {gpx}")
    if geojson is not None:
        geojson.parent.mkdir(parents=True, exist_ok=True)
        geojson.write_text(json.dumps(to_geojson(result), ensure_ascii=False), encoding="utf-8")
        written.append(f"GeoJSON written to {geojson}")
    if briefing is not None:
        write_briefing(store, result, briefing)
        written.append(f"briefing written to {briefing}")
    if as_json:
        print_json(result.to_dict())
        return
    _print_plan(result.to_dict())
    for line in written:
        console.print(line)


def _print_plan(d: dict[str, Any]) -> None:
    b = d["budget"]
    table = Table(
        title=f"{d['title']}: {d['length_m'] / 1000:.2f} km, {d['walking_min']:.0f} min walking, "
        f"{d['duration_min']:.0f} min with stops"
    )
    for col in ("#", "place", "kind", "arrive", "on arrival", "km", "IMD decile", "what is there"):
        table.add_column(col)
    for i, s in enumerate(d["stops"], start=1):
        open_now = [v["name"] for v in s["services"] if v["open"]]
        table.add_row(
            str(i), s["name"], s["kind"], _hhmm(s["arrive"]), _open(s["open"]),
            f"{s['distance_m'] / 1000:.2f}", str(s["facts"].get("imd_decile") or "–"),
            ", ".join(open_now) or ", ".join(v["name"] for v in s["services"][:2]),
        )  # fmt: skip
    console.print(table)
    c = d["contrast"]
    if c["imd_decile_min"] is not None:
        console.print(
            f"contrast: IMD {c['imd_release']} deciles {c['imd_decile_max']} to {c['imd_decile_min']}"
            f" (in order: {' '.join(str(x) for x in c['imd_deciles_in_order'])}); largest step "
            f"{c['largest_step']} decile(s)"
        )
    le = c.get("life_expectancy") or {}
    for sex in ("male", "female"):
        v = le.get(sex)
        if v:
            console.print(
                f"life expectancy ({sex}): {v['min']['value']:.1f} to {v['max']['value']:.1f} years, {v['comparison']}"
            )
    budget = (
        f"{b['used_m'] / 1000:.2f} of {b['max_m'] / 1000:.2f} km"
        if b["max_m"]
        else f"{b['used_m'] / 1000:.2f} km"
    )
    console.print(
        f"budget: {budget} used (shortest {b['shortest_m'] / 1000:.2f} km); stops value "
        f"{b['score']} of at most {b['score_upper_bound']} ({b['candidates_considered']} candidates)"
    )
    s = d["safety"]
    if s["steps"]:
        console.print(f"steps: {len(s['steps'])} flight(s) (use --step-free to avoid them)")
    if s["busy_roads_crossed"]:
        console.print("busy roads crossed: " + ", ".join(
            r["name"] or r["ref"] or "unnamed" for r in s["busy_roads_crossed"]))  # fmt: skip
    n = d["network"]
    console.print(
        f"network: {n['nodes']:,} nodes, {n['edges']:,} edges, {n['components_dropped']} pieces dropped"
    )
    for note in d["notes"]:
        console.print(note, style="italic")
    console.print(" ".join(d["attribution"]), style="dim")


@network_app.command("load")
def network_load(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None,
        help="GeoJSON of OSM ways (.geojson[.gz]) or an OSM extract (.osm, .osm.pbf); "
        "default: the streets file of the data directory.",
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild even if this file is loaded."),
    as_json: bool = typer.Option(False, "--json", help="Print the build report as JSON."),
) -> None:
    """Build the walking network from OSM ways and keep it in the store."""
    from strengthmap.walks import default_streets_file, load_walk_network

    st = state(ctx)
    path = file or default_streets_file(st.settings.data_dir)
    if path is None:
        raise InputError(
            f"no streets file in the data directory {st.settings.data_dir}: give FILE",
            field="file",
        )
    result = load_walk_network(st.store(), path, force=force)
    if as_json:
        print_json(result.to_dict())
        return
    r = result.report
    if result.skipped_unchanged:
        console.print(
            f"{result.name}: already loaded (network {result.network_id}); --force rebuilds"
        )
    table = Table(title=f"Walking network {result.network_id} from {result.name}")
    table.add_column("")
    table.add_column("", justify="right")
    for label, value in (
        ("ways read", f"{r.ways_read:,}"), ("ways walkable", f"{r.ways_walkable:,}"),
        ("of them steps", f"{r.ways_steps:,}"), ("nodes", f"{r.nodes:,}"), ("edges", f"{r.edges:,}"),
        ("length", f"{r.length_km:,.1f} km"),
        ("pieces dropped", f"{r.components_dropped:,} ({r.nodes_dropped:,} nodes, {r.length_dropped_km:.1f} km)"),
    ):  # fmt: skip
        table.add_row(label, value)
    for reason, n in r.ways_refused.items():
        table.add_row(f"refused: {reason}", f"{n:,}")
    console.print(table)


@network_app.command("show")
def network_show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """The walking network in the store: its source, size and build report."""
    from strengthmap.walks import network_info

    info = network_info(state(ctx).store())
    if as_json:
        print_json(info.to_dict())
        return
    r = info.report
    console.print(
        f"network {info.network_id}: {info.name} (SHA-256 {info.sha256[:12]}…), built "
        f"{info.built_at:%Y-%m-%d %H:%M}; {r.nodes:,} nodes, {r.edges:,} edges, "
        f"{r.length_km:,.1f} km; {r.components_dropped} pieces dropped; "
        f"{info.retired} older network(s) kept. {info.attribution}"
    )


@app.command("save")
def save(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The walk's name."),
    plan_file: Path | None = typer.Option(None, "--plan", help="A plan from `walk plan --json`."),
    gpx_file: Path | None = typer.Option(None, "--gpx", help="A GPX track of the walk as walked."),
    date: str | None = typer.Option(
        None, "--date", help="When the walk happens, YYYY-MM-DDTHH:MM (default: the plan's start)."
    ),
    leader: str | None = typer.Option(
        None, "--leader", help="Who leads it (shown to editors only)."
    ),
    participants: int | None = typer.Option(None, "--participants", help="How many took part."),
    as_json: bool = typer.Option(False, "--json", help="Print the saved walk as JSON."),
) -> None:
    """Save a walk (a plan or a GPX track) with its date, leader and participants."""
    from strengthmap.walks import plan_from_gpx, read_plan, save_walk

    st = state(ctx)
    if (plan_file is None) == (gpx_file is None):
        raise InputError("give exactly one of --plan FILE.json or --gpx FILE.gpx")
    store = st.store()
    if plan_file is not None:
        d, source = read_plan(plan_file), "plan"
    else:
        assert gpx_file is not None
        d, source = plan_from_gpx(store, gpx_file), "gpx"
    walk = save_walk(store, d, name=name, starts_at=date, leader=leader,
                     participants=participants, source=source, actor="cli")  # fmt: skip
    if as_json:
        print_json(walk.to_dict())
        return
    console.print(f"saved walk {walk.id}: {walk.name}, {walk.length_m / 1000:.2f} km, "
                  f"{len(walk.areas)} areas crossed")  # fmt: skip


@app.command("note")
def note(
    ctx: typer.Context,
    walk_id: str = typer.Argument(..., help="The saved walk's id."),
    text: str = typer.Argument(..., help="What was seen: what's strong."),
    public: bool = typer.Option(
        False, "--public", help="Show the note to everyone (default: editors only)."
    ),
    theme: str | None = typer.Option(None, "--theme", help="A theme, e.g. food, green space."),
    author: str | None = typer.Option(None, "--author", help="Who wrote it (editors only see it)."),
) -> None:
    """Add a note to a saved walk (private to editors unless --public)."""
    from strengthmap.walks import add_note

    n = add_note(state(ctx).store(), walk_id, text, public=public, theme=theme, author=author)
    console.print(f"note {n.id} added ({'public' if n.public else 'editors only'})")


@app.command("list")
def list_(
    ctx: typer.Context,
    area: str | None = typer.Option(
        None, "--area", help="Only walks crossing this LSOA/MSOA code."
    ),
    public_view: bool = typer.Option(False, "--public-view", help="Show what the public sees."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Saved walks, newest first (per area with --area)."""
    from strengthmap.walks import list_walks

    walks = list_walks(state(ctx).store(), area_code=area,
                       viewer_role=None if public_view else "editor")  # fmt: skip
    if as_json:
        print_json([w.to_dict() for w in walks])
        return
    table = Table(title=f"Saved walks{f' crossing {area}' if area else ''}")
    for col in ("id", "name", "when", "km", "took part", "areas", "notes"):
        table.add_column(col)
    for w in walks:
        table.add_row(w.id, w.name, f"{w.starts_at:%Y-%m-%d %H:%M}" if w.starts_at else "",
                      f"{w.length_m / 1000:.2f}", str(w.participants or ""), str(len(w.areas)),
                      str(len(w.notes)))  # fmt: skip
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    walk_id: str = typer.Argument(..., help="The saved walk's id."),
    public_view: bool = typer.Option(False, "--public-view", help="Show what the public sees."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON (with the plan)."),
    gpx: Path | None = typer.Option(None, "--gpx", help="Write its GPX to OUT."),
    briefing: Path | None = typer.Option(
        None, "--briefing", help="Write its briefing to OUT.pdf|.html."
    ),
) -> None:
    """One saved walk: its plan, areas and notes (private notes and leader for editors only)."""
    from strengthmap.walks import get_walk, to_gpx, write_briefing

    st = state(ctx)
    walk = get_walk(st.store(), walk_id, viewer_role=None if public_view else "editor")
    assert walk.plan is not None
    if gpx is not None:
        gpx.write_text(to_gpx(walk.plan), encoding="utf-8")
    if briefing is not None:
        write_briefing(st.store(), walk.plan, briefing)
    if as_json:
        print_json(walk.to_dict())
        return
    when = f"{walk.starts_at:%Y-%m-%d %H:%M}" if walk.starts_at else "no date"
    console.print(f"[bold]{walk.name}[/] ({when}), {walk.length_m / 1000:.2f} km, "
                  f"{walk.participants if walk.participants is not None else '?'} took part")  # fmt: skip
    if walk.leader:
        console.print(f"led by {walk.leader}")
    console.print(f"areas crossed: {', '.join(walk.areas)}")
    for n in walk.notes:
        console.print(f"- {n.text}" + ("" if n.public else " [editors only]"), markup=False)


@app.command("retire")
def retire(
    ctx: typer.Context, walk_id: str = typer.Argument(..., help="The saved walk's id.")
) -> None:
    """Retire a saved walk (kept in the store, no longer listed)."""
    from strengthmap.walks import retire_walk

    retire_walk(state(ctx).store(), walk_id)
    console.print(f"walk {walk_id} retired")

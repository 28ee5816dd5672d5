"""``strengthmap route``: the inequality profile along a line (``profile_route``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from strengthmap.cli.common import console, print_json, state

if TYPE_CHECKING:  # the routes package loads numpy, shapely and pydantic: only when a command runs
    from strengthmap.routes.results import RouteProfile, ValueCI

app = typer.Typer(help="route commands.", no_args_is_help=True)


@app.command("profile")
def profile(
    ctx: typer.Context,
    waypoints: str | None = typer.Option(
        None, "--waypoints", help='"NAME@LON,LAT;NAME@LON,LAT;..."'
    ),
    geojson: Path | None = typer.Option(
        None, "--geojson", help="GeoJSON LineString/MultiLineString file."
    ),
    gpx: Path | None = typer.Option(None, "--gpx", help="GPX file (its first track)."),
    osm_route: str | None = typer.Option(None, "--osm-route", help="OSM bus route ref, e.g. 7."),
    stops: str | None = typer.Option(None, "--stops", help="NaPTAN ATCO codes, comma separated."),
    gtfs: Path | None = typer.Option(None, "--gtfs", help="GTFS feed (zip)."),
    gtfs_route: str | None = typer.Option(None, "--gtfs-route", help="route_id in the GTFS feed."),
    preset: str | None = typer.Option(
        None,
        "--preset",
        help="A named route (list them with `strengthmap route presets`).",
    ),
    every: float = typer.Option(250, "--every", help="Sample every N metres along the line."),
    imd_release: int | None = typer.Option(
        None, "--imd-release", help="2019 or 2025 (default: latest loaded)."
    ),
    assets_radius_m: float | None = typer.Option(
        None,
        "--assets-radius-m",
        help="Count directory assets within N metres of each point (and list the nearest).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    chart: Path | None = typer.Option(
        None, "--chart", help="Write the chart to out.png or out.svg."
    ),
) -> None:
    """Profile a route: IMD and life expectancy at every stop and every N metres."""
    from strengthmap import routes

    st = state(ctx)
    route = routes.route_from_one_of(
        {"--waypoints": waypoints, "--geojson": geojson, "--gpx": gpx, "--osm-route": osm_route,
         "--stops": stops, "--gtfs": gtfs, "--preset": preset},
        data_dir=st.settings.data_dir, gtfs_route=gtfs_route,
    )  # fmt: skip
    result = routes.profile_route(
        st.store(), route, every_m=every, imd_release=imd_release, radius_m=assets_radius_m
    )
    if chart is not None:
        from strengthmap.charts import route_chart

        route_chart(result, chart)
    if as_json:
        print_json(result.to_dict())
        return
    _print_table(result)
    if chart is not None:
        console.print(f"chart written to {chart}")


@app.command("presets")
def presets(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The named routes that --preset takes (the same on the web page and in the API)."""
    from strengthmap.routes import PRESETS

    if as_json:
        print_json([{"name": p.name, "label": p.label, "kind": p.kind, "value": p.value,
                     "recipe": p.recipe} for p in PRESETS.values()])  # fmt: skip
        return
    table = Table(title="Route presets")
    for col in ("name", "route", "drawn from"):
        table.add_column(col)
    for p in PRESETS.values():
        table.add_row(p.name, p.label, f"{p.kind}: {p.value}")
    console.print(table)


def _fmt_le(v: ValueCI) -> str:
    if v.value is None or v.lower is None or v.upper is None:
        return "–"
    return f"{v.value:.1f} ({v.lower:.1f}–{v.upper:.1f})"


def _print_table(profile: RouteProfile) -> None:
    s = profile.summary
    table = Table(
        title=f"Route profile: {s.length_m / 1000:.1f} km, IMD {s.imd_release}, every {s.every_m:g} m"
    )
    cols = ["km", "stop", "LSOA", "MSOA", "IMD decile", "IMD rank", "LE male", "LE female"]
    cols += [f"assets ≤{s.radius_m:g} m", "nearest"] if s.radius_m is not None else []
    for col in [*cols, "flags"]:
        table.add_column(col)
    for p in profile.points:
        row = [
            f"{p.distance_m / 1000:.2f}", p.name or "", p.lsoa_code or "outside", p.msoa_code or "outside",
            str(p.imd_decile or "–"), str(p.imd_rank or "–"),
            _fmt_le(p.life_expectancy.male), _fmt_le(p.life_expectancy.female),
        ]  # fmt: skip
        if p.assets_within is not None:
            near = p.assets_within.nearest
            row += [str(p.assets_within.count), ", ".join(f"{a.name} ({a.abcd_kind}, {a.distance_m:.0f} m)" for a in near)]  # fmt: skip
        table.add_row(*row, ", ".join(p.flags))
    console.print(table)
    for sex, le in s.life_expectancy.items():
        if (
            le
            and le.min.value is not None
            and le.max.value is not None
            and le.gap_years is not None
        ):
            console.print(
                f"{sex}: {le.min.value:.1f} to {le.max.value:.1f} years, gap {le.gap_years:.1f} years: {le.comparison}"
            )
    console.print(" ".join(s.attribution), style="dim")

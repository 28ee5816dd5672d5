"""``strengthmap areas contrasts``: neighbouring areas with the largest gaps (``geography.contrasts``)."""

from __future__ import annotations

import typer
from rich.table import Table

from strengthmap.cli.common import console, print_json, state
from strengthmap.errors import InputError


def _lon_lat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"--near {text!r}: expected LON,LAT", field="near") from None
    return lon, lat


def contrasts(
    ctx: typer.Context,
    place: str | None = typer.Option(
        None,
        "--place",
        help="Local authority name (or LAD code); default: the place setting (STRENGTHMAP_PLACE, "
        "Leeds unless set).",
    ),
    near: str | None = typer.Option(None, "--near", help="LON,LAT: only pairs around this point."),
    radius_m: float = typer.Option(2000, "--radius-m", help="Radius round --near, metres."),
    by: str = typer.Option("imd", "--by", help="imd (decile gap) or le (life expectancy gap)."),
    sex: str = typer.Option("persons", "--sex", help="For --by le: male, female or persons."),
    imd_release: int | None = typer.Option(
        None, "--imd-release", help="2019 or 2025 (default: latest)."
    ),
    limit: int = typer.Option(10, "--limit", help="How many pairs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Neighbouring areas with the largest gap in IMD decile or life expectancy."""
    from strengthmap import geography

    if by not in ("imd", "le"):
        raise InputError(f"--by {by!r}: use imd or le", field="by")
    if sex not in ("male", "female", "persons"):
        raise InputError(f"--sex {sex!r}: use male, female or persons", field="sex")
    st = state(ctx)
    place = place or st.settings.place
    pairs = geography.contrasts(
        st.store(), by=by, place=place, near=_lon_lat(near) if near else None,  # type: ignore[arg-type]  # checked above
        radius_m=radius_m, limit=limit, imd_release=imd_release, sex=sex,  # type: ignore[arg-type]  # checked above
    )  # fmt: skip
    if as_json:
        print_json([p.to_dict() for p in pairs])
        return
    table = Table(title=f"Contrasts by {by}" + (f" near {near}" if near else f" in {place}"))
    for col in (
        "area",
        "value",
        "neighbour",
        "value ",
        "gap",
        "significant" if by == "le" else "rank gap",
        "km apart",
    ):
        table.add_column(col)
    for p in pairs:
        extra = (
            ("yes" if p.significant else "no" if p.significant is not None else "?")
            if by == "le"
            else str(p.rank_gap)
        )
        table.add_row(
            f"{p.a_name} ({p.a_code})",
            f"{p.a_value:g}",
            f"{p.b_name} ({p.b_code})",
            f"{p.b_value:g}",
            f"{p.gap:.1f}",
            extra,
            f"{p.distance_m / 1000:.2f}",
        )
    console.print(table)

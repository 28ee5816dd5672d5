"""``strengthmap areas``: one area's profile (``show``)."""

from __future__ import annotations

from typing import Any

import typer

from strengthmap.areas import AreaProfile, area_profile, postcode_profile
from strengthmap.cli.common import console, print_json, state
from strengthmap.errors import InputError

app = typer.Typer(help="Areas: profiles of LSOAs, MSOAs and wards.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    code: str | None = typer.Argument(None, help="An ONS area code, e.g. E01011264."),
    postcode: str | None = typer.Option(
        None, "--postcode", help='A postcode, e.g. "LS12 1BE": shows its LSOA.'
    ),
    vintage: int | None = typer.Option(
        None, "--vintage", help="Which vintage of the code (2011, 2021...)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Show one area: names, parents, population, IMD of every release covering it, life expectancy."""
    store = state(ctx).store()
    if postcode:
        record = postcode_profile(store, postcode)
    elif code:
        record = area_profile(store, code, vintage=vintage)
    else:
        raise InputError("give an area CODE or --postcode", field="CODE")
    if as_json:
        print_json(record)
    else:
        _print(record)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)


def _print(r: AreaProfile) -> None:
    console.print(f"[bold]{r['code']}[/] {r['name']} ({r['level'].upper()} {r['vintage']})")
    if "postcode" in r:
        pc = r["postcode"]
        console.print(f"postcode {pc['postcode']} at {pc['lon']}, {pc['lat']}")
    for p in r["parents"]:
        console.print(f"  in {p['level'].upper()} {p['vintage']}: {p['code']} {p['name']}")
    console.print(f"population: {_fmt(r['population'])} (mid-{r['population_year'] or '?'})")
    for release, rec in r["imd_releases"].items():
        n = rec.get("n_areas")
        line = f"IMD {release}: rank {_fmt(rec['rank'])} of {_fmt(n)}, decile {_fmt(rec['decile'])}, score {_fmt(rec['score'])}"
        if rec.get("parts"):
            line += (
                " (split: "
                + ", ".join(f"{p['lsoa_code']} rank {_fmt(p['rank'])}" for p in rec["parts"])
                + ")"
            )
        console.print(line)
    le = r.get("life_expectancy")
    if le:
        for sex, v in (("male", le["male"]), ("female", le["female"])):
            if v.get("suppressed"):
                console.print(f"life expectancy {sex}: suppressed by ONS (MSOA {le['msoa_code']})")
            else:
                console.print(
                    f"life expectancy {sex}: {_fmt(v.get('value'))} years (95% CI {_fmt(v.get('lower'))}-{_fmt(v.get('upper'))})"
                )

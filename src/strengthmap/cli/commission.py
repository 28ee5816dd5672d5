"""``strengthmap commission``: access to assets, need beside strength, the allocator, the health
gap, source coverage, and commissions with their co-production log (``strengthmap.commissioning``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from strengthmap.cli.common import console, print_json, state
from strengthmap.errors import InputError

app = typer.Typer(
    help="Commissioning: access (2SFCA), need beside strength, allocation, the health gap, "
    "commissions and their co-production log.",
    no_args_is_help=True,
)


def _codes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    codes = [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]
    if not codes:
        raise InputError("no area codes given", field="areas")
    return codes


def _bands(text: str | None) -> list[tuple[float, float]] | None:
    """``"500:1,1000:0.68,1500:0.22"`` -> [(500, 1.0), (1000, 0.68), (1500, 0.22)]."""
    if text is None:
        return None
    out = []
    for part in text.split(","):
        try:
            upper, weight = part.split(":")
            out.append((float(upper), float(weight)))
        except ValueError:
            raise InputError(
                f"bands are UPPER_M:WEIGHT,...; cannot read {part!r}", field="bands"
            ) from None
    return out


def _money(value: float | None) -> str:
    return "–" if value is None else f"£{value / 100:,.2f}"


def _attribution(lines: list[str]) -> None:
    if lines:
        console.print(" ".join(lines), style="dim")


# --- access --------------------------------------------------------------------------------------


@app.command("access")
def access(
    ctx: typer.Context,
    text: str | None = typer.Option(None, "--text", help="Directory search: free text."),
    taxonomy: str | None = typer.Option(
        None, "--taxonomy", help="Directory search: a taxonomy term (id, code or name)."
    ),
    kind: str | None = typer.Option(
        None, "--kind", help="Directory search: ABCD kind (association, institution, ...)."
    ),
    source: list[str] | None = typer.Option(
        None, "--source", help="Only services of this directory source (repeatable)."
    ),
    supply: Path | None = typer.Option(
        None,
        "--supply",
        help="GeoJSON points instead of the directory (property capacity, default 1).",
    ),
    method: str = typer.Option("2sfca", "--method", help="2sfca | e2sfca"),
    catchment_m: float = typer.Option(
        1000, "--catchment-m", help="Catchment in metres (up to 100 km)."
    ),
    decay: str = typer.Option("steps", "--decay", help="e2sfca: steps | gaussian"),
    bands: str | None = typer.Option(
        None, "--bands", help='e2sfca steps: "UPPER_M:WEIGHT,..." (default thirds, 1/0.68/0.22).'
    ),
    sigma_m: float | None = typer.Option(
        None, "--sigma-m", help="e2sfca gaussian: width in metres (default half the catchment)."
    ),
    areas: str | None = typer.Option(
        None,
        "--areas",
        help="Only these areas: LSOA 2011, MSOA 2011 or district codes, comma separated.",
    ),
    limit: int = typer.Option(
        20, "--limit", help="Table: show this many areas, lowest access first."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Access of each area to assets: supply per 1,000 residents (``access_to_assets``)."""
    from strengthmap.commissioning.access import access_to_assets

    result = access_to_assets(
        state(ctx).store(), text=text, taxonomy=taxonomy, kind=kind, sources=source or None,
        supply_file=supply, method=method, catchment_m=catchment_m, bands=_bands(bands),
        decay=decay, sigma_m=sigma_m, areas=_codes(areas),
    )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    rows = sorted(result.areas, key=lambda a: (a.access, a.code))
    table = Table(
        title=f"{result.method.upper()} access, {result.catchment_m:,.0f} m {result.distance}: "
        f"{result.supply_points} supply points, {len(rows)} areas (lowest {min(limit, len(rows))})"
    )
    for col in ("area", "name", "population", "access /1,000", "in reach", "nearest"):
        table.add_column(col)
    for a in rows[:limit]:
        near = f"{a.nearest_m:,.0f} m {a.nearest_name or ''}" if a.nearest_m is not None else "–"
        table.add_row(
            a.code, a.name or "", f"{a.population:,}", f"{a.access:.3f}", str(a.in_reach), near
        )
    console.print(table)
    none = sum(1 for a in result.areas if a.in_reach == 0)
    console.print(f"{none} of {len(result.areas)} areas have no supply point within the catchment")
    for note in result.notes:
        console.print(note)
    _attribution(result.attribution)


# --- need beside strength ------------------------------------------------------------------------


@app.command("need-strength")
def need_strength(
    ctx: typer.Context,
    imd_release: int | None = typer.Option(
        None, "--imd-release", help="2019 or 2025 (default: the latest loaded)."
    ),
    need: str = typer.Option(
        "imd",
        "--need",
        help="imd, an IMD domain (income, health, ...), le_male, le_female, le_persons",
    ),
    basis: str = typer.Option("auto", "--basis", help="IMD need by: auto | score | rank"),
    text: str | None = typer.Option(None, "--text", help="Assets: directory free text."),
    taxonomy: str | None = typer.Option(None, "--taxonomy", help="Assets: a taxonomy term."),
    kind: list[str] | None = typer.Option(
        None, "--kind", help="ABCD kinds that make up strength (repeatable; default all found)."
    ),
    source: list[str] | None = typer.Option(
        None, "--source", help="Only assets of this directory source (repeatable)."
    ),
    method: str = typer.Option("2sfca", "--method", help="2sfca | e2sfca"),
    catchment_m: float = typer.Option(1000, "--catchment-m", help="Catchment in metres."),
    need_threshold: float | None = typer.Option(
        None, "--need-threshold", help="High need at or above this (default: the top tercile)."
    ),
    strength_threshold: float | None = typer.Option(
        None,
        "--strength-threshold",
        help="Low strength at or below this (default: the bottom tercile).",
    ),
    need_quantile: float = typer.Option(
        2 / 3, "--need-quantile", help="Quantile of the default need threshold."
    ),
    strength_quantile: float = typer.Option(
        1 / 3, "--strength-quantile", help="Quantile of the default strength threshold."
    ),
    areas: str | None = typer.Option(
        None, "--areas", help="Only these areas (codes, comma separated)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Need beside strength per area, with quadrants and coverage (``need_strength``)."""
    from strengthmap.commissioning.need import QUADRANTS
    from strengthmap.commissioning.need import need_strength as run

    result = run(
        state(ctx).store(), imd_release=imd_release, need=need, basis=basis, text=text,
        taxonomy=taxonomy, kinds=kind or None, sources=source or None, method=method,
        catchment_m=catchment_m, need_threshold=need_threshold,
        strength_threshold=strength_threshold, need_quantile=need_quantile,
        strength_quantile=strength_quantile, areas=_codes(areas),
    )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    t = result.thresholds
    console.print(
        f"need: {result.need.unit}; high need >= {t.need:.3f}. strength: {result.strength.method} "
        f"{result.strength.catchment_m:,.0f} m, 1.0 = the place's average; low strength <= {t.strength:.3f}"
    )
    table = Table(title="Quadrants")
    table.add_column("quadrant")
    table.add_column("areas", justify="right")
    for key, n in result.counts().items():
        table.add_row(QUADRANTS[key], str(n))
    console.print(table)
    look = [a for a in result.areas if a.quadrant == "look_here_first"]
    look.sort(key=lambda a: (-(a.need or 0), a.code))
    if look:
        lt = Table(title="Look here first: high need, low strength")
        for col in ("area", "name", "need", "strength", "coverage"):
            lt.add_column(col)
        for a in look:
            lt.add_row(a.code, a.name, f"{a.need:.2f}", f"{a.strength:.3f}", a.coverage)
        console.print(lt)
    console.print("coverage: " + ", ".join(f"{k} {v}" for k, v in result.coverage_counts().items()))
    for note in result.notes:
        console.print(note)
    _attribution(result.attribution)


# --- allocate ------------------------------------------------------------------------------------


def _options(
    budget: str,
    universal_share: float,
    need: str,
    gradient: str,
    floor: str | None,
    cap: str | None,
    decile_weights: str | None,
    name: str | None = None,
) -> Any:
    from strengthmap.commissioning.allocate import (
        DEFAULT_DECILE_WEIGHTS,
        AllocationOptions,
        check_budget,
        parse_pounds,
    )

    pence = check_budget(parse_pounds(budget, field="budget"))
    weights = DEFAULT_DECILE_WEIGHTS
    if decile_weights is not None:
        try:
            weights = tuple(float(w) for w in decile_weights.split(","))
        except ValueError:
            raise InputError("ten numbers, comma separated", field="decile_weights") from None
    options = AllocationOptions(
        budget_pence=pence,
        universal_share=universal_share,
        need=need,
        gradient=gradient,
        floor_pence=parse_pounds(floor, field="floor") if floor is not None else 0,
        cap_pence=parse_pounds(cap, field="cap") if cap is not None else None,
        decile_weights=weights,
        name=name,
    )
    options.check()
    return options


@app.command("allocate")
def allocate(
    ctx: typer.Context,
    budget: str = typer.Option(..., "--budget", help="Pounds, e.g. 1000000, 1,000,000 or 1m."),
    universal_share: float = typer.Option(
        0.5, "--universal-share", help="Share split per head alike, 0..1 (the rest by need)."
    ),
    need: str = typer.Option("imd2019", "--need", help="imd2019 | imd2025 | le"),
    gradient: str = typer.Option("rank", "--gradient", help="rank | decile | score"),
    floor: str | None = typer.Option(None, "--floor", help="No area gets less (pounds)."),
    cap: str | None = typer.Option(None, "--cap", help="No area gets more (pounds)."),
    decile_weights: str | None = typer.Option(
        None,
        "--decile-weights",
        help="Decile gradient: ten weights, decile 1 first (default 10..1).",
    ),
    areas: str | None = typer.Option(
        None, "--areas", help="Only these areas (codes, comma separated)."
    ),
    save: str | None = typer.Option(
        None, "--save", help="Keep the allocation with this commission (its id)."
    ),
    limit: int = typer.Option(15, "--limit", help="Table: the biggest gainers and losers."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Split a budget by proportionate universalism, in pence (``allocate_budget``)."""
    from strengthmap.commissioning.allocate import allocate_budget
    from strengthmap.commissioning.cycle import CLI_USER, save_allocation

    options = _options(budget, universal_share, need, gradient, floor, cap, decile_weights)
    store = state(ctx).store()
    result = allocate_budget(store, options, areas=_codes(areas))
    if save is not None:
        save_allocation(store, CLI_USER, save, result)
    if as_json:
        print_json(result.to_dict())
        return
    console.print(result.formula)
    console.print(result.symbols, style="dim")
    s = result.summary
    console.print(
        f"most deprived fifth ({s.quintile_basis}): {s.most_deprived_quintile_share:.1%} of the "
        f"money for {s.most_deprived_quintile_population_share:.1%} of the people; "
        f"concentration index {round(s.concentration_index, 3) + 0.0:+.3f}; {s.gainers} areas gain, {s.losers} lose "
        "against an equal split per head"
    )
    ranked = sorted(result.areas, key=lambda a: (-a.vs_equal_pence, a.code))
    table = Table(title="Who gains, who loses (against an equal split per head)")
    for col in ("area", "name", "population", "need", "allocation", "per head", "vs equal"):
        table.add_column(col)
    shown = ranked[:limit] + ranked[-limit:] if len(ranked) > 2 * limit else ranked
    for a in shown:
        table.add_row(
            a.code, a.name or "", f"{a.population:,}",
            "–" if a.need is None else f"{a.need:.2f}", _money(a.allocation_pence),
            f"£{a.per_head_pence / 100:.2f}", f"{'+' if a.vs_equal_pence >= 0 else '-'}{_money(abs(a.vs_equal_pence))}",
        )  # fmt: skip
    console.print(table)
    for note in result.notes:
        console.print(note)
    if save is not None:
        console.print(f"kept with commission {save}")
    _attribution(result.attribution)


def _scenario(text: str, budget: str) -> Any:
    """``"name=equal,u=1"`` / ``"u=0.3,need=imd2025,gradient=score,floor=500"``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise InputError(
                f"scenario settings are KEY=VALUE; cannot read {part!r}", field="scenario"
            )
        k, v = part.split("=", 1)
        fields[k.strip().lower().replace("-", "_")] = v.strip()
    known = {"name", "u", "universal_share", "need", "gradient", "floor", "cap", "decile_weights"}
    for k in fields:
        if k not in known:
            raise InputError(
                f"unknown scenario setting {k!r}; one of {', '.join(sorted(known))}",
                field="scenario",
            )
    raw_u = fields.get("u", fields.get("universal_share", "0.5"))
    try:
        u = float(raw_u)
    except ValueError:
        raise InputError(f"not a number: {raw_u!r}", field="universal_share") from None
    return _options(
        budget, u, fields.get("need", "imd2019"), fields.get("gradient", "rank"),
        fields.get("floor"), fields.get("cap"),
        fields.get("decile_weights", "").replace(";", ",") or None, fields.get("name"),
    )  # fmt: skip


@app.command("compare")
def compare(
    ctx: typer.Context,
    budget: str = typer.Option(..., "--budget", help="Pounds, shared by every scenario."),
    scenario: list[str] = typer.Option(
        ...,
        "--scenario",
        help='Repeat, 2 or more: "name=equal,u=1" or "u=0.3,need=imd2025,gradient=score,floor=500" '
        "(decile_weights separated by ;).",
    ),
    areas: str | None = typer.Option(
        None, "--areas", help="Only these areas (codes, comma separated)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Several allocations of one budget side by side (``compare_scenarios``)."""
    from strengthmap.commissioning.allocate import compare_scenarios

    options = [_scenario(s, budget) for s in scenario]
    result = compare_scenarios(state(ctx).store(), options, areas=_codes(areas))
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(
        title=f"Scenarios for {_money(options[0].budget_pence)}, measured against {result.reference}"
    )
    for col in (
        "scenario",
        "to the most deprived fifth",
        "its population share",
        "concentration index",
        "gain",
        "lose",
    ):
        table.add_column(col)
    for s, m in zip(result.scenarios, result.summaries, strict=True):
        table.add_row(
            s.options.label, f"{m.most_deprived_quintile_share:.1%}",
            f"{m.most_deprived_quintile_population_share:.1%}", f"{round(m.concentration_index, 3) + 0.0:+.3f}",
            str(m.gainers), str(m.losers),
        )  # fmt: skip
    console.print(table)
    for s in result.scenarios:
        console.print(f"{s.options.label}: {s.formula}", style="dim")


# --- gap -----------------------------------------------------------------------------------------


@app.command("gap")
def gap(
    ctx: typer.Context,
    measure: str = typer.Option("le_male", "--measure", help="le_male | le_female | le_persons"),
    imd_release: int = typer.Option(2019, "--imd-release", help="IMD release of the deciles."),
    deciles: str = typer.Option("local", "--deciles", help="local (within the place) | national"),
    repetitions: int = typer.Option(100_000, "--repetitions", help="Simulations for the CIs."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (default: a fixed one)."),
    areas: str | None = typer.Option(
        None, "--areas", help="Only these areas (codes, comma separated)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """SII and RII of life expectancy across IMD deciles, and the decile 1 vs 10 gap (``health_gap``)."""
    from strengthmap.commissioning.gap import SEED, health_gap

    result = health_gap(
        state(ctx).store(), measure=measure, imd_release=imd_release, deciles=deciles,
        repetitions=repetitions, seed=SEED if seed is None else seed, areas=_codes(areas),
    )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    for p in result.periods:
        f = p.fit
        console.print(
            f"{p.period}, {measure}: SII {f.sii:.2f} years ({f.sii_lower:.2f} to {f.sii_upper:.2f}), "
            f"RII {f.rii:.3f} ({f.rii_lower:.3f} to {f.rii_upper:.3f}); decile 10 - decile 1: "
            f"{p.gap:.2f} years ({p.gap_lower:.2f} to {p.gap_upper:.2f})"
        )
        table = Table(title=f"Life expectancy by {result.deciles} IMD {result.imd_release} decile")
        for col in ("decile", "LSOAs", "population", "years", "95% CI"):
            table.add_column(col)
        for d in p.deciles:
            table.add_row(
                str(d.decile),
                str(d.lsoas),
                f"{d.population:,}",
                f"{d.value:.2f}",
                f"{d.lower:.2f}–{d.upper:.2f}",
            )
        console.print(table)
    if result.trend is not None:
        console.print(result.trend.to_dict()["says"])
    for note in result.notes:
        console.print(note)
    _attribution(result.attribution)


# --- coverage ------------------------------------------------------------------------------------


@app.command("coverage")
def coverage(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Where each directory source's data is complete (``list_coverage``)."""
    from strengthmap.directory.coverage import list_coverage

    found = list_coverage(state(ctx).store())
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    table = Table(title="Directory sources and their coverage")
    for col in ("source", "services", "basis", "coverage"):
        table.add_column(col)
    for s in found:
        table.add_row(s.source, f"{s.services:,}", s.coverage.basis, s.coverage.description)
    console.print(table)


@app.command("coverage-record")
def coverage_record(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="The directory source (a service's source)."),
    geojson: Path | None = typer.Option(
        None,
        "--geojson",
        help="A GeoJSON Polygon/MultiPolygon (a geometry, Feature or first feature).",
    ),
    areas: str | None = typer.Option(
        None, "--areas", help="Area or district codes the source covers, comma separated."
    ),
    description: str | None = typer.Option(None, "--description", help="What the coverage is."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Record where a source is complete (``record_coverage``); retires its previous record."""
    from strengthmap.directory.coverage import record_coverage

    polygon: Any = None
    if geojson is not None:
        try:
            doc = json.loads(geojson.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("file not found", file=str(geojson)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid GeoJSON: {exc}", file=str(geojson)) from None
        if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
            doc = (doc.get("features") or [{}])[0]
        if isinstance(doc, dict) and doc.get("type") == "Feature":
            doc = doc.get("geometry")
        if not isinstance(doc, dict):
            raise InputError("no geometry in the file", file=str(geojson), field="polygon")
        polygon = doc
    result = record_coverage(
        state(ctx).store(), source, polygon=polygon, area_codes=_codes(areas),
        description=description, actor="cli",
    )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    console.print(f"recorded the coverage of {source}: {result.description}")


# --- commissions ---------------------------------------------------------------------------------


def _print_commission(record: Any) -> None:
    from strengthmap.commissioning.cycle import STAGE_LABELS

    d = record.to_dict()
    console.print(f"[bold]{d['title']}[/] ({d['id']})", highlight=False)
    console.print(
        f"stage: {STAGE_LABELS[d['stage']]} (cycle {d['cycle']}); budget {_money(d['budget_pence'])}; "
        f"{'published' if d['public'] else 'not published'}; owner {d['owner'] or '–'}",
        highlight=False,
    )
    for flag in d["flags"]:
        console.print(f"[bold red]flag:[/] {flag}")
    st = Table(title="Stages")
    for col in ("stage", "cycle", "from", "to", "note"):
        st.add_column(col)
    for s in d["stages"]:
        st.add_row(
            s["label"], str(s["cycle"]), s["started_on"], s["ended_on"] or "now", s["note"] or ""
        )
    console.print(st)
    it = Table(title="Involvement")
    for col in ("held", "stage", "method", "residents", "deciles", "said", "changed", "public"):
        it.add_column(col)
    for e in d["involvement"]:
        if e["retired"]:
            continue
        it.add_row(
            e["held_on"], e["stage_label"], e["method_label"], str(e["residents"]),
            ",".join(map(str, e["imd_deciles"])), e["said"] or "", e["changed"] or "",
            "yes" if e["public"] else "no",
        )  # fmt: skip
    console.print(it)


@app.command("create")
def create(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", help="What is commissioned."),
    budget: str | None = typer.Option(None, "--budget", help="Pounds."),
    areas: str | None = typer.Option(None, "--areas", help="Area codes, comma separated."),
    owner: str | None = typer.Option(None, "--owner", help="The owner's account email."),
    description: str | None = typer.Option(None, "--description", help="What and why."),
    place: str | None = typer.Option(None, "--place", help="The place, e.g. Leeds."),
    started_on: str | None = typer.Option(None, "--started-on", help="YYYY-MM-DD (default today)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start a commission at stage analyse need (``create_commission``)."""
    from strengthmap.commissioning.allocate import parse_pounds
    from strengthmap.commissioning.cycle import CLI_USER, create_commission

    record = create_commission(
        state(ctx).store(), CLI_USER, title=title,
        budget_pence=parse_pounds(budget, field="budget") if budget is not None else None,
        areas=_codes(areas), owner=owner, description=description, place=place,
        started_on=started_on,
    )  # fmt: skip
    if as_json:
        print_json(record.to_dict())
        return
    _print_commission(record)


@app.command("list")
def list_(
    ctx: typer.Context,
    include_retired: bool = typer.Option(False, "--all", help="Also retired commissions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every commission, newest first, with its stage and flags (``list_commissions``)."""
    from strengthmap.commissioning.cycle import CLI_USER, STAGE_LABELS, list_commissions

    found = list_commissions(state(ctx).store(), CLI_USER, include_retired=include_retired)
    if as_json:
        print_json([c.to_dict() for c in found])
        return
    table = Table(title="Commissions")
    for col in ("id", "title", "stage", "budget", "residents", "public", "flags"):
        table.add_column(col)
    for c in found:
        table.add_row(
            c.id, c.title, STAGE_LABELS[c.stage], _money(c.budget_pence), str(c.residents),
            "yes" if c.public else "no", "; ".join(c.flags),
        )  # fmt: skip
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    commission_id: str = typer.Argument(..., help="The commission's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One commission with its stages, involvement and flags (``get_commission``)."""
    from strengthmap.commissioning.cycle import CLI_USER, get_commission

    record = get_commission(state(ctx).store(), commission_id, CLI_USER)
    if as_json:
        print_json(record.to_dict())
        return
    _print_commission(record)


@app.command("stage")
def stage(
    ctx: typer.Context,
    commission_id: str = typer.Argument(..., help="The commission's id."),
    to: str = typer.Argument(..., help="analyse_need | plan | design_procure | deliver | review"),
    on: str | None = typer.Option(None, "--on", help="YYYY-MM-DD (default today)."),
    note: str | None = typer.Option(None, "--note", help="Why, or what was decided."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Move a commission to a stage (``move_stage``): on one, or back, never skipping."""
    from strengthmap.commissioning.cycle import CLI_USER, move_stage

    record = move_stage(state(ctx).store(), CLI_USER, commission_id, to, on=on, note=note)
    if as_json:
        print_json(record.to_dict())
        return
    _print_commission(record)


@app.command("involve")
def involve(
    ctx: typer.Context,
    commission_id: str = typer.Argument(..., help="The commission's id."),
    held_on: str = typer.Option(..., "--on", help="When it was held, YYYY-MM-DD."),
    at_stage: str = typer.Option(..., "--stage", help="The stage it informed."),
    method: str = typer.Option(
        ..., "--method", help="walk | story_circle | workshop | survey | co_design_session"
    ),
    residents: int = typer.Option(..., "--residents", help="How many residents took part."),
    group: list[str] | None = typer.Option(
        None, "--group", help="A group that took part (repeatable)."
    ),
    areas: str | None = typer.Option(
        None, "--areas", help="Areas the residents came from (codes)."
    ),
    deciles: str | None = typer.Option(
        None, "--deciles", help="IMD deciles they came from, e.g. 1,2 (default: from --areas)."
    ),
    said: str | None = typer.Option(None, "--said", help="What residents said."),
    changed: str | None = typer.Option(None, "--changed", help="What changed because of it."),
    public: bool = typer.Option(False, "--public", help='Show on the public "you said, we did".'),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Log residents' involvement at a stage (``record_involvement``)."""
    from strengthmap.commissioning.cycle import (
        CLI_USER,
        METHOD_LABELS,
        STAGE_LABELS,
        record_involvement,
    )

    decile_list: list[int] | None = None
    if deciles is not None:
        try:
            decile_list = [int(d) for d in deciles.split(",") if d.strip()]
        except ValueError:
            raise InputError(
                f"deciles are whole numbers 1..10: {deciles!r}", field="imd_deciles"
            ) from None
    event = record_involvement(
        state(ctx).store(), CLI_USER, commission_id, held_on=held_on, stage=at_stage,
        method=method, residents=residents, groups=group or (), areas=_codes(areas) or (),
        imd_deciles=decile_list, said=said, changed=changed, public=public,
    )  # fmt: skip
    if as_json:
        print_json(event.to_dict())
        return
    console.print(
        f"recorded a {METHOD_LABELS[event.method]} of {event.held_on.isoformat()} at "
        f"{STAGE_LABELS[event.stage]}: {event.residents} residents ({event.id})"
    )


@app.command("publish")
def publish(
    ctx: typer.Context,
    commission_id: str = typer.Argument(..., help="The commission's id."),
    unpublish: bool = typer.Option(False, "--unpublish", help="Take it off the public pages."),
) -> None:
    """Publish a commission's public face, or take it down (``set_public``)."""
    from strengthmap.commissioning.cycle import CLI_USER, set_public

    record = set_public(state(ctx).store(), CLI_USER, commission_id, not unpublish)
    console.print(f"{record.title}: {'published' if record.public else 'not published'}")


@app.command("you-said-we-did")
def you_said(
    ctx: typer.Context,
    commission_id: str = typer.Argument(..., help="The commission's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What residents said and what changed, only what is marked public (``you_said_we_did``)."""
    from strengthmap.commissioning.cycle import CLI_USER, you_said_we_did

    # only what is marked public, even here (a preview of an unpublished commission too)
    page = you_said_we_did(state(ctx).store(), commission_id, CLI_USER)
    if as_json:
        print_json(page.to_dict())
        return
    console.print(f"[bold]{page.title}[/]: you said, we did", highlight=False)
    for flag in page.flags:
        console.print(f"[bold red]flag:[/] {flag}")
    for item in page.items:
        console.print(f"{item['held_on']} ({item['method_label']}, {item['residents']} residents)")
        if item["you_said"]:
            console.print(f"  you said: {item['you_said']}")
        if item["we_did"]:
            console.print(f"  we did: {item['we_did']}")
    if not page.items:
        console.print("nothing is published yet")

"""``strengthmap network``: import, measures, brokers, suggest, export.

The CLI is a trusted operator with the database in hand: it acts as an admin (actor ``cli``)
and sees every record, private ones included. ``--as-viewer public`` shows what anyone may see
(the public pages), ``--as-viewer internal`` what a signed-in user may see; use one of them for
a file you mean to share.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from strengthmap.cli.common import console, err_console, print_json, state
from strengthmap.errors import InputError
from strengthmap.network.model import EXPORT_FORMATS, IMPORT_FORMATS, Viewer

# the library (igraph, networkx, scipy, the geography) is imported by the commands that use
# it, so that every other command of the CLI starts quickly

app = typer.Typer(
    help="The network of people and organisations: import, measures, brokers, introductions, "
    "export. The CLI acts as a trusted operator (an admin: it sees private records too); "
    "--as-viewer public|internal shows what anyone, or a signed-in user, may see.",
    no_args_is_help=True,
)

_VIEWERS = ("public", "internal")


def _viewer(as_viewer: str | None) -> Viewer:
    if as_viewer is None:
        return Viewer.operator()
    if as_viewer == "public":
        return Viewer.anonymous()
    if as_viewer == "internal":
        return Viewer.signed_in("cli")
    raise InputError(f"not a viewer: {as_viewer!r} (public or internal)", field="--as-viewer")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {text!r}", field="--at") from None


_AS_VIEWER = typer.Option(
    None,
    "--as-viewer",
    help="See the network as 'public' (anyone) or 'internal' (a signed-in user) would; "
    "by default the CLI sees everything (it acts as an admin).",
)
_AT = typer.Option(
    None, "--at", help="The network on this day (YYYY-MM-DD): the ties that held then."
)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


@app.command("import")
def import_(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(
        ..., help="A folder holding nodes.csv and edges.csv, the two files, or a Kumu JSON file."
    ),
    format: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(IMPORT_FORMATS)} (.json is kumu when not given)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import people, directory records and ties, all or nothing (``import_network``)."""
    from strengthmap.network import import_network

    report = import_network(
        state(ctx).store(), files if len(files) > 1 else files[0], format=format
    )
    if as_json:
        print_json(report.to_dict())
        return
    table = Table(title=f"{report.source} ({report.format})")
    for column in ("", "created", "updated", "unchanged"):
        table.add_column(column, justify="right" if column else "left")
    for name, counts in (
        ("people", report.people),
        ("directory records", report.members),
        ("ties", report.ties),
    ):
        table.add_row(name, f"{counts.created:,}", f"{counts.updated:,}", f"{counts.unchanged:,}")
    console.print(table)


@app.command("measures")
def measures(
    ctx: typer.Context,
    at: str | None = _AT,
    as_json: bool = typer.Option(False, "--json", help="Print every node's measures as JSON."),
    directed: bool = typer.Option(False, "--directed", help="Ties run from source to target."),
    weighted: bool = typer.Option(False, "--weighted", help="Use the ties' weights."),
    as_viewer: str | None = _AS_VIEWER,
    limit: int = typer.Option(20, "--limit", help="Rows of the table (by betweenness)."),
) -> None:
    """Degree, betweenness, constraint, effective size, communities and more (``network_measures``)."""
    from strengthmap.network import network_measures

    result = network_measures(
        state(ctx).store(), _viewer(as_viewer), at=_day(at), directed=directed, weighted=weighted
    )
    if as_json:
        print_json(result.to_dict())
        return
    g = result.graph
    console.print(
        f"{g.nodes:,} nodes, {g.edges:,} edges ({g.ties:,} ties), {g.components:,} component(s), "
        f"{g.communities:,} communities (modularity {_fmt(g.modularity)}), {g.bridges:,} bridge(s), "
        f"{g.bridging_ties:,} tie(s) across IMD quintiles"
        + (f"; as at {g.as_at.isoformat()}" if g.as_at else "")
    )
    table = Table(title="by betweenness")
    for column in ("name", "kind", "degree", "betweenness", "constraint", "eff. size", "community"):
        table.add_column(column, justify="left" if column in ("name", "kind") else "right")
    for n in sorted(result.nodes, key=lambda n: (-n.betweenness, n.id))[: max(0, limit)]:
        table.add_row(
            n.name,
            n.kind,
            str(n.degree),
            _fmt(n.betweenness),
            _fmt(n.constraint),
            _fmt(n.effective_size, 1),
            str(n.community),
        )
    console.print(table)


@app.command("brokers")
def brokers(
    ctx: typer.Context,
    top: int = typer.Option(10, "--top", help="How many brokers."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    at: str | None = _AT,
    as_viewer: str | None = _AS_VIEWER,
) -> None:
    """Who connects whom: the top brokers and why (``network_brokers``)."""
    from strengthmap.network import network_brokers

    result = network_brokers(state(ctx).store(), _viewer(as_viewer), top=top, at=_day(at))
    if as_json:
        print_json(result.to_dict())
        return
    if not result.brokers:
        console.print("no brokers: nobody lies between others in this network")
    for b in result.brokers:
        console.print(f"[bold]{b.rank}. {b.name}[/] ({b.kind}): {b.reason}", highlight=False)


@app.command("suggest")
def suggest(
    ctx: typer.Context,
    top: int = typer.Option(10, "--top", help="How many introductions."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    at: str | None = _AT,
    as_viewer: str | None = _AS_VIEWER,
) -> None:
    """Introductions that would close a structural hole or link a deprived area (``network_suggestions``)."""
    from strengthmap.network import network_suggestions

    result = network_suggestions(state(ctx).store(), _viewer(as_viewer), top=top, at=_day(at))
    if as_json:
        print_json(result.to_dict())
        return
    if not result.suggestions:
        console.print("no introductions to suggest")
    for i, s in enumerate(result.suggestions, start=1):
        console.print(
            f"[bold]{i}. {s.a.name} and {s.b.name}[/] ({s.kind}): {s.reason}", highlight=False
        )


@app.command("export")
def export_(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The file to write (a folder for csv)."),
    format: str = typer.Option(..., "--format", help=f"One of {', '.join(EXPORT_FORMATS)}."),
    at: str | None = _AT,
    as_viewer: str | None = _AS_VIEWER,
) -> None:
    """Write the network with its measures: GraphML, GEXF, Kumu JSON or CSV (``export_network``)."""
    from strengthmap.network import export_network

    viewer = _viewer(as_viewer)
    report = export_network(state(ctx).store(), format, out, viewer, at=_day(at))
    console.print(f"wrote {report.nodes:,} node(s) and {report.ties:,} tie(s) to {out} ({format})")
    if as_viewer is None:
        err_console.print(
            "note: made as the operator, this file may hold private and internal people and "
            "ties; for a file to share use --as-viewer public (or internal)"
        )

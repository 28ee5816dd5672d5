"""``strengthmap stories``: tell, moderate, withdraw, list, search, export and count stories
(calls ``strengthmap.stories``).

The command line acts as its operator (whoever can open the database), with an admin's rights,
unless ``--as EMAIL`` names a user account whose role should apply (``--as anonymous``: what the
public sees). A viewer's account cannot moderate: the command fails and writes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from strengthmap import accounts
from strengthmap.cli.common import console, err_console, print_json, state
from strengthmap.errors import InputError
from strengthmap.storage import Store
from strengthmap.stories import (
    AGE_BANDS,
    CONSENT_LEVELS,
    CONSENT_METHODS,
    EXPORT_FORMATS,
    OPERATOR,
    PRECISIONS,
    RELATIONS,
    PlaceInput,
    StoryDraft,
    StoryPage,
    StoryQuery,
    StoryView,
    TokenNotValid,
    Tombstone,
    Viewer,
    add_story,
    add_theme,
    approve_story,
    atom_feed,
    export_stories,
    get_story,
    list_stories,
    list_themes,
    moderation_policy,
    moderation_queue,
    redact_story,
    redaction_history,
    reject_story,
    request_changes,
    retire_theme,
    set_moderation_policy,
    story_counts,
    story_for_token,
    story_history,
    withdraw_story,
    withdraw_with_token,
)

app = typer.Typer(
    help="Stories with consent: tell, moderate, withdraw, list, search, export.",
    no_args_is_help=True,
)

AS_HELP = (
    "Act as this user account (its role applies); 'anonymous' for the public's view. "
    "Default: the operator, with an admin's rights."
)


def _viewer(store: Store, as_user: str | None) -> Viewer:
    if as_user is None:
        return OPERATOR
    if as_user.strip().lower() == "anonymous":
        return Viewer()
    return Viewer.of(accounts.get_user(store, as_user))


def _lonlat(value: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        raise InputError(
            f"{value!r}: give LON,LAT in degrees, e.g. -1.5478,53.7965", field="--lonlat"
        ) from None
    return lon, lat


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date (YYYY-MM-DD)", field=name) from None


def _query(
    *,
    text: str | None = None,
    status: str | None = None,
    area: str | None = None,
    themes: list[str] | None = None,
    consent: str | None = None,
    asset: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> StoryQuery:
    return StoryQuery(
        text=text,
        status=status,
        area=area,
        themes=tuple(themes or ()),
        consent=consent,
        asset=asset,
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        page=page,
        per_page=per_page,
    )


def _print_page(page: StoryPage, title: str) -> None:
    table = Table(title=f"{page.total:,} {title}, page {page.page} of {page.total_pages}")
    for column in ("#", "status", "consent", "themes", "place", "story", "id"):
        table.add_column(column, style="dim" if column == "id" else None)
    for s in page.items:
        if isinstance(s, Tombstone):
            table.add_row(str(s.number), s.status, "", "", "", s.reason, s.id)
            continue
        place = s.place.label if s.place and s.place.label else ""
        table.add_row(
            str(s.number),
            s.status,
            s.consent,
            ", ".join(t.slug for t in s.themes),
            place,
            (f"{s.title}: " if s.title else "") + s.excerpt,
            s.id,
        )
    console.print(table)


def _print_story(story: StoryView | Tombstone) -> None:
    if isinstance(story, Tombstone):
        console.print(
            f"story #{story.number}: {story.reason} on {story.withdrawn_at:%Y-%m-%d}",
            highlight=False,
        )
        return
    console.print(
        f"[bold]#{story.number} {story.display_title}[/] ({story.status}, {story.consent})"
    )
    for paragraph in story.paragraphs:
        console.print(paragraph, highlight=False, markup=False)
        console.print()
    if story.place is not None:
        console.print(
            f"place: {story.place.label or '-'} ({story.place.precision or 'no point'})",
            highlight=False,
        )
    if story.themes:
        console.print("themes: " + ", ".join(t.label for t in story.themes), highlight=False)


@app.command("add")
def add(
    ctx: typer.Context,
    text: str = typer.Option(..., "--text", help="The story, as told (any script, kept exactly)."),
    title: str | None = typer.Option(None, "--title", help="An optional title."),
    postcode: str | None = typer.Option(None, "--postcode", help="Where: a postcode."),
    lonlat: str | None = typer.Option(None, "--lonlat", help="Where: LON,LAT in degrees."),
    area: str | None = typer.Option(None, "--area", help="Where: an area code (LSOA, MSOA, ward)."),
    service: str | None = typer.Option(None, "--service", help="About a directory service (id)."),
    location: str | None = typer.Option(
        None, "--location", help="About a directory location (id)."
    ),
    theme: list[str] = typer.Option(
        [], "--theme", help="A theme slug or label (repeatable); see `stories themes`."
    ),
    consent: str = typer.Option(
        "private", "--consent", help=f"Who may read it: {' | '.join(CONSENT_LEVELS)}."
    ),
    precision: str | None = typer.Option(
        None,
        "--precision",
        help=f"How exactly to keep the place: {' | '.join(PRECISIONS)} "
        "(default: street for a postcode or point, exact for an asset).",
    ),
    age_band: str | None = typer.Option(
        None, "--age-band", help=f"The teller's age band: {', '.join(AGE_BANDS)}."
    ),
    relation: str | None = typer.Option(
        None, "--relation", help=f"The teller's relation to the place: {', '.join(RELATIONS)}."
    ),
    consent_method: str | None = typer.Option(
        None, "--consent-method", help=f"How consent was given: {', '.join(CONSENT_METHODS)}."
    ),
    allow_personal_data: bool = typer.Option(
        False,
        "--allow-personal-data",
        help="Save even though the text holds what looks like personal data (the teller "
        "confirmed they want it kept). Without it such a story is refused, with the matches.",
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Save a story with its place, themes and consent (``add_story``); prints the teller's
    withdrawal token once."""
    store = state(ctx).store()
    draft = StoryDraft(
        text=text,
        title=title,
        place=PlaceInput(
            postcode=postcode,
            lonlat=_lonlat(lonlat) if lonlat else None,
            area=area,
            service=service,
            location=location,
            precision=precision,
        ),
        themes=tuple(theme),
        consent=consent,
        age_band=age_band,
        relation=relation,
        consent_method=consent_method,
    )
    added = add_story(
        store, draft, viewer=_viewer(store, as_user), allow_personal_data=allow_personal_data
    )
    if as_json:
        print_json(added.to_dict())
        return
    console.print(f"story #{added.number} saved ({added.status}, {added.consent})", highlight=False)
    console.print(f"id: {added.id}", highlight=False)
    console.print(
        "withdrawal token (shown this once; give it to the teller, it lets them see the "
        f"story's state and withdraw it): {added.withdraw_token}",
        highlight=False,
    )


def _redact_span(value: str) -> tuple[int, int]:
    try:
        start, end = (int(v) for v in value.split(":"))
    except ValueError:
        raise InputError(f"{value!r}: give START:END, e.g. 10:25", field="--redact") from None
    return start, end


@app.command("moderate")
def moderate(
    ctx: typer.Context,
    story: str = typer.Argument(..., help="The story's id or number."),
    approve: bool = typer.Option(False, "--approve", help="Approve it (publishes a public story)."),
    reject: str | None = typer.Option(None, "--reject", help="Reject it, with this reason."),
    changes: str | None = typer.Option(
        None, "--changes", help="Ask the teller for changes (this note is shown to them)."
    ),
    redact: str | None = typer.Option(
        None, "--redact", help="Redact the passage START:END (characters, from 0)."
    ),
    field: str = typer.Option("text", "--field", help="With --redact: text or title."),
    reason: str | None = typer.Option(
        None, "--reason", help="With --redact: why (kept for admins)."
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the story as JSON."),
) -> None:
    """One moderation action (``approve_story``, ``reject_story``, ``request_changes``,
    ``redact_story``); editors and admins only."""
    chosen = [
        name
        for name, given in (
            ("--approve", approve),
            ("--reject", reject is not None),
            ("--changes", changes is not None),
            ("--redact", redact is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise InputError(
            "give exactly one of --approve, --reject REASON, --changes NOTE, --redact START:END"
            + (f" (got {', '.join(chosen)})" if chosen else ""),
            field="action",
        )
    store = state(ctx).store()
    viewer = _viewer(store, as_user)
    if approve:
        view = approve_story(store, story, viewer=viewer)
    elif reject is not None:
        view = reject_story(store, story, reject, viewer=viewer)
    elif changes is not None:
        view = request_changes(store, story, changes, viewer=viewer)
    else:
        assert redact is not None
        if field not in ("text", "title"):
            raise InputError(f"--field is text or title, not {field!r}", field="--field")
        start, end = _redact_span(redact)
        view = redact_story(
            store,
            story,
            start,
            end,
            viewer=viewer,
            field="title" if field == "title" else "text",
            reason=reason,
        )
    if as_json:
        print_json(view.to_dict())
        return
    done = "redacted" if redact is not None else view.status
    console.print(f"story #{view.number}: {done}", highlight=False)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    story: str = typer.Argument(..., help="The story's id or number."),
    token: str | None = typer.Option(
        None,
        "--token",
        help="The teller's withdrawal token (else: staff, at the teller's request).",
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the tombstone as JSON."),
) -> None:
    """Withdraw a story: its words leave every view, search, export and feed at once
    (``withdraw_with_token`` with --token, else ``withdraw_story``)."""
    store = state(ctx).store()
    if token is not None:
        own = story_for_token(store, token).story
        if story.strip().lstrip("#") not in (own.id, str(own.number)):
            raise TokenNotValid("this withdrawal token is not the one of that story", field="token")
        tomb = withdraw_with_token(store, token)
    else:
        tomb = withdraw_story(store, story, viewer=_viewer(store, as_user))
    if as_json:
        print_json(tomb.to_dict())
        return
    console.print(f"story #{tomb.number}: {tomb.reason} ({tomb.withdrawn_at:%Y-%m-%d %H:%M} UTC)")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help="pending, approved, rejected, needs_changes or withdrawn."
    ),
    area: str | None = typer.Option(None, "--area", help="In this area (ONS code, any level)."),
    theme: list[str] = typer.Option([], "--theme", help="With this theme (repeatable: any)."),
    consent: str | None = typer.Option(None, "--consent", help="private, internal or public."),
    asset: str | None = typer.Option(None, "--asset", help="About this service or location (id)."),
    since: str | None = typer.Option(None, "--since", help="Told on or after YYYY-MM-DD."),
    until: str | None = typer.Option(None, "--until", help="Told on or before YYYY-MM-DD."),
    text: str | None = typer.Option(None, "--text", help="Containing these words."),
    page: int = typer.Option(1, "--page", help="Page number (from 1)."),
    per_page: int = typer.Option(20, "--per-page", help="Stories per page (at most 100)."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    """Stories the viewer may read, newest first (``list_stories``)."""
    store = state(ctx).store()
    query = _query(
        text=text, status=status, area=area, themes=theme, consent=consent, asset=asset,
        since=since, until=until, page=page, per_page=per_page,
    )  # fmt: skip
    result = list_stories(store, query, viewer=_viewer(store, as_user))
    if as_json:
        print_json(result.to_dict())
        return
    _print_page(result, "story(ies)")


@app.command("search")
def search(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Words to look for (every word must occur)."),
    area: str | None = typer.Option(None, "--area", help="In this area (ONS code)."),
    theme: list[str] = typer.Option([], "--theme", help="With this theme (repeatable: any)."),
    page: int = typer.Option(1, "--page", help="Page number (from 1)."),
    per_page: int = typer.Option(20, "--per-page", help="Stories per page (at most 100)."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    """Full-text search, best match first (``search_stories``)."""
    store = state(ctx).store()
    query = _query(text=text, area=area, themes=theme, page=page, per_page=per_page)
    result = list_stories(store, query, viewer=_viewer(store, as_user))
    if as_json:
        print_json(result.to_dict())
        return
    _print_page(result, f"match(es) for {text!r}")


@app.command("show")
def show(
    ctx: typer.Context,
    story: str | None = typer.Argument(None, help="The story's id or number."),
    token: str | None = typer.Option(
        None, "--token", help="Show it as its teller does, through their withdrawal token."
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print it as JSON."),
) -> None:
    """One story as the viewer may see it (``get_story``), or the teller's view (``--token``)."""
    store = state(ctx).store()
    if token is not None:
        teller = story_for_token(store, token)
        if as_json:
            print_json(teller.to_dict())
            return
        _print_story(teller.story)
        if teller.note:
            console.print(f"note from the editor: {teller.note}", highlight=False, markup=False)
        return
    if story is None:
        raise InputError("give a story id or number, or --token", field="story")
    view = get_story(store, story, viewer=_viewer(store, as_user))
    if as_json:
        print_json(view.to_dict())
        return
    _print_story(view)


@app.command("queue")
def queue(
    ctx: typer.Context,
    status: str = typer.Option("pending", "--status", help="pending, needs_changes or rejected."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the queue as JSON."),
) -> None:
    """Stories waiting for a decision, oldest first, with the personal data found in each
    (``moderation_queue``)."""
    store = state(ctx).store()
    items = moderation_queue(store, viewer=_viewer(store, as_user), status=status)
    if as_json:
        print_json([v.to_dict() for v in items])
        return
    table = Table(title=f"{len(items)} {status} story(ies)")
    for column in ("#", "consent", "told", "personal data", "story"):
        table.add_column(column)
    for v in items:
        found = v.moderation.personal_data if v.moderation else ()
        table.add_row(
            str(v.number),
            v.consent,
            f"{v.created_at:%Y-%m-%d}",
            ", ".join(f"{m.kind} {m.start}:{m.end}" for m in found),
            v.excerpt,
        )
    console.print(table)


@app.command("history")
def history(
    ctx: typer.Context,
    story: str = typer.Argument(..., help="The story's id or number."),
    redactions: bool = typer.Option(
        False, "--redactions", help="The redaction history with the removed passages (admins)."
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """A story's audit trail (``story_history``) or its redactions (``redaction_history``)."""
    store = state(ctx).store()
    viewer = _viewer(store, as_user)
    if redactions:
        print_json([r.to_dict() for r in redaction_history(store, story, viewer=viewer)])
    else:
        print_json(story_history(store, story, viewer=viewer))


@app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The file to write."),
    format: str = typer.Option("csv", "--format", help=f"One of {', '.join(EXPORT_FORMATS)}."),
    status: str | None = typer.Option(None, "--status", help="Only stories in this state."),
    area: str | None = typer.Option(None, "--area", help="Only stories in this area."),
    theme: list[str] = typer.Option([], "--theme", help="Only stories with this theme."),
    consent: str | None = typer.Option(None, "--consent", help="Only stories of this consent."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Export the stories the viewer may read, for staff (``export_stories``)."""
    store = state(ctx).store()
    query = _query(status=status, area=area, themes=theme, consent=consent)
    body = export_stories(store, format, viewer=_viewer(store, as_user), query=query)
    out.write_text(body, encoding="utf-8", newline="")
    console.print(f"wrote {out} ({format})", highlight=False)


@app.command("feed")
def feed(
    ctx: typer.Context,
    base_url: str = typer.Option(
        "http://127.0.0.1:8000", "--base-url", help="The site's address, for the links."
    ),
    out: Path | None = typer.Argument(None, help="Write the feed here (default: print)."),
) -> None:
    """The Atom feed of approved public stories (``atom_feed``)."""
    body = atom_feed(state(ctx).store(), base_url=base_url)
    if out is None:
        typer.echo(body)
    else:
        out.write_text(body, encoding="utf-8")
        console.print(f"wrote {out}", highlight=False)


@app.command("counts")
def counts(
    ctx: typer.Context,
    level: str = typer.Option("ward", "--level", help="lsoa, msoa, ward or lad."),
    vintage: int | None = typer.Option(None, "--vintage", help="Boundary year (default newest)."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Approved stories per area and theme, for commissioners (``story_counts``)."""
    store = state(ctx).store()
    result = story_counts(store, viewer=_viewer(store, as_user), level=level, vintage=vintage)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"{result.total:,} approved stories by {level} {result.vintage or ''}")
    table.add_column("area")
    table.add_column("code", style="dim")
    table.add_column("stories", justify="right")
    for c in result.by_area:
        table.add_row(c.area_name or "", c.area_code or "", f"{c.n:,}")
    if result.without_area:
        table.add_row("(no place)", "", f"{result.without_area:,}")
    console.print(table)
    themes = Table(title="by theme")
    themes.add_column("theme")
    themes.add_column("stories", justify="right")
    for c in result.by_theme:
        themes.add_row(c.theme or "", f"{c.n:,}")
    console.print(themes)


@app.command("themes")
def themes(
    ctx: typer.Context,
    add: str | None = typer.Option(None, "--add", help="Add a custom theme with this slug."),
    label: str | None = typer.Option(None, "--label", help="With --add: its label."),
    description: str | None = typer.Option(None, "--description", help="With --add: a line."),
    retire: str | None = typer.Option(None, "--retire", help="Stop offering this theme."),
    restore: str | None = typer.Option(None, "--restore", help="Offer a retired theme again."),
    include_retired: bool = typer.Option(False, "--all", help="List retired themes too."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the themes as JSON."),
) -> None:
    """List the themes; add, retire or restore one (``add_theme``, ``retire_theme``)."""
    store = state(ctx).store()
    viewer = _viewer(store, as_user)
    if add is not None:
        if not label:
            raise InputError("--add needs --label", field="--label")
        add_theme(store, add, label, viewer=viewer, description=description)
    if retire is not None:
        retire_theme(store, retire, viewer=viewer)
    if restore is not None:
        retire_theme(store, restore, viewer=viewer, retired=False)
    found = list_themes(store, include_retired=include_retired)
    if as_json:
        print_json([t.to_dict() for t in found])
        return
    for t in found:
        flag = " (retired)" if t.retired else ""
        console.print(f"{t.slug}\t{t.label}{flag}", highlight=False)


@app.command("policy")
def policy(
    ctx: typer.Context,
    set_from: Path | None = typer.Option(
        None, "--set", help="A text file: the new policy shown on the story form (admins)."
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the policy as JSON."),
) -> None:
    """Show the moderation policy, or set a new version (``set_moderation_policy``)."""
    store = state(ctx).store()
    if set_from is not None:
        try:
            text = set_from.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read it: {exc}", file=str(set_from)) from None
        current = set_moderation_policy(store, text, viewer=_viewer(store, as_user))
        err_console.print(f"policy version {current.version} set")
    else:
        current = moderation_policy(store)
    if as_json:
        print_json(current.to_dict())
        return
    typer.echo(current.text)

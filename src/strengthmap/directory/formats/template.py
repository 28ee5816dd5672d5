"""The community-builder CSV template: one row per activity, fillable in any spreadsheet.

Example:
    >>> import io
    >>> text = ("organization,place_name,postcode,latitude,longitude,service_name,description,"
    ...         "kind,taxonomy,day,opens_at,closes_at,cost\\n"
    ...         "New Wortley CA,Community centre,LS12 1JD,53.79023,-1.57538,Community lunch,"
    ...         "Hot lunch,association,community-meals,wed,12:00,14:00,free\\n")
    >>> rows = rows_from_template(read_template_text(text, "t.csv"), "t.csv")
    >>> rows["service"][0]["name"], rows["schedule"][0]["byday"], rows["service"][0]["free"]
    ('Community lunch', 'WE', True)

Columns (``TEMPLATE_COLUMNS``; only ``organization`` and ``service_name`` are required):

* ``organization``, ``organization_description``: who runs it.
* ``place_name``, ``address``, ``postcode``, ``latitude``, ``longitude``: where (WGS84
  degrees). With a postcode and no coordinates the postcode centroid is used when the postcode
  table is loaded.
* ``service_name``, ``description``, ``kind`` (ABCD: individual, association, institution,
  physical_space, economy, culture), ``taxonomy`` (term codes or names, ``;``-separated).
* ``day`` (``mon``..``sun``, several with ``;``), ``frequency`` (``weekly`` (default),
  ``fortnightly``, ``first``/``second``/``third``/``fourth``/``last`` (of the month), ``daily``),
  ``opens_at``, ``closes_at`` (``HH:MM``), ``start_date``, ``end_date`` and ``except_dates``
  (``YYYY-MM-DD``; ``;``-separated, e.g. school holidays). Several rows with the same
  organization and service name give one service with several sessions.
* ``min_age``, ``max_age``, ``cost`` (``free`` or pounds, e.g. ``3.50``), ``cost_description``.
* ``phone``, ``email``, ``website``, ``bookable`` (yes/no: a room or a place to book),
  ``illustrative`` (yes when the times are an example, not confirmed), ``last_verified``
  (``YYYY-MM-DD``), ``notes``.

Every row is checked before anything is written; the first fault names its row and column.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from strengthmap.coords import POSTCODE, normalise_postcode
from strengthmap.directory.formats.base import DirectoryFormat, FormatRows, ImportContext, Probe
from strengthmap.directory.records import stable_id
from strengthmap.directory.schedules import WEEKDAYS, parse_day, parse_time
from strengthmap.directory.taxonomy import default_taxonomy, term_id
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

TEMPLATE_COLUMNS = (
    "organization",
    "organization_description",
    "place_name",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "service_name",
    "description",
    "kind",
    "taxonomy",
    "day",
    "frequency",
    "opens_at",
    "closes_at",
    "start_date",
    "end_date",
    "except_dates",
    "min_age",
    "max_age",
    "cost",
    "cost_description",
    "phone",
    "email",
    "website",
    "bookable",
    "illustrative",
    "last_verified",
    "notes",
)
REQUIRED = ("organization", "service_name")
_POSITIONS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


def blank_template() -> str:
    """The header row of an empty template (``strengthmap directory template``)."""
    return ",".join(TEMPLATE_COLUMNS) + "\n"


def read_template(path: Path) -> list[dict[str, str]]:
    """Rows of a template file (header checked)."""
    return read_template_text(path.read_text(encoding="utf-8-sig"), str(path))


def read_template_text(text: str, file: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    cols = reader.fieldnames or []
    for needed in REQUIRED:
        if needed not in cols:
            raise InputError("missing column", file=file, row=1, field=needed)
    unknown = [c for c in cols if c not in TEMPLATE_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column (see docs/directory.md): {unknown[0]!r}",
            file=file,
            row=1,
            field=unknown[0],
        )
    return [{k: (v or "").strip() for k, v in r.items() if k is not None} for r in reader]


def _term_index() -> dict[str, str]:
    index = {}
    for t in default_taxonomy()["terms"]:
        index[t["code"].lower()] = t["code"]
        index[t["name"].lower()] = t["code"]
    return index


def rows_from_template(
    records: list[dict[str, str]],
    file: str,
    *,
    postcodes: dict[str, tuple[float, float]] | None = None,
    dataset: str = "template",
    place: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Directory rows (by table) for a filled-in template; raises ``InputError`` at the first
    fault. An address is in ``place`` (the local authority the sheet is for)."""
    tables = (
        "organization",
        "service",
        "location",
        "address",
        "service_at_location",
        "schedule",
        "cost_option",
        "phone",
        "attribute",
    )
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in tables}
    seen: dict[str, set[str]] = {k: set() for k in tables}
    terms = _term_index()

    def add(table: str, row: dict[str, Any]) -> None:
        if row["id"] not in seen[table]:
            seen[table].add(row["id"])
            rows[table].append(row)

    for i, r in enumerate(records, start=2):

        def bad(field: str, message: str, i: int = i) -> InputError:
            return InputError(message, file=file, row=i, field=field)

        def get(name: str, r: dict[str, str] = r) -> str:
            return r.get(name) or ""

        for needed in REQUIRED:
            if not get(needed):
                raise bad(needed, "required")
        org, svc = get("organization"), get("service_name")
        kind = get("kind") or "association"
        if kind not in schema.ABCD_KINDS:
            raise bad("kind", f"not an ABCD kind ({', '.join(schema.ABCD_KINDS)}): {kind!r}")
        lat = _number(get("latitude"), -90, 90, bad, "latitude")
        lon = _number(get("longitude"), -180, 180, bad, "longitude")
        if (lat is None) != (lon is None):
            raise bad(
                "longitude" if lon is None else "latitude",
                "give both latitude and longitude, or neither",
            )
        postcode = _postcode(get("postcode"), bad)
        if lat is None and postcode and postcodes and postcode in postcodes:
            lon, lat = postcodes[postcode]
        min_age = _int(get("min_age"), bad, "min_age")
        max_age = _int(get("max_age"), bad, "max_age")
        if min_age is not None and max_age is not None and max_age < min_age:
            raise bad("max_age", "below min_age")
        cost = get("cost").lower()
        amount: float | None
        if cost in {"", "?"}:
            amount = None
        elif cost in {"free", "0", "0.00", "£0"}:
            amount = 0.0
        else:
            try:
                amount = float(cost.lstrip("£"))
            except ValueError:
                raise bad("cost", f"not 'free' or an amount in pounds: {cost!r}") from None
            if amount < 0:
                raise bad("cost", "below zero")
        codes = []
        for name in [x.strip() for x in get("taxonomy").split(";") if x.strip()]:
            if name.lower() not in terms:
                raise bad("taxonomy", f"not a term of the default taxonomy: {name!r}")
            codes.append(terms[name.lower()])
        illustrative = _flag(get("illustrative"), bad, "illustrative")
        bookable = _flag(get("bookable"), bad, "bookable")
        last_verified = _date(get("last_verified"), bad, "last_verified")
        start, end = (
            _date(get("start_date"), bad, "start_date"),
            _date(get("end_date"), bad, "end_date"),
        )
        if start and end and end < start:
            raise bad("end_date", "before start_date")
        exdates = [
            _date(x.strip(), bad, "except_dates")
            for x in get("except_dates").split(";")
            if x.strip()
        ]
        schedule = _schedule(get, bad)

        oid = stable_id(dataset, f"organization/{org.lower()}")
        sid = stable_id(dataset, f"service/{org.lower()}/{svc.lower()}")
        common = {"source_ref": f"{file}:{i}", "last_verified": last_verified}
        add(
            "organization",
            {
                "id": oid,
                "name": org,
                "description": get("organization_description") or org,
                "abcd_kind": "association",
                **common,
            },
        )
        extra: dict[str, Any] = {}
        if bookable:
            extra["bookable"] = True
        if get("notes"):
            extra["notes"] = get("notes")
        add(
            "service",
            {
                "id": sid,
                "organization_id": oid,
                "name": svc,
                "description": get("description") or None,
                "status": "active",
                "abcd_kind": kind,
                "minimum_age": min_age,
                "maximum_age": max_age,
                "email": get("email") or None,
                "url": get("website") or None,
                "free": None if amount is None else amount == 0,
                "extra": extra or None,
                **common,
            },
        )
        lid = None
        place = get("place_name")
        if place or postcode or lat is not None:
            key = f"location/{org.lower()}/{(place or postcode or '').lower()}"
            lid = stable_id(dataset, key)
            add(
                "location",
                {
                    "id": lid,
                    "name": place or None,
                    "location_type": "physical",
                    "latitude": lat,
                    "longitude": lon,
                    "organization_id": oid,
                    "abcd_kind": "physical_space" if bookable else None,
                    **common,
                },
            )
            if get("address") or postcode:
                add(
                    "address",
                    {
                        "id": stable_id(dataset, key + "/address"),
                        "location_id": lid,
                        "address_1": get("address") or place or org,
                        "city": place or "",
                        "state_province": "West Yorkshire",
                        "postal_code": postcode or "",
                        "country": "GB",
                        **common,
                    },
                )
            add(
                "service_at_location",
                {
                    "id": stable_id(dataset, f"sal/{sid}/{lid}"),
                    "service_id": sid,
                    "location_id": lid,
                    **common,
                },
            )
        if schedule is not None:
            add(
                "schedule",
                {
                    "id": stable_id(dataset, f"schedule/{sid}/{i}"),
                    "service_id": sid,
                    **schedule,
                    "dtstart": start,
                    "valid_from": start,
                    "valid_to": end,
                    "exdates": [d.isoformat() for d in exdates if d] or None,
                    "illustrative": illustrative,
                    "notes": "Illustrative times: confirm with the organisers before going."
                    if illustrative
                    else None,
                    **common,
                },
            )
        if amount is not None:
            add(
                "cost_option",
                {
                    "id": stable_id(dataset, f"cost/{sid}"),
                    "service_id": sid,
                    "amount": amount,
                    "currency": "GBP",
                    "option": get("cost_description") or ("Free" if amount == 0 else None),
                    **common,
                },
            )
        if get("phone"):
            add(
                "phone",
                {
                    "id": stable_id(dataset, f"phone/{sid}"),
                    "service_id": sid,
                    "number": get("phone"),
                    **common,
                },
            )
        for code in codes:
            add(
                "attribute",
                {
                    "id": stable_id(dataset, f"attribute/{sid}/{code}"),
                    "link_id": sid,
                    "link_type": "service",
                    "link_entity": "service",
                    "taxonomy_term_id": term_id(code),
                    **common,
                },
            )
    return rows


def _schedule(get: Any, bad: Any) -> dict[str, Any] | None:
    day, freq = get("day"), (get("frequency") or "weekly").lower()
    opens, closes = get("opens_at"), get("closes_at")
    for name, value in (("opens_at", opens), ("closes_at", closes)):
        if value:
            try:
                parse_time(value)
            except InputError as exc:
                raise bad(name, exc.message) from None
    if not day and freq != "daily":
        if opens or closes:
            raise bad("day", "times given without a day")
        return None
    days = []
    for part in [x.strip() for x in day.split(";") if x.strip()]:
        try:
            d = parse_day(part)
        except InputError:
            raise bad("day", f"not a weekday (mon..sun): {part!r}") from None
        if isinstance(d, date):
            raise bad("day", f"a weekday (mon..sun), not a date: {part!r}")
        days.append(WEEKDAYS[d].upper())
    out: dict[str, Any] = {
        "opens_at": opens or None,
        "closes_at": closes or None,
        "timezone": "Europe/London",
    }
    if freq == "weekly":
        out.update(freq="WEEKLY", byday=",".join(days))
    elif freq == "fortnightly":
        out.update(freq="WEEKLY", interval=2, byday=",".join(days))
    elif freq == "daily":
        out.update(freq="DAILY")
    elif freq in _POSITIONS:
        out.update(freq="MONTHLY", byday=",".join(f"{_POSITIONS[freq]}{d}" for d in days))
    else:
        raise bad(
            "frequency",
            f"not weekly, fortnightly, daily, first, second, third, fourth or last: {freq!r}",
        )
    return out


def _number(text: str, lo: float, hi: float, bad: Any, field: str) -> float | None:
    if not text:
        return None
    try:
        v = float(text)
    except ValueError:
        raise bad(field, f"not a number: {text!r}") from None
    if not lo <= v <= hi:
        raise bad(field, f"out of range {lo}..{hi}: {text}")
    return v


def _int(text: str, bad: Any, field: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > 150:
        raise bad(field, f"not an age in years: {text!r}")
    return int(text)


def _flag(text: str, bad: Any, field: str) -> bool:
    t = text.lower()
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise bad(field, f"not yes or no: {text!r}")


def _date(text: str, bad: Any, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad(field, f"not a date (YYYY-MM-DD): {text!r}") from None


def _postcode(text: str, bad: Any) -> str | None:
    if not text:
        return None
    postcode = normalise_postcode(text)
    if not POSTCODE.match(postcode):
        raise bad("postcode", f"not a UK postcode: {text!r}")
    return postcode


def postcode_points(store: Store, records: list[dict[str, str]]) -> dict[str, tuple[float, float]]:
    """Postcode centroids (lon, lat) for template rows that give a postcode and no coordinates."""
    wanted = {
        normalise_postcode(r["postcode"])
        for r in records
        if r.get("postcode") and not r.get("latitude")
    }
    if not wanted:
        return {}
    out = {}
    with store.session() as s:
        for p in s.scalars(sa.select(schema.Postcode).where(schema.Postcode.postcode.in_(wanted))):
            if p.lon is not None and p.lat is not None:
                out[p.postcode] = (p.lon, p.lat)
    return out


def _detect(probe: Probe) -> bool:
    return probe.kind == "csv" and {"organization", "service_name"} <= probe.header


def _read(ctx: ImportContext) -> FormatRows:
    records = read_template(ctx.path)
    rows = rows_from_template(
        records, str(ctx.path), postcodes=postcode_points(ctx.store, records), place=ctx.place
    )
    return FormatRows(
        rows, ctx.source or f"template:{ctx.path.name}"[:64], ctx.licence or "CC-BY-4.0"
    )


#: The community builder's sheet: today is its check date.
FORMAT = DirectoryFormat(
    "template", "The community-builder CSV template", _detect, read=_read, stamp_verified=True
)


__all__ = [
    "FORMAT",
    "TEMPLATE_COLUMNS",
    "blank_template",
    "postcode_points",
    "read_template",
    "read_template_text",
    "rows_from_template",
]

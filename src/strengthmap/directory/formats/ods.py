"""NHS ODS GP practices and other prescribing sites (``epraccur``, OGL) -> directory records.

Example:
    >>> kind, terms = classify_setting("4")
    >>> kind, terms
    ('institution', ('gp-practice',))

One organization, location and service per ODS code; ids are ``uuid5`` of the ODS code, so a
newer file updates the same records. Rows without coordinates are kept (their location has an
address and no point). The ODS ``prescribing_setting`` decides the taxonomy term: 4 = GP
practice (taxonomy term ``gp-practice``), 9 community health service, 11 optometry, 14 care
home ... as in the ODS prescribing-setting code list; other codes get ``health-services``. Attribution: "Contains NHS England Organisation Data Service (ODS) data,
licensed under the OGL v3.0".
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from strengthmap.directory.formats.base import (
    DirectoryFormat,
    FormatRows,
    ImportContext,
    Probe,
    dataset_row,
)
from strengthmap.directory.records import stable_id
from strengthmap.directory.taxonomy import term_id
from strengthmap.errors import InputError

LICENCE = "OGL-UK-3.0"
ATTRIBUTION = (
    "Contains NHS England Organisation Data Service (ODS) data, licensed under the OGL v3.0"
)
PUBLISHER = "NHS England Organisation Data Service"
REQUIRED = ("org_code", "name", "postcode", "prescribing_setting", "lat", "lon")

#: ODS prescribing setting code -> (ABCD kind, taxonomy term codes)
SETTINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "4": ("institution", ("gp-practice",)),
    "9": ("institution", ("community-health",)),
    "11": ("institution", ("health-services",)),  # optometry
    "14": ("institution", ("care-homes-and-hospices",)),  # care home / nursing home
    "13": ("institution", ("care-homes-and-hospices",)),  # hospice
    "8": ("institution", ("health-services",)),  # public health service
    "2": ("institution", ("hospital",)),  # out-of-hours practice
    "12": ("institution", ("hospital",)),  # urgent and emergency care
    "1": ("institution", ("hospital",)),  # walk-in centre
}


def classify_setting(code: str) -> tuple[str, tuple[str, ...]]:
    """The ABCD kind and taxonomy terms of an ODS prescribing setting."""
    return SETTINGS.get(code.strip(), ("institution", ("health-services",)))


def read_ods(path: Path) -> list[dict[str, str]]:
    """The ``epraccur``-derived CSV, checked: the row number and column of any fault are named."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        for needed in REQUIRED:
            if needed not in cols:
                raise InputError("missing column", file=str(path), row=1, field=needed)
        rows = []
        seen: set[str] = set()
        for i, r in enumerate(reader, start=2):
            for needed in ("org_code", "name", "prescribing_setting"):
                if not (r.get(needed) or "").strip():
                    raise InputError("empty", file=str(path), row=i, field=needed)
            if r["org_code"] in seen:
                raise InputError(
                    f"duplicate code {r['org_code']}", file=str(path), row=i, field="org_code"
                )
            seen.add(r["org_code"])
            lat, lon = (r.get("lat") or "").strip(), (r.get("lon") or "").strip()
            if bool(lat) != bool(lon):
                raise InputError(
                    "lat and lon must both be given or both be empty",
                    file=str(path),
                    row=i,
                    field="lat" if not lat else "lon",
                )
            for name, value, lim in (("lat", lat, 90), ("lon", lon, 180)):
                if value:
                    try:
                        v = float(value)
                    except ValueError:
                        raise InputError(
                            f"not a number: {value!r}", file=str(path), row=i, field=name
                        ) from None
                    if not -lim <= v <= lim:
                        raise InputError(
                            f"out of range: {value}", file=str(path), row=i, field=name
                        )
            od = (r.get("open_date") or "").strip()
            if od and not (len(od) == 8 and od.isdigit()):
                raise InputError(f"not YYYYMMDD: {od!r}", file=str(path), row=i, field="open_date")
            r["_row"] = str(i)
            rows.append(r)
    return rows


def _title(text: str) -> str:
    small = {"and", "of", "the", "at", "for", "in", "on"}
    words = text.strip().lower().split()
    return " ".join(w if (w in small and k) else w.capitalize() for k, w in enumerate(words))


def rows_from_ods(
    records: list[dict[str, str]], *, dataset: str = "ods_epraccur", place: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Directory rows (by table) for each ODS site; an address of one line is in ``place``."""
    rows: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "organization",
            "organization_identifier",
            "service",
            "location",
            "address",
            "service_at_location",
            "phone",
            "attribute",
        )
    }
    for r in records:
        code = r["org_code"].strip()
        ref = f"ods/{code}"
        kind, terms = classify_setting(r["prescribing_setting"])
        desc = (
            r.get("prescribing_setting_desc") or ""
        ).strip() or f"ODS prescribing setting {r['prescribing_setting']}"
        name = _title(r["name"])
        oid, sid, lid = (
            stable_id(dataset, f"{ref}/{x}") for x in ("organization", "service", "location")
        )
        common = {"source_ref": ref}
        od = (r.get("open_date") or "").strip()
        extra = {"ods": {k: v for k, v in r.items() if not k.startswith("_") and v}}
        rows["organization"].append(
            {
                "id": oid,
                "name": name,
                "description": f"{desc} (NHS ODS {code})",
                "abcd_kind": kind,
                **common,
            }
        )
        rows["organization_identifier"].append(
            {
                "id": stable_id(dataset, f"{ref}/identifier"),
                "organization_id": oid,
                "identifier_scheme": "GB-NHS",
                "identifier_type": "ODS code",
                "identifier": code,
                **common,
            }
        )
        rows["service"].append(
            {
                "id": sid,
                "organization_id": oid,
                "name": name,
                "description": desc,
                "status": "active",
                "abcd_kind": kind,
                "assured_date": date(int(od[:4]), int(od[4:6]), int(od[6:])) if od else None,
                "extra": extra,
                **common,
            }
        )
        lat, lon = (r.get("lat") or "").strip(), (r.get("lon") or "").strip()
        rows["location"].append(
            {
                "id": lid,
                "name": name,
                "location_type": "physical",
                "latitude": float(lat) if lat else None,
                "longitude": float(lon) if lon else None,
                "external_identifier": code,
                "external_identifier_type": "ODS code",
                "organization_id": oid,
                "abcd_kind": kind,
                **common,
            }
        )
        lines = [_title(r.get(f"addr{k}") or "") for k in range(1, 6)]
        lines = [x for x in lines if x]
        rows["address"].append(
            {
                "id": stable_id(dataset, f"{ref}/address"),
                "location_id": lid,
                "address_1": lines[0] if lines else name,
                "address_2": ", ".join(lines[1:-1]) or None,
                "city": lines[-1] if len(lines) > 1 else (place or ""),
                "state_province": "West Yorkshire",
                "postal_code": r["postcode"].strip(),
                "country": "GB",
                **common,
            }
        )
        rows["service_at_location"].append(
            {
                "id": stable_id(dataset, f"{ref}/service_at_location"),
                "service_id": sid,
                "location_id": lid,
                **common,
            }
        )
        if (r.get("phone") or "").strip():
            rows["phone"].append(
                {
                    "id": stable_id(dataset, f"{ref}/phone"),
                    "service_id": sid,
                    "number": r["phone"].strip(),
                    **common,
                }
            )
        for t in terms:
            rows["attribute"].append(
                {
                    "id": stable_id(dataset, f"{ref}/attribute/{t}"),
                    "link_id": sid,
                    "link_type": "service",
                    "link_entity": "service",
                    "taxonomy_term_id": term_id(t),
                    **common,
                }
            )
    return rows


def _detect(probe: Probe) -> bool:
    return probe.kind == "csv" and {"org_code", "prescribing_setting"} <= probe.header


def _read(ctx: ImportContext) -> FormatRows:
    records = read_ods(ctx.path)
    source, licence = ctx.source or "ods_epraccur", ctx.licence or LICENCE
    dataset = dataset_row(ctx, id=source, title="NHS GP practices and prescribing sites (ODS epraccur)",
                          publisher=PUBLISHER, licence=licence, attribution=ATTRIBUTION,
                          rows=len(records))  # fmt: skip
    return FormatRows(rows_from_ods(records, place=ctx.place), source, licence, dataset)


#: The ODS ``epraccur`` sites (a whole list: its newer files retire what vanished).
FORMAT = DirectoryFormat(
    "ods", "NHS ODS GP practices and prescribing sites (epraccur CSV)", _detect, read=_read,
    snapshot=True,
)  # fmt: skip

__all__ = [
    "ATTRIBUTION",
    "FORMAT",
    "LICENCE",
    "SETTINGS",
    "classify_setting",
    "read_ods",
    "rows_from_ods",
]

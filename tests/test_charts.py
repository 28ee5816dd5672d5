"""The route chart: PNG and SVG written, with labelled axes, a legend and the attribution."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from strengthmap.charts import route_chart
from strengthmap.errors import InputError


def _profile() -> dict:  # type: ignore[type-arg]  # the JSON record
    def le(v: float | None) -> dict[str, float | None]:
        return {
            "value": v,
            "lower": None if v is None else v - 1,
            "upper": None if v is None else v + 1,
        }

    pts = []
    for i, (m, f, dec) in enumerate(
        [(None, None, 7), (72.5, 80.3, 2), (78.0, None, 1), (84.0, 89.0, 10), (83.0, 88.0, None)]
    ):
        flags = [f"le_{s}_suppressed" for s, v in (("male", m), ("female", f)) if v is None]
        pts.append({"name": ["Centre", None, "Harehills", None, "Wetherby"][i], "kind": "stop" if i % 2 == 0 else "sample",
                    "lon": -1.5, "lat": 53.8, "distance_m": i * 1000.0, "lsoa_code": "E01", "msoa_code": "E02",
                    "imd_decile": dec, "imd_rank": 100, "life_expectancy": {"male": le(m), "female": le(f)}, "flags": flags})  # fmt: skip
    summary = {"imd_release": 2019, "attribution": ["Source: Office for National Statistics, OGL v3.0", "© OpenStreetMap contributors, ODbL 1.0"],
               "life_expectancy": {"male": {"gap_years": 11.5, "significant": True}}}  # fmt: skip
    return {"points": pts, "summary": summary}


def test_svg_has_axes_legend_stops_and_attribution(tmp_path: Path) -> None:
    out = route_chart(_profile(), tmp_path / "route.svg")
    svg = out.read_text()
    text = " ".join(re.findall(r">([^<>]+)</text>", svg))
    for needed in ("Distance along the route (km)", "Life expectancy at birth (years)", "Male life expectancy",
                   "Female 95% CI", "decile 1 (most deprived)", "LE suppressed", "Centre", "Harehills",
                   "Office for National Statistics", "OpenStreetMap contributors, ODbL"):  # fmt: skip
        assert needed in text, needed


def test_png_written(tmp_path: Path) -> None:
    out = route_chart(_profile(), tmp_path / "route.png")
    raw = out.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 20_000


def test_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        route_chart(_profile(), tmp_path / "route.pdf")

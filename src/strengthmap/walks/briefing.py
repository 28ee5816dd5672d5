"""The walk briefing sheet: an A4 page set (HTML, or PDF through headless Chromium) that prints in black and white.

Example:
    >>> html = briefing_html(store, plan)                    # doctest: +SKIP
    >>> write_briefing(store, plan, "walk.pdf")               # doctest: +SKIP
    PosixPath('walk.pdf')

The sheet holds a static map drawn here as SVG (the path over the neighbourhoods shaded by IMD
decile, each numbered so the shading is readable in grey; no map tiles, so it prints and works
offline), the timetable, the profile chart (``strengthmap.charts.route_chart``), each place's
facts (IMD decile, life expectancy with its 95% CI, assets nearby), the safety and access notes
and the attribution. PDF: Chromium's own print engine (``--headless --print-to-pdf``), the
browser the project already drives for its UI tests, so the PDF is what a user gets from
"Print" in the browser; it is run as a subprocess with a time limit.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import shapely

from strengthmap.errors import ConfigError, InputError, StrengthmapError
from strengthmap.storage import Store
from strengthmap.walks.facts import AreaFacts, area_facts

#: IMD deciles 1 (most deprived) to 10: viridis, whose lightness rises steadily (reads in grey).
PALETTE = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
           "#6ece58", "#b5de2b", "#fde725")  # fmt: skip
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def _plan_dict(plan: Any) -> dict[str, Any]:
    return plan if isinstance(plan, dict) else dict(plan.to_dict())


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def walk_map_svg(
    plan: Any, facts: AreaFacts | None, *, width: float = 1000.0, aspect: float = 0.62
) -> str:
    """The walk over its neighbourhoods as one SVG (``width`` user units wide)."""
    d = _plan_dict(plan)
    coords = np.asarray(d["path"]["coordinates"], dtype=float)
    stops = d.get("stops") or []
    pts = np.vstack([coords, np.array([[s["lon"], s["lat"]] for s in stops]).reshape(-1, 2)])
    lat0 = float(np.mean(pts[:, 1]))
    kx = math.cos(math.radians(lat0)) * 111_320.0  # metres per degree, locally
    ky = 110_574.0
    x0, x1 = float(pts[:, 0].min()), float(pts[:, 0].max())
    y0, y1 = float(pts[:, 1].min()), float(pts[:, 1].max())
    w_m = max((x1 - x0) * kx, 200.0)
    h_m = max((y1 - y0) * ky, 200.0)
    w_m, h_m = w_m * 1.16, h_m * 1.16
    if h_m / w_m > aspect:
        w_m = h_m / aspect
    else:
        h_m = w_m * aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lon_lo, lon_hi = cx - w_m / 2 / kx, cx + w_m / 2 / kx
    lat_lo, lat_hi = cy - h_m / 2 / ky, cy + h_m / 2 / ky
    height = width * aspect
    sx = width / (lon_hi - lon_lo)
    sy = height / (lat_hi - lat_lo)

    def xy(lon: float, lat: float) -> str:
        return f"{(lon - lon_lo) * sx:.1f},{(lat_hi - lat) * sy:.1f}"

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="Map of the walk over neighbourhoods shaded by IMD decile" '
        f'font-family="DejaVu Sans, Arial, sans-serif">',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    labels: list[str] = []
    if facts is not None and facts.lsoa is not None:
        box = shapely.box(lon_lo, lat_lo, lon_hi, lat_hi)
        for i in facts.lsoa.tree.query(box, predicate="intersects"):
            geom = shapely.clip_by_rect(facts.lsoa.geometries[i], lon_lo, lat_lo, lon_hi, lat_hi)
            if geom.is_empty:
                continue
            code = str(facts.lsoa.codes[i])
            decile = facts.decile(code)
            fill = PALETTE[decile - 1] if decile else "#ffffff"
            path = _svg_path(geom, xy)
            parts.append(
                f'<path d="{path}" fill="{fill}" fill-rule="evenodd" stroke="#ffffff" '
                f'stroke-width="1.4"><title>{_esc(code)} IMD decile {decile or "n/a"}</title></path>'
            )
            if decile and geom.area * sx * sy > 2500:
                p = geom.representative_point()
                colour = "#ffffff" if decile <= 5 else "#000000"
                labels.append(
                    f'<text x="{(p.x - lon_lo) * sx:.1f}" y="{(lat_hi - p.y) * sy + 6:.1f}" '
                    f'font-size="17" text-anchor="middle" fill="{colour}" '
                    f'font-weight="bold" opacity="0.9">{decile}</text>'
                )
    parts += labels
    line = " ".join(xy(float(x), float(y)) for x, y in coords)
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="#ffffff" stroke-width="9" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
    )
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="#000000" stroke-width="4.5" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
    )
    placed: list[tuple[float, float]] = []
    for n, s in enumerate(stops, start=1):
        px, py = (float(v) for v in xy(s["lon"], s["lat"]).split(","))
        # a loop's end sits on its start: draw the number beside it
        while any(abs(px - a) < 18 and abs(py - b) < 18 for a, b in placed):
            px += 22
        placed.append((px, py))
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="13" fill="#ffffff" stroke="#000000" '
            f'stroke-width="2.5"/><text x="{px:.1f}" y="{py + 5.5:.1f}" font-size="15" '
            f'font-weight="bold" text-anchor="middle" fill="#000000">{n}</text>'
        )
    parts.append(_scale_bar(width, height, sx / kx))
    parts.append(
        f'<g transform="translate({width - 40:.0f},48)"><path d="M0,-30 L11,6 L0,0 L-11,6 Z" '
        'fill="#000" stroke="#fff" stroke-width="1.5"/><text y="24" font-size="16" '
        'text-anchor="middle" font-weight="bold" fill="#000" stroke="#fff" stroke-width="3" '
        'paint-order="stroke">N</text></g>'
    )
    parts.append(
        f'<text x="{width - 8:.0f}" y="{height - 8:.0f}" font-size="12" text-anchor="end" '
        'fill="#000" stroke="#fff" stroke-width="3" paint-order="stroke">Streets © OpenStreetMap '
        "contributors (ODbL); boundaries ONS, OS © Crown copyright 2021 (OGL)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_path(geom: Any, xy: Any) -> str:
    out: list[str] = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [xy(x, y) for x, y in ring.coords]
            out.append("M" + " L".join(pts) + " Z")
    return " ".join(out)


def _scale_bar(width: float, height: float, px_per_m: float) -> str:
    target = width / 5 / px_per_m
    nice = max((n for n in (50, 100, 200, 250, 500, 1000, 2000, 5000) if n <= target), default=50)
    length = nice * px_per_m
    x, y = 16.0, height - 22
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice} m"
    return (
        f'<g><rect x="{x - 6}" y="{y - 22}" width="{length + 12:.1f}" height="32" fill="#fff" '
        f'opacity="0.85"/><path d="M{x},{y} h{length:.1f} M{x},{y - 6} v12 M{x + length:.1f},'
        f'{y - 6} v12" stroke="#000" stroke-width="2.5"/><text x="{x + length / 2:.1f}" '
        f'y="{y - 8}" font-size="13" text-anchor="middle">{label}</text></g>'
    )


def _hhmm(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M") if iso else ""


def _le_text(le: dict[str, Any] | None) -> str:
    if not le:
        return "outside the loaded areas"
    bits = []
    for sex in ("male", "female"):
        v = le.get(sex) or {}
        if v.get("value") is None:
            bits.append(f"{sex}: suppressed at source (small numbers)")
        else:
            bits.append(f"{sex} {v['value']:.1f} years (95% CI {v['lower']:.1f}–{v['upper']:.1f})")
    return "; ".join(bits) + " (MSOA 2011, 2016 to 2020)"


def _chart_img(plan: dict[str, Any]) -> str | None:
    """The profile chart as an ``<img>`` with a PNG data URI (200 dpi): the chart's hatched CI
    bands and suppressed stretches make its SVG print to a PDF thirty times larger."""
    import base64

    from strengthmap.charts import route_chart

    profile = plan.get("profile")
    if not profile or not profile.get("points"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = route_chart(profile, Path(tmp) / "profile.png", title=plan.get("title"),
                          width_in=10.0, height_in=5.6, dpi=200)  # fmt: skip
        data = base64.b64encode(out.read_bytes()).decode("ascii")
    alt = "Life expectancy (male and female, 95% CI) and IMD decile along the walk"
    return f'<img src="data:image/png;base64,{data}" alt="{alt}">'


def briefing_html(store: Store | None, plan: Any) -> str:
    """The briefing as one self-contained HTML document (no external files)."""
    d = _plan_dict(plan)
    if not (d.get("path") or {}).get("coordinates"):
        raise InputError("the walk has no path: nothing to brief", field="path")
    contrast = d.get("contrast") or {}
    facts: AreaFacts | None = None
    if store is not None:
        try:
            facts = area_facts(store, contrast.get("imd_release"))
        except StrengthmapError:
            facts = None
    stops = []
    for s in d.get("stops") or []:
        open_ = s.get("open")
        stops.append(
            {**s, "facts": s.get("facts") or {"imd_decile": None, "imd_rank": None,
                                              "lsoa_code": None, "lsoa_name": None,
                                              "imd_release": None, "life_expectancy": None,
                                              "assets_radius_m": 0, "assets_within": 0,
                                              "assets_nearest": []},
             "services": s.get("services") or [],
             "dwell_min": s.get("dwell_min") or 0,
             "arrive_hhmm": _hhmm(s.get("arrive")), "depart_hhmm": _hhmm(s.get("depart") or s.get("arrive")),
             "open_text": "open" if open_ else "closed" if open_ is False else "times unknown",
             "open_class": "open-yes" if open_ else "open-no" if open_ is False else "open-unknown",
             "le_text": _le_text((s.get("facts") or {}).get("life_expectancy"))}
        )  # fmt: skip
    le_text = ""
    le = contrast.get("life_expectancy") or {}
    for sex in ("male", "female"):
        v = le.get(sex)
        if v and v.get("gap_years") is not None:
            le_text += (
                f" {sex.title()} life expectancy runs from {v['min']['value']:.1f} to "
                f"{v['max']['value']:.1f} years between the MSOAs passed ({v['comparison']})."
            )
    start = d.get("start") or (stops[0]["arrive"] if stops else None)
    start_dt = datetime.fromisoformat(start) if start else None
    template = _ENV.get_template("briefing.html.j2")
    return template.render(
        title=d.get("title") or "Walk",
        plan={**d, "budget": d.get("budget") or {"used_m": d.get("length_m", 0), "max_m": None,
                                                 "default": False, "score": 0,
                                                 "score_upper_bound": 0},
              "walking_min": d.get("walking_min") or 0, "speed_kmh": d.get("speed_kmh") or 4.5,
              "step_free": bool(d.get("step_free")), "duration_min": d.get("duration_min") or 0},
        contrast={"imd_decile_min": None, "imd_release": None, "largest_step": None,
                  "largest_step_at": None, **contrast},
        le_text=le_text.strip(),
        stops=stops,
        start_day=start_dt.strftime("%A %-d %B %Y") if start_dt else "",
        start_time=start_dt.strftime("%H:%M") if start_dt else "",
        end_time=stops[-1]["arrive_hhmm"] if stops else "",
        map_svg=walk_map_svg(d, facts),
        chart_svg=_chart_img(d),
        palette=PALETTE,
        lsoa_vintage=facts.lsoa.vintage if facts is not None and facts.lsoa is not None else "",
        safety=d.get("safety") or {"steps": [], "busy_roads_crossed": [], "busy_roads_along": []},
        notes=d.get("notes") or [],
        network_source=d.get("network_source"),
        attribution=d.get("attribution") or [],
    )  # fmt: skip


def find_chromium(explicit: str | Path | None = None) -> str:
    """The Chromium (or Chrome) executable: ``explicit``, else the first on ``PATH``."""
    if explicit:
        path = shutil.which(str(explicit))
        if path is None:
            raise ConfigError(f"Chromium not found at {explicit}")
        return path
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ConfigError(
        "a PDF briefing needs Chromium (apt-get install chromium); write OUT.html instead"
    )


def html_to_pdf(
    html: str, out: str | Path, *, chromium: str | Path | None = None, timeout_s: float = 120
) -> Path:
    """Print ``html`` to an A4 PDF with headless Chromium (``--print-to-pdf``)."""
    exe = find_chromium(chromium)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="strengthmap-pdf-") as tmp:
        page = Path(tmp) / "briefing.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "briefing.pdf"
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
            "--no-first-run", "--no-pdf-header-footer", f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={target}", page.as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise StrengthmapError(
                f"Chromium did not print the PDF within {timeout_s:.0f} s"
            ) from None
        if not target.is_file() or not target.read_bytes().startswith(b"%PDF"):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise StrengthmapError(f"Chromium could not print the PDF: {' | '.join(tail)}")
        shutil.move(str(target), out)
    return out


def write_briefing(
    store: Store | None, plan: Any, out: str | Path, *, chromium: str | Path | None = None
) -> Path:
    """Write the briefing to ``OUT.html`` or ``OUT.pdf`` (by the suffix); returns the path."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InputError(
            f"the briefing must be OUT.pdf or OUT.html, not {out.name!r}", field="briefing"
        )
    html = briefing_html(store, plan)
    if suffix == ".pdf":
        return html_to_pdf(html, out, chromium=chromium)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


__all__ = [
    "PALETTE",
    "briefing_html",
    "find_chromium",
    "html_to_pdf",
    "walk_map_svg",
    "write_briefing",
]

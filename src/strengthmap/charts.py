"""Charts: the route chart in the spirit of "Lives on the Line" (LE along a journey, IMD strip below).

Example:
    >>> profile = profile_route(store, "Centre@-1.5478,53.7965;Harehills@-1.5100,53.8120")  # doctest: +SKIP
    >>> route_chart(profile, "route.svg")                                                   # doctest: +SKIP
    PosixPath('route.svg')

Readable in black and white: male and female differ in line style and marker as well as colour,
values are drawn as steps (each area's value holds until the next point), their 95% CI bands carry different hatching, the IMD strip uses viridis (its lightness rises
steadily from decile 1 to 10), and stretches where the publisher suppressed the value are left as
gaps with a hatched "suppressed" band, never filled in. The footer carries the attribution.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from strengthmap.errors import InputError

if TYPE_CHECKING:
    from strengthmap.routes import RouteProfile

#: Line styles per sex: (colour, linestyle, marker, CI hatch).
STYLES = {
    "male": ("#1f3b73", "-", "o", "////"),
    "female": ("#c4561d", "--", "s", "\\\\\\\\"),
}


def _series(points: list[dict[str, Any]], sex: str, key: str) -> np.ndarray:
    return np.array(
        [
            np.nan if p["life_expectancy"][sex][key] is None else p["life_expectancy"][sex][key]
            for p in points
        ],
        dtype=float,
    )


def route_chart(
    profile: RouteProfile | dict[str, Any],
    path: str | Path,
    *,
    title: str | None = None,
    width_in: float = 11.0,
    height_in: float = 6.5,
    dpi: int = 150,
) -> Path:
    """Draw the profile as PNG or SVG (by the file suffix) and return the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InputError(f"chart file must end in .png or .svg, not {path.suffix!r}", field="chart")
    data = profile if isinstance(profile, dict) else profile.to_dict()
    points, summary = data["points"], data["summary"]
    if not points:
        raise InputError("nothing to draw: the profile has no points")
    km = np.array([p["distance_m"] for p in points], dtype=float) / 1000.0

    with plt.rc_context({"svg.fonttype": "none", "font.size": 9, "hatch.linewidth": 0.6}):
        fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
        grid = fig.add_gridspec(
            2, 1, height_ratios=[5, 0.6], hspace=0.08, left=0.07, right=0.8, top=0.86, bottom=0.15
        )
        ax = fig.add_subplot(grid[0])
        strip = fig.add_subplot(grid[1], sharex=ax)
        handles: list[Any] = []
        for sex in ("male", "female"):
            colour, ls, marker, hatch = STYLES[sex]
            v, lo, hi = (_series(points, sex, k) for k in ("value", "lower", "upper"))
            ok = ~np.isnan(v)
            band = ax.fill_between(
                km,
                lo,
                hi,
                where=ok,
                facecolor=colour,
                alpha=0.15,
                edgecolor=colour,
                hatch=hatch,
                linewidth=0,
                step="mid",
            )
            (line,) = ax.plot(
                km,
                v,
                color=colour,
                linestyle=ls,
                marker=marker,
                markersize=3.5,
                linewidth=1.6,
                drawstyle="steps-mid",
                label=f"{sex.title()} life expectancy",
            )
            handles += [
                line,
                Patch(
                    facecolor=colour,
                    alpha=0.25,
                    hatch=hatch,
                    edgecolor=colour,
                    label=f"{sex.title()} 95% CI",
                ),
            ]
            del band
        # suppressed stretches: hatched grey band across the plot, no line drawn
        sup = np.array([any(f.endswith("_suppressed") for f in p["flags"]) for p in points])
        if sup.any():
            edges = _cell_edges(km)
            for j in np.flatnonzero(sup):
                ax.axvspan(
                    edges[j],
                    edges[j + 1],
                    facecolor="none",
                    edgecolor="0.6",
                    hatch="..",
                    linewidth=0,
                )
            handles.append(
                Patch(
                    facecolor="white",
                    edgecolor="0.6",
                    hatch="..",
                    label="LE suppressed at\nsource (gap, no guess)",
                )
            )
        ax.set_ylabel("Life expectancy at birth (years)")
        ax.grid(axis="y", color="0.85", linewidth=0.6)
        ax.tick_params(labelbottom=False)
        # stops: dotted verticals and labels
        ymin, ymax = ax.get_ylim()
        for p, x in zip(points, km, strict=True):
            if p["kind"] == "stop":
                ax.axvline(x, color="0.4", linestyle=":", linewidth=0.8)
                ax.annotate(
                    p["name"] or "",
                    (x, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(2, 3),
                    textcoords="offset points",
                    rotation=30,
                    fontsize=8,
                    ha="left",
                    va="bottom",
                )
        ax.set_ylim(ymin, ymax)
        # IMD strip
        cmap = matplotlib.colormaps["viridis"]
        edges = _cell_edges(km)
        for i, p in enumerate(points):
            dec = p["imd_decile"]
            if dec is None:
                strip.axvspan(
                    edges[i],
                    edges[i + 1],
                    facecolor="white",
                    edgecolor="0.3",
                    hatch="xx",
                    linewidth=0,
                )
            else:
                strip.axvspan(edges[i], edges[i + 1], facecolor=cmap((dec - 1) / 9), linewidth=0)
        strip.set_yticks([])
        release = summary.get("imd_release")
        strip.set_ylabel(f"IMD\n{release or ''}", rotation=0, ha="right", va="center", fontsize=8)
        strip.set_xlabel("Distance along the route (km)")
        strip.set_xlim(km.min(), km.max() if km.max() > km.min() else km.min() + 0.001)
        imd_handles = [
            Patch(
                facecolor=cmap((d - 1) / 9),
                label=f"decile {d}"
                + (" (most deprived)" if d == 1 else " (least deprived)" if d == 10 else ""),
            )
            for d in range(1, 11)
        ]
        imd_handles.append(
            Patch(facecolor="white", edgecolor="0.3", hatch="xx", label="no IMD (outside)")
        )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.81, 0.86),
            fontsize=8,
            title="Life expectancy",
            title_fontsize=8,
            frameon=False,
        )
        fig.legend(
            handles=imd_handles,
            loc="upper left",
            bbox_to_anchor=(0.81, 0.5),
            fontsize=7.5,
            title=f"IMD {release or ''} decile",
            title_fontsize=8,
            frameon=False,
        )
        fig.suptitle(title or _title(summary), x=0.07, ha="left", fontsize=12, y=0.97)
        attribution = " ".join(summary.get("attribution", []))
        fig.text(
            0.07,
            0.02,
            "\n".join(textwrap.wrap(attribution, 150)),
            fontsize=6.5,
            color="0.25",
            ha="left",
            va="bottom",
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format=fmt, dpi=dpi)
        plt.close(fig)
    return path


def _cell_edges(km: np.ndarray) -> np.ndarray:
    """Edges half-way between points, so each point colours the stretch nearest it."""
    if len(km) == 1:
        return np.array([km[0] - 0.01, km[0] + 0.01])
    mids = (km[1:] + km[:-1]) / 2
    return np.concatenate([[km[0]], mids, [km[-1]]])


def _title(summary: dict[str, Any]) -> str:
    le = summary.get("life_expectancy") or {}
    bits = []
    for sex in ("male", "female"):
        s = le.get(sex)
        if s and s.get("gap_years") is not None:
            sig = "significant" if s.get("significant") else "not significant"
            bits.append(f"{sex} gap {s['gap_years']:.1f} years ({sig})")
    name = summary.get("name") or "Life expectancy and deprivation along the route"
    return f"{name}: " + "; ".join(bits) if bits else name


__all__ = ["STYLES", "route_chart"]

"""Named walks to start from (the web page's presets): start, via places and end as PLACE text.

Example:
    >>> PRESETS["station-new-wortley"].via
    ('Wellington Street@-1.5560,53.7965',)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """A walk by name: PLACE texts as ``plan_walk`` takes them."""

    key: str
    title: str
    from_: str
    to: str | None
    via: tuple[str, ...] = ()
    loop: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "from": self.from_, "to": self.to,
                "via": list(self.via), "loop": self.loop, "note": self.note}  # fmt: skip


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "station-new-wortley",
            "Leeds station to New Wortley Community Centre",
            "Leeds station@-1.5477,53.7951",
            # LS12 1JD: the postcode of the centre (Tong Road); its ONS centroid
            "New Wortley Community Centre@-1.57538,53.79023",
            ("Wellington Street@-1.5560,53.7965",),
            note="From the new flats of Wellington Street (IMD 2019 decile 8) into New Wortley "
            "(decile 1), the walk of issue 15.",
        ),
    )
}

__all__ = ["PRESETS", "Preset"]

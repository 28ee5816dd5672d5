"""The typed result of a route profile: each sampled point and the summary (``RouteProfile``).

Example:
    >>> le = LifeExpectancyAt(male=ValueCI(value=78.1, lower=77.0, upper=79.2), female=ValueCI.missing())
    >>> point = ProfilePoint(name="Centre", kind="stop", lon=-1.5478, lat=53.7965, distance_m=0.0,
    ...     lsoa_code="E01033010", msoa_code="E02006875", imd_decile=7, imd_rank=20160,
    ...     life_expectancy=le, flags=["no_le_female"])
    >>> point.life_expectancy.of("male").value, point.to_dict()["life_expectancy"]["female"]
    (78.1, {'value': None, 'lower': None, 'upper': None})
    >>> "stop_code" in point.to_dict()          # a key that only coded stops carry
    False

Frozen pydantic models: the CLI prints ``RouteProfile.to_dict()`` as JSON, the API returns the
model itself (so its OpenAPI schema is the response model), and the two are the same record.
Keys that only an option brings (``stop_code`` on a coded stop; ``assets_within`` and the
summary's asset counts with a radius) are left out when unset, never written as null.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from strengthmap.sources.transport import RouteInput

Sex = Literal["male", "female"]
#: The sexes a profile reports life expectancy for, in output order.
SEXES: tuple[Sex, ...] = ("male", "female")

#: The measures of the "largest changes" lists, each in its own unit (years, decile, rank).
CHANGE_MEASURES = ("life_expectancy_male", "life_expectancy_female", "imd_decile", "imd_rank")


def _is_none(value: object) -> bool:
    return value is None


def _omitted() -> Any:
    """A field left out of the record while unset (``None``)."""
    return Field(default=None, exclude_if=_is_none)


class Record(BaseModel):
    """A frozen part of the profile; ``to_dict()`` is its JSON record."""

    model_config = ConfigDict(frozen=True, serialize_by_alias=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record, as ``strengthmap route profile --json`` prints it."""
        return self.model_dump(by_alias=True)


class ValueCI(Record):
    """A value with its 95% confidence interval (years, for life expectancy); all three None
    where the publisher suppressed the value or no loaded area holds the point."""

    value: float | None
    lower: float | None
    upper: float | None

    @classmethod
    def missing(cls) -> ValueCI:
        """No value (suppressed, or outside the loaded areas)."""
        return cls(value=None, lower=None, upper=None)


class LifeExpectancyAt(Record):
    """Life expectancy at birth, male and female, of the MSOA 2011 holding a point."""

    male: ValueCI
    female: ValueCI

    def of(self, sex: Sex) -> ValueCI:
        """The value for ``sex``."""
        return self.male if sex == "male" else self.female


class NearbyAsset(Record):
    """A directory asset near a point: its name, ABCD kind and distance on the ellipsoid."""

    name: str | None
    abcd_kind: str | None
    distance_m: float


class AssetsWithin(Record):
    """The assets within the radius of a point: all counted, the nearest listed."""

    count: int
    nearest: list[NearbyAsset]


class ProfilePoint(Record):
    """One point of the profile: a stop (``kind="stop"``, named) or a sample every N metres.

    Codes are of the LSOA of the IMD release's vintage and of the MSOA 2011; ``None`` outside
    the loaded areas, with a flag saying why (``outside_lsoa_coverage``, ``no_imd``,
    ``le_male_suppressed`` ...). Nothing is dropped or guessed."""

    name: str | None
    kind: Literal["stop", "sample"]
    lon: float
    lat: float
    distance_m: float
    lsoa_code: str | None
    msoa_code: str | None
    imd_decile: int | None
    imd_rank: int | None
    life_expectancy: LifeExpectancyAt
    flags: list[str]
    stop_code: str | None = _omitted()
    assets_within: AssetsWithin | None = _omitted()

    def measure(self, name: str) -> float | None:
        """The value of one of ``CHANGE_MEASURES`` at this point (years, decile or rank)."""
        if name.startswith("life_expectancy_"):
            sex: Sex = "male" if name == "life_expectancy_male" else "female"
            return self.life_expectancy.of(sex).value
        return self.imd_decile if name == "imd_decile" else self.imd_rank


class PointRef(Record):
    """Where along the route: the point's name (stops only), distance and areas."""

    name: str | None
    distance_m: float
    lsoa_code: str | None
    msoa_code: str | None

    @classmethod
    def of(cls, p: ProfilePoint) -> PointRef:
        return cls(
            name=p.name, distance_m=p.distance_m, lsoa_code=p.lsoa_code, msoa_code=p.msoa_code
        )


class ValueAt(Record):
    """A life-expectancy value with its CI, and where along the route it is."""

    value: float | None
    lower: float | None
    upper: float | None
    name: str | None
    distance_m: float
    lsoa_code: str | None
    msoa_code: str | None


class LifeExpectancyRange(Record):
    """The lowest and highest life expectancy along the route, the gap in years and whether it
    is significant (95% CIs that do not overlap)."""

    min: ValueAt
    max: ValueAt
    gap_years: float | None
    significant: bool | None
    comparison: str


class DeprivationAt(Record):
    """A point's IMD decile and rank, and where along the route it is."""

    name: str | None
    distance_m: float
    lsoa_code: str | None
    msoa_code: str | None
    imd_decile: int | None
    imd_rank: int | None


class ImdRange(Record):
    """The IMD along the route: decile and rank range (rank 1 = most deprived in England)."""

    release: int | None
    decile_min: int
    decile_max: int
    rank_min: int | None
    rank_max: int | None
    most_deprived: DeprivationAt
    least_deprived: DeprivationAt
    points_in_decile_1: int


class Change(Record):
    """A change of one measure between two consecutive points (``to`` minus ``from``)."""

    measure: str
    from_: PointRef = Field(serialization_alias="from")
    to: PointRef
    change: int | float


class RouteSummary(Record):
    """The route as a whole: length, coverage, ranges, the largest changes and attribution."""

    source: str
    name: str | None
    length_m: float
    every_m: int | float  # as asked: 500 stays 500, 500.0 stays 500.0
    imd_release: int | None
    lsoa_vintage: int | None
    msoa_vintage: int
    n_points: int
    n_stops: int
    n_outside: int
    n_le_suppressed: int
    life_expectancy: dict[Sex, LifeExpectancyRange | None]
    imd: ImdRange | None
    largest_stop_changes_by_measure: dict[str, list[Change]]
    largest_point_changes_by_measure: dict[str, list[Change]]
    attribution: list[str]
    radius_m: int | float | None = _omitted()
    assets_within_max: int | None = _omitted()
    assets_near_route: int | None = _omitted()
    assets_near_route_by_kind: dict[str, int] | None = _omitted()


class RouteProfile(Record):
    """The sampled points and the summary; ``to_dict()`` is the JSON of the CLI and the API.

    ``route`` is the line that was profiled (not part of the record)."""

    points: list[ProfilePoint]
    summary: RouteSummary
    _route: RouteInput | None = PrivateAttr(default=None)

    @classmethod
    def of(
        cls, route: RouteInput, points: list[ProfilePoint], summary: RouteSummary
    ) -> RouteProfile:
        """The profile of ``route``."""
        profile = cls(points=points, summary=summary)
        profile._route = route
        return profile

    @property
    def route(self) -> RouteInput | None:
        return self._route

    @property
    def stops(self) -> list[ProfilePoint]:
        """The points that are stops (or way-points), in order along the route."""
        return [p for p in self.points if p.kind == "stop"]


__all__ = [
    "CHANGE_MEASURES",
    "SEXES",
    "AssetsWithin",
    "Change",
    "DeprivationAt",
    "ImdRange",
    "LifeExpectancyAt",
    "LifeExpectancyRange",
    "NearbyAsset",
    "PointRef",
    "ProfilePoint",
    "Record",
    "RouteProfile",
    "RouteSummary",
    "Sex",
    "ValueAt",
    "ValueCI",
]

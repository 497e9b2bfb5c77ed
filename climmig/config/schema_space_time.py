"""Config models of where and when a run projects: study area, grid, periods and evaluation horizons."""

from __future__ import annotations

from pydantic import Field, model_validator

from climmig.config.schema_types import ISO3, SafeId, Year, _Frozen, _unique

__all__ = ["BBox", "GridSpec", "HorizonSpec", "PeriodSpec", "StudyArea", "YearRange"]


class BBox(_Frozen):
    """A longitude/latitude bounding box in degrees (WGS84)."""

    west: float = Field(ge=-180, le=360)
    south: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=360)
    north: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _ordered(self) -> BBox:
        if self.west >= self.east:
            raise ValueError(f"west ({self.west}) must be less than east ({self.east}); swap them")
        if self.south >= self.north:
            raise ValueError(f"south ({self.south}) must be less than north ({self.north}); swap them")
        return self


class StudyArea(_Frozen):
    """Where the run projects: a list of countries, or a bounding box (then all countries inside it)."""

    countries: list[ISO3] | None = None
    bbox: BBox | None = None
    boundaries: SafeId = "natural_earth_110m_admin0"
    region_id_field: str = "iso3"

    @model_validator(mode="after")
    def _one_of(self) -> StudyArea:
        if (self.countries is None) == (self.bbox is None):
            raise ValueError("give exactly one of `countries` (ISO3 list) or `bbox`")
        if self.countries is not None:
            if not self.countries:
                raise ValueError("`countries` is empty; list at least one ISO3 code")
            _unique(self.countries, "country")
        return self


class GridSpec(_Frozen):
    """The analysis grid: regular latitude/longitude cells of ``resolution`` degrees (EPSG:4326; layers in
    other CRSs are reprojected to it)."""

    resolution: float = Field(gt=0, le=5, description="cell size in degrees")


class YearRange(_Frozen):
    """An inclusive range of years."""

    start: Year
    end: Year

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}; swap them")
        return self

    def years(self) -> list[int]:
        """All years in the range."""
        return list(range(self.start, self.end + 1))


class PeriodSpec(_Frozen):
    """The historical (calibration) period and the projection period."""

    historical: YearRange
    projection: YearRange
    baseline_year: Year = 2020

    @model_validator(mode="after")
    def _order(self) -> PeriodSpec:
        if self.projection.start <= self.historical.start:
            raise ValueError(
                f"@period -> projection -> start: projection starts ({self.projection.start}) before the "
                f"historical period ({self.historical.start}); projections must come after it"
            )
        return self


class HorizonSpec(_Frozen):
    """An evaluation horizon: a named period over which results are averaged."""

    name: SafeId
    start: Year
    end: Year

    @model_validator(mode="after")
    def _ordered(self) -> HorizonSpec:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}; swap them")
        return self

"""Hazard indicators as pure functions in the xclim style: declared units, thresholds converted to the data.

Each indicator takes raw variables (DataArrays with a ``units`` attribute) and returns a DataArray with
``units``, ``long_name`` and ``cell_methods``. None of them computes: dask-backed inputs give dask-backed
outputs. Thresholds are strings with units (``"35 degC"``) converted to the units of the data, so a
threshold in degC against data in K is handled.

:data:`FILE_RECIPES` says, once per indicator, how scenario files (plus, for water stress and coastal
inundation, a second catalog entry) become the indicator's yearly values; the layer builder (:mod:`climmig.hazards.layers`) looks the recipe up instead of branching
on the indicator's name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import xarray as xr

from climmig.errors import DataError
from climmig.indicator_table import INDICATORS
from climmig.units import convert, dimensionality

__all__ = [
    "FILE_RECIPES",
    "INDICATOR_UNITS",
    "FileRecipe",
    "coastal_inundation",
    "convert_threshold",
    "crop_yield_loss",
    "drought_months",
    "flooded_fraction",
    "heat_days",
    "river_flood_depth",
    "water_stress",
]

logger = logging.getLogger(__name__)

#: Units of each indicator's output (what ``hazard_intensity`` carries; declared in climmig.indicator_table).
INDICATOR_UNITS: dict[str, str] = {name: i.units for name, i in INDICATORS.items()}


def _units(da: xr.DataArray, name: str) -> str:
    u = da.attrs.get("units")
    if u is None:
        raise DataError(f"{name} has no units attribute; declare its units in the catalog entry")
    return str(u)


def convert_threshold(thresh: str | float, da: xr.DataArray, name: str = "data") -> float:
    """A threshold (number with units) in the units of ``da``.

    Parameters
    ----------
    thresh : str or float
        E.g. ``"35 degC"``, ``"0.5 m"``, ``0.1``.
    da : xr.DataArray
        Data whose ``units`` the threshold is converted to.
    name : str
        Used in error messages.

    Returns
    -------
    float

    Raises
    ------
    DataError
        If the dimensions differ (e.g. a temperature threshold against a depth).
    """
    target = _units(da, name)
    try:
        return convert(thresh, target)
    except Exception as exc:  # noqa: BLE001 - pint raises several error types
        raise DataError(f"cannot compare threshold {thresh!r} ({dimensionality(thresh)}) with {name} in "
                        f"{target!r}: {exc}") from None


def _out(da: xr.DataArray, name: str, units: str, long_name: str, cell_methods: str) -> xr.DataArray:
    da = da.rename(name)
    da.attrs = {"units": units, "long_name": long_name, "cell_methods": cell_methods}
    return da


def river_flood_depth(depth: xr.DataArray, protection: str | float = "0 m") -> xr.DataArray:
    """People-relevant river-flood depth: depth above the local protection standard.

    Parameters
    ----------
    depth : xr.DataArray
        Annual maximum flood water depth (ISIMIP ``flddph``), units of length.
    protection : str or float
        Depth the local defences hold back, e.g. ``"0.5 m"``.

    Returns
    -------
    xr.DataArray, [m], dims of ``depth``
        :math:`\\max(d - p, 0)`; NaN where ``depth`` is NaN.
    """
    to_m = convert(f"1 {_units(depth, 'flood depth')}", "m")
    p = convert_threshold(protection, depth, "flood depth") * to_m
    out = (depth * to_m - p).clip(min=0)
    return _out(out, "river_flood_depth", "m", f"annual maximum river flood depth above {protection} protection",
                "time: maximum")


def flooded_fraction(fraction: xr.DataArray) -> xr.DataArray:
    """Share of the cell flooded (ISIMIP ``fldfrc``), checked to be dimensionless and in [0, 1].

    Parameters
    ----------
    fraction : xr.DataArray
        Flooded fraction.

    Returns
    -------
    xr.DataArray, [1]
    """
    convert_threshold(0, fraction, "flooded fraction")
    return _out(fraction.clip(0, 1), "flooded_fraction", "1", "flooded fraction of the cell", "time: maximum")


def heat_days(tas: xr.DataArray, thresh: str = "35 degC", freq: str = "YS") -> xr.DataArray:
    """Number of days per period with daily temperature above a threshold.

    Parameters
    ----------
    tas : xr.DataArray
        Daily temperature (mean or maximum) with a ``time`` dimension.
    thresh : str
        Threshold with units (converted to the units of ``tas``).
    freq : str
        Resampling frequency (pandas offset alias).

    Returns
    -------
    xr.DataArray, [d]
        Days above ``thresh`` per period.
    """
    t = convert_threshold(thresh, tas, "temperature")
    out = (tas > t).where(tas.notnull()).resample(time=freq).sum(min_count=1)
    return _out(out, "heat_days", "d", f"days with temperature above {thresh}", "time: sum")


def drought_months(index: xr.DataArray, thresh: float | str = -1.0, freq: str = "YS") -> xr.DataArray:
    """Months per period with a standardised water-balance index (SPEI-like) below a threshold.

    Parameters
    ----------
    index : xr.DataArray
        Monthly standardised precipitation-minus-evaporation index, dimensionless.
    thresh : float or str
        Threshold, e.g. ``-1.0`` (moderate drought).
    freq : str
        Resampling frequency.

    Returns
    -------
    xr.DataArray, [month]
    """
    t = convert_threshold(thresh, index, "water-balance index")
    out = (index < t).where(index.notnull()).resample(time=freq).sum(min_count=1)
    return _out(out, "drought_months", "month", f"months with standardised water balance below {thresh}",
                "time: sum")


def crop_yield_loss(crop_yield: xr.DataArray, reference: xr.DataArray) -> xr.DataArray:
    """Relative crop-yield loss against a reference yield (gains count as zero loss).

    Parameters
    ----------
    crop_yield : xr.DataArray
        Yield (any mass per area units).
    reference : xr.DataArray
        Reference yield in compatible units (e.g. the baseline climatology).

    Returns
    -------
    xr.DataArray, [1]
        :math:`\\max(1 - Y / Y_{ref}, 0)`.
    """
    f = convert(f"1 {_units(reference, 'reference yield')}", _units(crop_yield, "crop yield"))
    out = (1 - crop_yield / (reference * f)).clip(min=0)
    return _out(out, "crop_yield_loss", "1", "relative crop-yield loss against the reference", "time: mean")


def water_stress(withdrawal: xr.DataArray, availability: xr.DataArray) -> xr.DataArray:
    """Withdrawal-to-availability ratio (e.g. > 0.4 is high stress).

    Parameters
    ----------
    withdrawal, availability : xr.DataArray
        Water withdrawal and renewable availability in compatible units (volume or flux).

    Returns
    -------
    xr.DataArray, [1]
    """
    f = convert(f"1 {_units(availability, 'availability')}", _units(withdrawal, "withdrawal"))
    out = withdrawal / (availability * f).where(availability > 0)
    return _out(out, "water_stress", "1", "water withdrawal to availability ratio", "time: mean")


def coastal_inundation(elevation: xr.DataArray, sea_level: xr.DataArray | str) -> xr.DataArray:
    """Depth of the sea above ground: sea level (incl. rise and surge) minus elevation, floored at zero.

    Parameters
    ----------
    elevation : xr.DataArray
        Ground elevation above the same datum, units of length.
    sea_level : xr.DataArray or str
        Extreme sea level (e.g. ``"1.2 m"`` or a field with dims such as scenario/year).

    Returns
    -------
    xr.DataArray, [m]
        NaN where elevation is NaN (ocean).
    """
    z = elevation * convert(f"1 {_units(elevation, 'elevation')}", "m")
    if isinstance(sea_level, str):
        s: float | xr.DataArray = convert(sea_level, "m")
    else:
        s = sea_level * convert(f"1 {_units(sea_level, 'sea level')}", "m")
    out = (s - z).clip(min=0)
    return _out(out, "coastal_inundation", "m", "sea level above ground elevation", "time: maximum")


#: ``recipe(raw, threshold, params, open_second)``: scenario-file data of one variable (dims ``time`` and
#: others, units in ``attrs``), the hazard spec's threshold and params, and ``open_second()``, which opens the
#: second variable of a two-variable indicator (the catalog entry named by ``params.<key>``, see
#: :attr:`climmig.indicator_table.Indicator.second_input`) on ``raw``'s grid -> the indicator with one ``time``
#: step per year. One-variable recipes never call ``open_second``.
FileRecipe = Callable[[xr.DataArray, str, Mapping[str, Any], Callable[[], xr.DataArray]], xr.DataArray]


def _yearly(raw: xr.DataArray, how: str) -> xr.DataArray:
    """Yearly ``max`` or ``mean`` of ``raw`` with its attributes (the units the indicators convert from)."""
    out = getattr(raw.resample(time="YS"), how)()
    out.attrs = raw.attrs
    return out


def _flood_depth_from_files(raw: xr.DataArray, threshold: str, params: Mapping[str, Any],
                            open_second: Callable[[], xr.DataArray]) -> xr.DataArray:
    return river_flood_depth(_yearly(raw, "max"), str(params.get("protection", "0 m")))


def _flooded_fraction_from_files(raw: xr.DataArray, threshold: str, params: Mapping[str, Any],
                                 open_second: Callable[[], xr.DataArray]) -> xr.DataArray:
    return flooded_fraction(_yearly(raw, "max"))


def _crop_yield_loss_from_files(raw: xr.DataArray, threshold: str, params: Mapping[str, Any],
                                open_second: Callable[[], xr.DataArray]) -> xr.DataArray:
    yearly = _yearly(raw, "mean")
    # the reference is the same run's own climatology, so a model's yield bias cancels out of the loss
    ref = yearly.sel(time=slice(str(params.get("reference_start", 1991)),
                                str(params.get("reference_end", 2020)))).mean("time")
    ref.attrs = raw.attrs
    return crop_yield_loss(yearly, ref)


def _water_stress_from_files(raw: xr.DataArray, threshold: str, params: Mapping[str, Any],
                             open_second: Callable[[], xr.DataArray]) -> xr.DataArray:
    # the ratio of the year's mean withdrawal to the year's mean availability (a static availability divides
    # every year); time-varying availability is matched year by year
    availability = open_second()
    if "time" in availability.dims:
        availability = _yearly(availability, "mean")
    return water_stress(_yearly(raw, "mean"), availability)


def _coastal_inundation_from_files(raw: xr.DataArray, threshold: str, params: Mapping[str, Any],
                                   open_second: Callable[[], xr.DataArray]) -> xr.DataArray:
    elevation = open_second()
    if "time" in elevation.dims:
        raise DataError(f"{elevation.attrs.get('climmig_catalog_id', 'the elevation entry')} has a time "
                        "dimension; params.elevation must name a static elevation model (DEM)")
    # the ground does not move, so the year's highest sea level gives the year's deepest inundation
    return coastal_inundation(elevation, _yearly(raw, "max"))


#: How scenario files become each indicator (see :data:`FileRecipe`); water stress and coastal inundation
#: read a second catalog entry. Indicators missing here are indices against an observed baseline climate that
#: the files do not hold (``source: warming_levels`` builds them).
FILE_RECIPES: Mapping[str, FileRecipe] = MappingProxyType({
    "heat_days": lambda raw, threshold, params, open_second: heat_days(raw, threshold),
    "drought_months": lambda raw, threshold, params, open_second: drought_months(raw, threshold),
    "river_flood_depth": _flood_depth_from_files,
    "flooded_fraction": _flooded_fraction_from_files,
    "crop_yield_loss": _crop_yield_loss_from_files,
    "water_stress": _water_stress_from_files,
    "coastal_inundation": _coastal_inundation_from_files,
})

"""Summaries of projected samples: horizon aggregates, quantiles, central intervals, variance partition.

Every function keeps the ``sample`` dimension until it is asked to summarise it away and stays lazy on
dask-backed input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr

__all__ = [
    "UNCERTAINTY_COMPONENTS",
    "central_intervals",
    "headline_lines",
    "horizon_mean",
    "horizon_sum",
    "horizon_table",
    "partition_variance",
    "projection_summary",
    "summarise",
]

logger = logging.getLogger(__name__)

UNCERTAINTY_COMPONENTS = ("scenario", "climate_model", "parameter", "residual", "total")


def horizon_table(horizons: Iterable[Any]) -> list[tuple[str, int, int]]:
    """Normalise horizons to ``(name, start, end)`` tuples.

    Parameters
    ----------
    horizons : iterable
        :class:`~climmig.config.schema.HorizonSpec` objects, mappings with ``name``/``start``/``end`` or
        ``(name, start, end)`` tuples.

    Returns
    -------
    list of tuple
        ``(name, start, end)`` with inclusive integer years.
    """
    out: list[tuple[str, int, int]] = []
    for h in horizons:
        if isinstance(h, tuple | list):
            name, start, end = h
        elif isinstance(h, dict):
            name, start, end = h["name"], h["start"], h["end"]
        else:
            name, start, end = h.name, h.start, h.end
        if int(start) > int(end):
            raise ValueError(f"horizon {name!r}: start {start} is after end {end}")
        out.append((str(name), int(start), int(end)))
    if not out:
        raise ValueError("give at least one horizon")
    return out


def _horizon_reduce(da: xr.DataArray, horizons: Iterable[Any], how: Literal["mean", "sum"]) -> xr.DataArray:
    if "year" not in da.dims:
        raise ValueError(f"{da.name or 'array'} has no 'year' dimension (dims {da.dims})")
    table = horizon_table(horizons)
    years = da["year"]
    parts = []
    for name, start, end in table:
        sel = da.sel(year=(years >= start) & (years <= end))
        if sel.sizes["year"] == 0:
            raise ValueError(
                f"horizon {name!r} ({start}-{end}) contains no year of the data "
                f"({int(years.min())}-{int(years.max())})"
            )
        if sel.sizes["year"] < end - start + 1:
            logger.warning("horizon %s covers %d of its %d years", name, sel.sizes["year"], end - start + 1)
        parts.append(getattr(sel, how)("year", keep_attrs=True))
    out = xr.concat(parts, dim="horizon", coords="minimal", compat="override", join="override")
    out = out.assign_coords(
        horizon=("horizon", [t[0] for t in table]),
        horizon_start=("horizon", np.array([t[1] for t in table])),
        horizon_end=("horizon", np.array([t[2] for t in table])),
    )
    out["horizon"].attrs.update(long_name="evaluation horizon")
    out["horizon_start"].attrs.update(long_name="first year of the horizon", units="year")
    out["horizon_end"].attrs.update(long_name="last year of the horizon", units="year")
    out.attrs = dict(da.attrs)
    cm = f"year: {how} within horizon"
    out.attrs["cell_methods"] = (da.attrs.get("cell_methods", "") + " " + cm).strip()
    if how == "sum" and "long_name" in da.attrs:
        out.attrs["long_name"] = f"{da.attrs['long_name']}, summed over the horizon"
    return out


def horizon_mean(da: xr.DataArray, horizons: Iterable[Any]) -> xr.DataArray:
    """Average over the years of each evaluation horizon.

    Parameters
    ----------
    da : xr.DataArray
        Array with a ``year`` dimension (lazy or in memory).
    horizons : iterable
        Horizons (see :func:`horizon_table`).

    Returns
    -------
    xr.DataArray
        ``year`` replaced by ``horizon`` (with ``horizon_start`` and ``horizon_end`` coordinates); units
        unchanged (annual mean).
    """
    return _horizon_reduce(da, horizons, "mean")


def horizon_sum(da: xr.DataArray, horizons: Iterable[Any]) -> xr.DataArray:
    """Sum over the years of each evaluation horizon (e.g. people displaced in 2041-2060).

    Parameters
    ----------
    da : xr.DataArray
        Array with a ``year`` dimension.
    horizons : iterable
        Horizons (see :func:`horizon_table`).

    Returns
    -------
    xr.DataArray
        ``year`` replaced by ``horizon``.
    """
    return _horizon_reduce(da, horizons, "sum")


def _single_chunk(da: xr.DataArray, dims: Sequence[str]) -> xr.DataArray:
    if da.chunks is None:
        return da
    return da.chunk({d: -1 for d in dims})


def _sample_dims(da: xr.DataArray, dim: str | Sequence[str]) -> list[str]:
    dims = [dim] if isinstance(dim, str) else list(dim)
    missing = [d for d in dims if d not in da.dims]
    if missing:
        raise ValueError(f"{da.name or 'array'} lacks dimension(s) {missing} (dims {da.dims})")
    return dims


def summarise(
    da: xr.DataArray,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
    dim: str | Sequence[str] = "sample",
) -> xr.Dataset:
    """Mean and quantiles of an array over its sample dimension(s).

    Parameters
    ----------
    da : xr.DataArray
        Projected samples.
    quantiles : sequence of float
        Probabilities in (0, 1).
    dim : str or sequence of str
        Dimension(s) the samples run along, e.g. ``"sample"`` or ``("sample", "climate_model")``.

    Returns
    -------
    xr.Dataset
        ``mean`` (dims of ``da`` without ``dim``) and ``quantiles`` (with a ``quantile`` dim), both with
        the units of ``da``.
    """
    dims = _sample_dims(da, dim)
    q = np.asarray(sorted(float(x) for x in quantiles))
    if q.size == 0 or np.any((q <= 0) | (q >= 1)):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {list(quantiles)}")
    name = da.name or "value"
    src = _single_chunk(da, dims)
    mean = da.mean(dims, keep_attrs=True)
    qs = src.quantile(q, dim=dims, keep_attrs=True)
    mean.attrs = {**da.attrs, "cell_methods": f"{' '.join(dims)}: mean"}
    qs.attrs = {**da.attrs, "cell_methods": f"{' '.join(dims)}: quantile"}
    out = xr.Dataset({"mean": mean, "quantiles": qs})
    out["quantile"].attrs.update(long_name="probability of the quantile", units="1")
    out.attrs["climmig_summarised"] = str(name)
    return out


def central_intervals(
    da: xr.DataArray, levels: Sequence[float] = (0.5, 0.9), dim: str | Sequence[str] = "sample"
) -> xr.Dataset:
    """Equal-tailed central credible intervals over the sample dimension(s).

    Parameters
    ----------
    da : xr.DataArray
        Projected samples.
    levels : sequence of float
        Probability mass of each interval, in (0, 1), e.g. 0.5 and 0.9.
    dim : str or sequence of str
        Sample dimension(s).

    Returns
    -------
    xr.Dataset
        ``lower`` and ``upper`` with a ``level`` dimension and the median ``median``; units of ``da``.
        Because they are quantiles of the same samples, a wider level always contains a narrower one.
    """
    dims = _sample_dims(da, dim)
    lv = np.asarray(sorted(float(x) for x in levels))
    if lv.size == 0 or np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"interval levels must lie strictly between 0 and 1, got {list(levels)}")
    src = _single_chunk(da, dims)
    probs = np.unique(np.concatenate([(1 - lv) / 2, (1 + lv) / 2, [0.5]]))
    qs = src.quantile(probs, dim=dims, keep_attrs=True)
    lower = qs.sel(quantile=list((1 - lv) / 2), method="nearest").drop_vars("quantile")
    upper = qs.sel(quantile=list((1 + lv) / 2), method="nearest").drop_vars("quantile")
    lower = lower.rename({"quantile": "level"}).assign_coords(level=lv)
    upper = upper.rename({"quantile": "level"}).assign_coords(level=lv)
    median = qs.sel(quantile=0.5, method="nearest").drop_vars("quantile")
    out = xr.Dataset({"lower": lower, "upper": upper, "median": median})
    for v in out.data_vars.values():
        v.attrs = dict(da.attrs)
    out["level"].attrs.update(long_name="probability mass of the central interval", units="1")
    return out


def partition_variance(
    expected: xr.DataArray,
    sampled: xr.DataArray,
    *,
    sample_dim: str = "sample",
) -> xr.DataArray:
    r"""Partition the variance of projections into scenario, climate-model, parameter and residual parts.

    A Hawkins and Sutton (2009) style decomposition by the law of total variance, with equal weights on
    scenarios, climate models and posterior samples.

    Parameters
    ----------
    expected : xr.DataArray
        Expected value (e.g. the negative-binomial mean) per posterior sample; dims include ``sample``,
        ``scenario``, ``climate_model`` and ``year``.
    sampled : xr.DataArray
        Posterior-predictive draws (expected value plus sampling noise), same dims as ``expected``.
    sample_dim : str
        Name of the posterior-sample dimension.

    Returns
    -------
    xr.DataArray
        Variance (units of ``sampled`` squared) with an ``uncertainty`` dimension
        (``scenario``, ``climate_model``, ``parameter``, ``residual``, ``total``) and all dims of the input
        except ``sample``, ``scenario`` and ``climate_model`` (so by year, and by region if present).

    Notes
    -----
    With :math:`X` the sampled value and :math:`E` the expected value,

    .. math::

        V_{total} = \operatorname{Var}_s\bar X_{s} + \overline{\operatorname{Var}_m \bar X_{s,m}}
                  + \overline{\operatorname{Var}_i E + C} + \overline{\operatorname{Var}_i R + C},

    where :math:`R = X - E` is the sampling noise, :math:`C = \operatorname{Cov}_i(E, R)`, :math:`s` runs
    over scenarios, :math:`m` over climate models, :math:`i` over samples, bars are means and all
    variances are population variances (``ddof=0``). The four terms are the ``scenario``,
    ``climate_model``, ``parameter`` and ``residual`` components; because
    :math:`\operatorname{Var}_i X = \operatorname{Var}_i E + \operatorname{Var}_i R + 2C` they sum exactly
    to the pooled variance of :math:`X` over scenarios, climate models and samples (``total``). The
    covariance :math:`C` is zero in expectation (the noise has mean zero given :math:`E`) and is split
    evenly between the parameter and residual terms.

    References
    ----------
    Hawkins, E. and Sutton, R. (2009). The potential to narrow uncertainty in regional climate predictions.
    BAMS 90, 1095-1107.
    """
    need = {sample_dim, "scenario", "climate_model"}
    for name, da in (("expected", expected), ("sampled", sampled)):
        missing = need - set(da.dims)
        if missing:
            raise ValueError(f"{name} lacks dimension(s) {sorted(missing)} (dims {da.dims})")
    if set(expected.dims) != set(sampled.dims):
        raise ValueError(f"expected {expected.dims} and sampled {sampled.dims} must share dims")
    x = sampled
    cell_mean = x.mean(sample_dim)  # (scenario, climate_model, ...)
    scen_mean = cell_mean.mean("climate_model")
    v_scenario = scen_mean.var("scenario")
    v_model = cell_mean.var("climate_model").mean("scenario")
    noise = x - expected
    cov = ((expected - expected.mean(sample_dim)) * (noise - noise.mean(sample_dim))).mean(sample_dim)
    v_param = (expected.var(sample_dim) + cov).mean(["scenario", "climate_model"])
    v_resid = (noise.var(sample_dim) + cov).mean(["scenario", "climate_model"])
    v_total = x.var([sample_dim, "scenario", "climate_model"])
    out = xr.concat(
        [v_scenario, v_model, v_param, v_resid, v_total],
        dim=xr.DataArray(list(UNCERTAINTY_COMPONENTS), dims="uncertainty", name="uncertainty"),
        coords="minimal",
        compat="override",
    )
    units = sampled.attrs.get("units", "1")
    out.name = "variance"
    out.attrs = {
        "long_name": f"variance of {sampled.attrs.get('long_name', sampled.name or 'projection')} by source",
        "units": "1" if units == "1" else f"({units})2",
        "climmig_method": "Hawkins-Sutton style law-of-total-variance partition, equal weights, ddof=0",
    }
    out["uncertainty"].attrs["long_name"] = "source of uncertainty"
    return out


def projection_summary(
    expected: xr.DataArray,
    sampled: xr.DataArray,
    horizons: Iterable[Any],
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> xr.Dataset:
    """Everything the report needs from one projected quantity, as one dataset.

    Parameters
    ----------
    expected : xr.DataArray
        Expected value per posterior sample (sample, scenario, climate_model, year, region[, hazard]).
    sampled : xr.DataArray
        Posterior-predictive draws, same dims.
    horizons : iterable
        Evaluation horizons.
    quantiles : sequence of float
        Quantiles of the horizon means.

    Returns
    -------
    xr.Dataset
        ``horizon_mean`` (quantiles of the annual mean per horizon, pooled over samples and climate
        models: dims quantile x scenario x horizon x region) and ``horizon_mean_mean`` (its mean),
        ``annual`` and ``annual_mean`` (the same by year),
        ``variance`` (the partition of :func:`partition_variance` of the all-region total, by year),
        ``variance_fraction`` (each component over ``total``), and ``variance_horizon`` /
        ``variance_horizon_fraction``: the same partition of the all-region total's horizon mean (dims
        uncertainty x horizon). Year-to-year chance dominates single years; over a horizon's mean it
        largely averages out, so the horizon partition is the one that says which uncertainty a planner
        could reduce (better models, narrower parameters) and which is a choice (the scenario).
    """
    if "hazard" in sampled.dims:
        expected, sampled = expected.sum("hazard", keep_attrs=True), sampled.sum("hazard", keep_attrs=True)
    pooled = ["sample", "climate_model"]
    hm = horizon_mean(sampled, horizons)
    s_h = summarise(hm, quantiles, dim=pooled)
    s_y = summarise(sampled, quantiles, dim=pooled)
    regional = "region" in sampled.dims
    part = partition_variance(expected.sum("region") if regional else expected,
                              sampled.sum("region") if regional else sampled)
    tot_e = expected.sum("region") if regional else expected
    tot_x = sampled.sum("region") if regional else sampled
    part_h = partition_variance(horizon_mean(tot_e, horizons), horizon_mean(tot_x, horizons))
    part_h.attrs["long_name"] = part.attrs["long_name"] + " (horizon mean of the annual values)"

    def _fraction(v: xr.DataArray) -> xr.DataArray:
        f = v / v.sel(uncertainty="total").where(v.sel(uncertainty="total") > 0)
        f.attrs = {"long_name": "share of the variance by source", "units": "1"}
        return f

    out = xr.Dataset({
        "horizon_mean": s_h["quantiles"], "horizon_mean_mean": s_h["mean"],
        "annual": s_y["quantiles"], "annual_mean": s_y["mean"],
        "variance": part, "variance_fraction": _fraction(part),
        "variance_horizon": part_h, "variance_horizon_fraction": _fraction(part_h),
    })
    out.attrs["climmig_sampling_design"] = (
        "every posterior draw with every climate model; quantiles pool draws and climate models")
    return out


def headline_lines(displaced: xr.DataArray, horizon: Any, scenarios: Sequence[str]) -> list[str]:
    """One line per scenario: the all-region yearly displacement over ``horizon``, median and 90 % interval.

    Parameters
    ----------
    displaced : xr.DataArray
        Posterior-predictive draws (sample, scenario, climate_model, year, region, hazard).
    horizon : HorizonSpec
        ``name``, ``start``, ``end``.
    scenarios : sequence of str
        Scenarios, in the order of the lines.

    Returns
    -------
    list of str
    """
    total = displaced.sum(["region", "hazard"])
    lines = []
    for sc in scenarios:
        v = total.sel(scenario=sc, year=slice(horizon.start, horizon.end)).mean("year")
        q = np.quantile(v.values, [0.05, 0.5, 0.95])
        lines.append(f"displacement per year {horizon.name} ({horizon.start}-{horizon.end}), {sc}: median "
                     f"{q[1]:,.0f} (90 % interval {q[0]:,.0f}-{q[2]:,.0f})")
    return lines

"""Global warming of each CMIP6 model per scenario, from the model's own regional-mean temperature series.

The input is a table of yearly near-surface air temperature per model, experiment and AR6 region (the IPCC
Atlas "datasets-aggregated-regionally" product; bundled as the catalog entry ``cmip6_regional_tas``, columns
``model, scenario, member, year, <regions...>, world``). The historical run (1850-2014) and each SSP run
(2015-2100) of a model are joined into one series.

Conventions (IPCC AR6 WGI, ch. 4 Box 4.1 and the Interactive Atlas):

* **Reference period** 1850-1900: warming is the model's global mean minus its own 1850-1900 mean.
* **Smoothing** 20-year running means: the warming of year ``y`` is the mean of the 20 years ``y-9 .. y+10``.
  Where that window runs past 2100 it is held at the last full window (2081-2100), so the last decade keeps
  the 2081-2100 mean rather than a shorter, noisier average. A model reaches a warming level in the first
  year whose 20-year mean exceeds it; :func:`warming_level_years` applies that rule and is checked against
  the AR6 Atlas table (``ar6_warming_level_years``).
* **Year-to-year variability** :func:`warming_anomaly` is the unsmoothed minus the smoothed series (the
  model's own internal variability, region-wide coherent).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = [
    "REFERENCE_PERIOD",
    "WINDOW",
    "model_positions",
    "regional_amplification",
    "select_climate_models",
    "temperature_series",
    "warming_anomaly",
    "warming_level_years",
    "warming_trajectories",
]

logger = logging.getLogger(__name__)

#: AR6 pre-industrial reference period for global warming levels.
REFERENCE_PERIOD = (1850, 1900)
#: AR6 smoothing window (years) for warming levels.
WINDOW = 20


def _check_table(table: pd.DataFrame, column: str) -> None:
    need = {"model", "scenario", "year", column}
    missing = need - set(table.columns)
    if missing:
        raise DataError(f"the CMIP6 temperature table lacks columns {sorted(missing)}; it needs model, scenario, "
                        f"year and {column!r} (degC)")


def temperature_series(table: pd.DataFrame, scenarios: Sequence[str], models: Sequence[str],
                       column: str = "world") -> xr.DataArray:
    """Yearly temperature per scenario and model: historical (<= 2014) joined with each SSP run.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``model, scenario, year`` and ``column`` (degC); experiments ``historical`` and ``ssp*``.
    scenarios : sequence of str
        SSP experiments (e.g. ``ssp245``).
    models : sequence of str
        CMIP6 source ids.
    column : str
        Region column (``world`` for the global mean, or an AR6 acronym such as ``NEAF``).

    Returns
    -------
    xr.DataArray, [degC], dims (scenario, climate_model, year)

    Raises
    ------
    DataError
        A model or scenario missing from the table (the message lists what the table has).
    """
    _check_table(table, column)
    have = sorted(table["model"].unique())
    unknown = [m for m in models if m not in have]
    if unknown:
        raise DataError(f"climate models {unknown} are not in the CMIP6 temperature table; it has {', '.join(have)}")
    out = np.full((len(scenarios), len(models), 2100 - 1850 + 1), np.nan)
    years = np.arange(1850, 2101)
    for j, m in enumerate(models):
        rows = table[table["model"] == m]
        hist = rows[rows["scenario"] == "historical"].set_index("year")[column]
        for i, s in enumerate(scenarios):
            fut = rows[rows["scenario"] == s].set_index("year")[column]
            if fut.empty:
                runs = sorted(set(rows["scenario"]) - {"historical"})
                raise DataError(f"climate model {m} has no {s} run in the CMIP6 temperature table (it has "
                                f"{', '.join(runs)}); choose another model or scenario")
            series = pd.concat([hist[hist.index <= 2014], fut[fut.index >= 2015]]).reindex(years)
            ref = series.loc[REFERENCE_PERIOD[0]:REFERENCE_PERIOD[1]]
            if ref.isna().any() or series.loc[2015:].notna().sum() < 80:
                raise DataError(f"{m} {s}: the CMIP6 temperature table lacks years of the reference period "
                                f"{REFERENCE_PERIOD[0]}-{REFERENCE_PERIOD[1]} or of 2015-2100")
            # interior gaps (some Atlas series lack 1901-1949) are interpolated; they only enter windows
            # centred before 1960. A missing final year (2100 in two models) repeats the last one.
            out[i, j] = series.interpolate(limit_area="inside").ffill().to_numpy(float)
    da = xr.DataArray(out, dims=("scenario", "climate_model", "year"),
                      coords={"scenario": list(scenarios), "climate_model": list(models), "year": years},
                      attrs={"units": "degC", "long_name": f"near-surface air temperature, {column} mean"})
    if da.isnull().any():
        bad = da.isnull().any("year")
        pairs = [f"{s}/{m}" for s in da.scenario.values for m in da.climate_model.values
                 if bool(bad.sel(scenario=s, climate_model=m))]
        raise DataError(f"the CMIP6 temperature table has gaps in 1850-2100 for {pairs[:5]}")
    return da


def _smooth(da: xr.DataArray) -> xr.DataArray:
    """20-year running mean over y-9..y+10, held at the last full window at the end of the series."""
    years = da["year"].values
    vals = da.transpose(..., "year").values
    csum = np.concatenate([np.zeros(vals.shape[:-1] + (1,)), np.cumsum(vals, axis=-1)], axis=-1)
    n = len(years)
    out = np.empty_like(vals)
    for k in range(n):
        lo = min(max(k - (WINDOW // 2 - 1), 0), n - WINDOW)
        out[..., k] = (csum[..., lo + WINDOW] - csum[..., lo]) / WINDOW
    return da.copy(data=out)


def warming_trajectories(table: pd.DataFrame, scenarios: Sequence[str], models: Sequence[str],
                         column: str = "world") -> xr.DataArray:
    """Smoothed warming since 1850-1900 per scenario, model and year (AR6 convention).

    Parameters
    ----------
    table, scenarios, models, column
        As in :func:`temperature_series`.

    Returns
    -------
    xr.DataArray, [K], dims (scenario, climate_model, year), years 1850-2100
        20-year running mean of the temperature minus the model's own 1850-1900 mean.
    """
    t = temperature_series(table, scenarios, models, column)
    ref = t.sel(year=slice(*REFERENCE_PERIOD)).mean("year")
    out = _smooth(t) - ref
    out.attrs = {"units": "K", "long_name": f"warming since {REFERENCE_PERIOD[0]}-{REFERENCE_PERIOD[1]} "
                 f"({WINDOW}-year running mean, {column})",
                 "comment": f"AR6 convention: reference {REFERENCE_PERIOD[0]}-{REFERENCE_PERIOD[1]}, {WINDOW}-year "
                 "means (y-9..y+10, held at 2081-2100 at the end)"}
    return out


def warming_anomaly(table: pd.DataFrame, scenarios: Sequence[str], models: Sequence[str],
                    column: str = "world") -> xr.DataArray:
    """Year-to-year temperature anomaly of each model around its own 20-year running mean.

    Parameters
    ----------
    table, scenarios, models, column
        As in :func:`temperature_series`.

    Returns
    -------
    xr.DataArray, [K], dims (scenario, climate_model, year)
    """
    t = temperature_series(table, scenarios, models, column)
    out = t - _smooth(t)
    out.attrs = {"units": "K", "long_name": f"yearly anomaly around the {WINDOW}-year running mean ({column})"}
    return out


def warming_level_years(warming: xr.DataArray, levels: Sequence[float]) -> xr.DataArray:
    """The central year of the first 20-year window whose mean warming exceeds each level.

    Parameters
    ----------
    warming : xr.DataArray
        From :func:`warming_trajectories`.
    levels : sequence of float
        Warming levels, K.

    Returns
    -------
    xr.DataArray, dims (level, scenario, climate_model)
        Year (float; NaN where the level is never reached by 2100). The central year of window y-9..y+10
        is reported as ``y``, as in the AR6 Atlas table.
    """
    lv = xr.DataArray(np.asarray(levels, float), dims="level", coords={"level": np.asarray(levels, float)})
    # only years whose window is a full 20-year window inside the data (not the held end values)
    full = warming.sel(year=slice(None, int(warming["year"].max()) - WINDOW // 2))
    above = full > lv
    first = above.argmax("year")
    year = full["year"].isel(year=first).drop_vars("year").astype(float)
    return year.where(above.any("year")).rename("warming_level_year")


def regional_amplification(table: pd.DataFrame, region: str, models: Sequence[str],
                           scenario: str = "ssp585") -> xr.DataArray:
    """How much a model's regional warming exceeds its global warming: regression slope of the two.

    Parameters
    ----------
    table : pandas.DataFrame
        As in :func:`temperature_series`.
    region : str
        AR6 region column, e.g. ``NEAF``.
    models : sequence of str
        CMIP6 models.
    scenario : str
        Scenario whose 1850-2100 series is used (the strongest signal).

    Returns
    -------
    xr.DataArray, [1], dims (climate_model)
        Least-squares slope of the regional on the global smoothed warming.
    """
    g = warming_trajectories(table, [scenario], models).isel(scenario=0, drop=True)
    r = warming_trajectories(table, [scenario], models, column=region).isel(scenario=0, drop=True)
    gc = g - g.mean("year")
    slope = (gc * (r - r.mean("year"))).sum("year") / (gc**2).sum("year")
    slope.attrs = {"units": "1", "long_name": f"{region} warming per K of global warming ({scenario})"}
    return slope


def model_positions(score: xr.DataArray, low: float = 0.1, high: float = 0.9) -> xr.DataArray:
    """Each model's position in the across-model range: evenly spaced quantiles in the order of ``score``.

    ``n`` models get the quantiles ``low + (high - low) (k + 1/2) / n``, ``k = 0..n-1``, in ascending order of
    ``score`` (ties broken by name), so that the selection samples the p10-p90 range evenly and its median
    model sits at p50. One model gets 0.5.

    Parameters
    ----------
    score : xr.DataArray
        One number per ``climate_model`` (e.g. :func:`regional_amplification`).
    low, high : float
        The range the positions span (the AR6 tables give p10 and p90).

    Returns
    -------
    xr.DataArray, [1], dims (climate_model)
        Quantile in ``(low, high)``.
    """
    names = [str(m) for m in score["climate_model"].values]
    order = sorted(range(len(names)), key=lambda i: (float(score.values[i]), names[i]))
    n = len(names)
    q = np.empty(n)
    for rank, i in enumerate(order):
        q[i] = low + (high - low) * (rank + 0.5) / n
    return xr.DataArray(q, dims="climate_model", coords={"climate_model": names},
                        attrs={"units": "1", "long_name": "position of the model in the across-model range (quantile)"})


def select_climate_models(table: pd.DataFrame, n: int = 5, scenarios: Sequence[str] = ("ssp126", "ssp245", "ssp585"),
                          rank_scenario: str = "ssp245", period: tuple[int, int] = (2081, 2100)) -> list[str]:
    """Models that span the ensemble's warming range: the ones nearest evenly spaced quantiles.

    Rule: among the models with every scenario in ``scenarios``, rank their mean warming over ``period`` under
    ``rank_scenario`` and take, for each of the quantiles ``(k + 1/2)/n`` (k = 0..n-1: 10, 30, 50, 70 and 90 %
    for n = 5), the model whose warming is nearest that quantile of the ensemble (not yet taken).

    Parameters
    ----------
    table : pandas.DataFrame
        As in :func:`temperature_series`.
    n : int
        Number of models.
    scenarios : sequence of str
        Scenarios every chosen model must have.
    rank_scenario : str
        Scenario whose end-of-century warming ranks the models.
    period : tuple of int
        Years averaged for the ranking.

    Returns
    -------
    list of str
        Chosen models, in ascending order of warming.
    """
    runs = table.groupby("model")["scenario"].apply(set)
    eligible = sorted(m for m, s in runs.items() if set(scenarios) <= s and "historical" in s)
    if len(eligible) < n:
        raise DataError(f"only {len(eligible)} models have all of {list(scenarios)}; ask for fewer")
    w = warming_trajectories(table, [rank_scenario], eligible).isel(scenario=0, drop=True)
    end = w.sel(year=slice(*period)).mean("year").to_series()
    chosen: list[str] = []
    for k in range(n):
        target = float(np.quantile(end.to_numpy(), (k + 0.5) / n))
        left = end.drop(chosen)
        chosen.append(str((left - target).abs().idxmin()))
    return sorted(chosen, key=lambda m: float(end[m]))

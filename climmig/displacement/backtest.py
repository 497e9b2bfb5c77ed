"""Out-of-sample back-test of the displacement model against two baselines.

The model is fitted on years up to ``fit_until`` and predicts every country-year-hazard (and every
country-year total) of the evaluation years from covariates known for those years (year shocks drawn anew).
The predictive distribution is scored against the observations with interval coverage (50 %, 90 %), CRPS
and log score, next to

* **climatology**: for each country (and hazard), the empirical distribution of its calibration years;
* **Poisson GLM**: a non-hierarchical Poisson regression per hazard with population offset, country fixed
  effects (tiny ridge penalty so that all-zero countries stay finite) and the same covariates, predicting
  with its maximum-likelihood rate.

Only cells observed in the evaluation years (``reported`` or ``no_event``) of countries the model was
fitted on are scored; other countries are listed in ``unscored_countries``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import minimize

from climmig.displacement.model import COVARIATE_NAMES, predict_displacement, transform_covariates
from climmig.mobility.scoring import summarise_scores

__all__ = ["backtest_scores", "climatology_samples", "drivers_from_covariates", "poisson_glm_samples"]

logger = logging.getLogger(__name__)


def drivers_from_covariates(covariates: pd.DataFrame, countries: Sequence[str], years: Sequence[int],
                            hazards: Sequence[str]) -> xr.Dataset:
    """Projection drivers for observed years (scenario ``historical``, climate model ``observed``).

    Parameters
    ----------
    covariates : pandas.DataFrame
        From :func:`climmig.mobility.covariates.build_covariates`.
    countries, years, hazards : sequence
        Coordinates.

    Returns
    -------
    xr.Dataset
        ``population``, ``gdp_per_capita``, ``agricultural_share``, ``rural_share`` (year, region) and
        ``exposure_ratio`` = 1 (hazard, scenario, climate_model, year, region).
    """
    idx = pd.MultiIndex.from_product([list(countries), [int(y) for y in years]], names=["region", "year"])
    sub = covariates.reindex(idx)
    units = {"population": "1", "gdp_per_capita": "USD", "agricultural_share": "1", "rural_share": "1"}
    ds = xr.Dataset({k: xr.DataArray.from_series(sub[k]).transpose("year", "region").assign_attrs(units=u)
                     for k, u in units.items()})
    ds = ds.expand_dims(scenario=["historical"])
    ds["exposure_ratio"] = xr.DataArray(np.ones((len(hazards), 1, 1, len(years), len(countries))),
                                        dims=("hazard", "scenario", "climate_model", "year", "region"),
                                        coords={"hazard": list(hazards), "scenario": ["historical"],
                                                "climate_model": ["observed"], "year": ds["year"].values,
                                                "region": ds["region"].values}, attrs={"units": "1"})
    return ds


def _quantile_samples(values: np.ndarray, n: int) -> np.ndarray:
    """n equally spaced quantiles of an empirical distribution (reproduces it exactly for n = k * len)."""
    p = (np.arange(n) + 0.5) / n
    return np.quantile(values, p, method="inverted_cdf")


def climatology_samples(train: pd.DataFrame, keys: pd.DataFrame, by: list[str], n: int) -> np.ndarray:
    """Per-country climatology: the empirical distribution of each key's calibration-period values.

    Parameters
    ----------
    train : pandas.DataFrame
        Calibration rows with ``by`` columns and ``displacements`` (NaN rows ignored).
    keys : pandas.DataFrame
        Cells to predict (columns ``by``).
    by : list of str
        Grouping (``["iso3", "hazard"]`` or ``["iso3"]``).
    n : int
        Samples per cell.

    Returns
    -------
    numpy.ndarray
        (cells, n); NaN rows for keys without history.
    """
    groups = {k if isinstance(k, tuple) else (k,): g["displacements"].dropna().to_numpy()
              for k, g in train.groupby(by)}
    out = np.full((len(keys), n), np.nan)
    for i, key in enumerate(keys[by].itertuples(index=False, name=None)):
        vals = groups.get(tuple(key))
        if vals is not None and vals.size:
            out[i] = _quantile_samples(vals, n)
    return out


def _fit_poisson(y: np.ndarray, offset: np.ndarray, fe_idx: np.ndarray, n_fe: int, X: np.ndarray,
                 ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood Poisson regression with fixed effects (L-BFGS, analytic gradient)."""
    k = X.shape[1]
    tot_y = np.bincount(fe_idx, y, n_fe)
    tot_p = np.bincount(fe_idx, np.exp(offset), n_fe)
    fe0 = np.log((tot_y + 0.5) / tot_p)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        fe, b = theta[:n_fe], theta[n_fe:]
        eta = offset + fe[fe_idx] + X @ b
        mu = np.exp(np.minimum(eta, 50))
        r = mu - y
        nll = float((mu - y * eta).sum() + 0.5 * ridge * (theta @ theta))
        g = np.concatenate([np.bincount(fe_idx, r, n_fe), X.T @ r]) + ridge * theta
        return nll, g

    res = minimize(f, np.concatenate([fe0, np.zeros(k)]), jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000})
    return res.x[:n_fe], res.x[n_fe:]


def poisson_glm_samples(train: pd.DataFrame, test: pd.DataFrame, covariates: pd.DataFrame,
                        scaling: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Non-hierarchical Poisson GLM baseline: per hazard, country fixed effects + covariates + offset.

    Parameters
    ----------
    train, test : pandas.DataFrame
        Tidy rows (``iso3``, ``year``, ``hazard``, ``displacements``); NaN training rows are ignored.
    covariates : pandas.DataFrame
        Covariate panel (index ``iso3, year``).
    scaling : dict
        Covariate standardisation of the hierarchical fit (the same design).
    n : int
        Samples per test cell.
    rng : numpy.random.Generator
        For the Poisson draws.

    Returns
    -------
    numpy.ndarray
        (test cells, n) Poisson draws at the fitted rates.
    """
    out = np.full((len(test), n), np.nan)
    train = train.dropna(subset=["displacements"])

    def design(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        cov = covariates.reindex(pd.MultiIndex.from_arrays([df["iso3"], df["year"]]))
        xs = transform_covariates(cov, scaling)
        X = np.column_stack([np.asarray(xs[k], float) for k in COVARIATE_NAMES])
        return np.log(cov["population"].to_numpy(float)), X

    for hz in sorted(test["hazard"].unique()):
        tr = train[train["hazard"] == hz]
        te_mask = (test["hazard"] == hz).to_numpy()
        countries = pd.Index(sorted(tr["iso3"].unique()))
        off, X = design(tr)
        fe, b = _fit_poisson(tr["displacements"].to_numpy(float), off, countries.get_indexer(tr["iso3"]),
                             len(countries), X)
        te = test[te_mask]
        off_t, X_t = design(te)
        ix = countries.get_indexer(te["iso3"])
        eta = off_t + np.where(ix >= 0, fe[np.maximum(ix, 0)], np.nan) + X_t @ b
        mu = np.exp(np.minimum(eta, 40))
        ok = np.isfinite(mu)
        draws = np.full((te_mask.sum(), n), np.nan)
        draws[ok] = rng.poisson(mu[ok, None] * np.ones((1, n)))
        out[te_mask] = draws
    return out


def _by_country(methods: dict[str, np.ndarray], y: np.ndarray, iso3: np.ndarray) -> list[dict[str, Any]]:
    """Mean CRPS of the country-year totals per country and method, one record per country, largest model
    CRPS first (which countries drive the headline figure; a list so that JSON keeps the order)."""
    from climmig.mobility.scoring import crps_samples

    ok = np.ones(y.size, bool)
    for m in methods.values():
        ok &= np.isfinite(m).all(-1)
    crps = {suffix: crps_samples(m[ok], y[ok]) for suffix, m in methods.items()}
    df = pd.DataFrame({f"crps{s}": v for s, v in crps.items()})
    df["iso3"], df["observed_mean"] = iso3[ok], y[ok]
    df["median"] = np.median(methods[""][ok], axis=-1)
    agg = df.groupby("iso3").agg(n=("crps", "size"), **{c: (c, "mean") for c in df if c.startswith("crps")},
                                 observed_mean=("observed_mean", "mean"), predicted_median_mean=("median", "mean"))
    agg = agg.sort_values("crps", ascending=False)
    return [{"iso3": str(k), **{c: (int(v) if c == "n" else float(v)) for c, v in row.items()}}
            for k, row in agg.iterrows()]


def backtest_scores(idata: Any, observations: pd.DataFrame, covariates: pd.DataFrame, *, fit_until: int,
                    evaluate: tuple[int, int], samples: int, seed: int,
                    fit_countries: Sequence[str] | None = None) -> dict[str, Any]:
    """Score the fitted model and both baselines on the evaluation years.

    Parameters
    ----------
    idata : az.InferenceData
        Fit on years up to ``fit_until``.
    observations : pandas.DataFrame
        Tidy observations covering calibration and evaluation years.
    covariates : pandas.DataFrame
        Covariate panel for those years.
    fit_until : int
        Last calibration year.
    evaluate : (int, int)
        First and last evaluation year.
    samples : int
        Predictive samples per cell (all methods).
    seed : int
        Seed.
    fit_countries : sequence of str, optional
        Countries of the fit (default: its ``country`` coord).

    Returns
    -------
    dict
        Top level: country-year totals (``n``, ``coverage_50``, ``coverage_90``, ``crps``, ``log_score``,
        and ``crps_climatology``, ``crps_poisson_glm`` etc.); ``by_hazard`` the same per hazard;
        ``by_country`` records of the mean CRPS of the totals per country and method (largest first), with
        the observed mean and the mean of the predictive medians;
        ``unscored_countries`` with the reason.
    """
    rng = np.random.default_rng(seed)
    hazards = [str(h) for h in idata.posterior["hazard"].values]
    known = set(fit_countries or [str(c) for c in idata.posterior["country"].values])
    eval_years = list(range(evaluate[0], evaluate[1] + 1))
    obs = observations[observations["hazard"].isin(hazards)]
    train = obs[(obs["year"] <= fit_until) & (obs["status"] != "not_reported")]
    test_all = obs[obs["year"].isin(eval_years) & (obs["status"] != "not_reported")]
    in_train = set(train["iso3"])
    unscored = {c: ("in the calibration data but not modelled (no covariates: WDI population is needed for the "
                    "offset)" if c in in_train else "no observations in the calibration years (no fitted effect)")
                for c in sorted(set(test_all["iso3"]) - known)}
    test = test_all[test_all["iso3"].isin(known)].reset_index(drop=True)
    countries = sorted(test["iso3"].unique())
    import json

    scaling = json.loads(idata.posterior.attrs["climmig_covariate_scaling"])
    drivers = drivers_from_covariates(covariates, countries, eval_years, hazards)
    pred = predict_displacement(idata, drivers, samples=samples, seed=seed)
    dp = pred["displaced_persons"].isel(scenario=0, climate_model=0).transpose("year", "region", "hazard",
                                                                               "sample")
    arr = dp.values
    yi = pd.Index(dp["year"].values).get_indexer(test["year"])
    ri = pd.Index(dp["region"].values).get_indexer(test["iso3"])
    hi = pd.Index(hazards).get_indexer(test["hazard"])
    model_cells = arr[yi, ri, hi]
    clim_cells = climatology_samples(train, test, ["iso3", "hazard"], samples)
    glm_cells = poisson_glm_samples(train, test, covariates, scaling, samples, rng)

    # country-year totals: only where every hazard is observed
    complete = test.groupby(["iso3", "year"])["hazard"].transform("size") == len(hazards)
    tt = test[complete]
    tot_keys = tt.groupby(["iso3", "year"], as_index=False)["displacements"].sum()
    pos = {k: i for i, k in enumerate(zip(tot_keys["iso3"], tot_keys["year"], strict=True))}
    row = np.array([pos[k] for k in zip(tt["iso3"], tt["year"], strict=True)])

    def totals(cells: np.ndarray) -> np.ndarray:
        out = np.zeros((len(tot_keys), samples))
        np.add.at(out, row, cells[complete.to_numpy()])
        return out

    train_tot = train.groupby(["iso3", "year"]).filter(lambda g: len(g) == len(hazards))
    train_tot = train_tot.groupby(["iso3", "year"], as_index=False)["displacements"].sum()
    # totals of the model and the GLM add hazard draws; climatology uses past country totals directly
    methods_tot = {
        "": totals(model_cells),
        "_climatology": climatology_samples(train_tot, tot_keys, ["iso3"], samples),
        "_poisson_glm": totals(glm_cells),
    }
    y_tot = tot_keys["displacements"].to_numpy(float)
    methods_cells = {"": model_cells, "_climatology": clim_cells, "_poisson_glm": glm_cells}
    y_cells = test["displacements"].to_numpy(float)

    def block(methods: dict[str, np.ndarray], y: np.ndarray) -> dict[str, Any]:
        # score every method on the same cells: those all methods can predict
        ok = np.ones(y.size, bool)
        for m in methods.values():
            ok &= np.isfinite(m).all(-1)
        out: dict[str, Any] = {}
        for suffix, m in methods.items():
            s = summarise_scores(m[ok], y[ok])
            for k, v in s.items():
                if k == "n":
                    continue
                out[f"{k}{suffix}"] = v
        out["n"] = int(ok.sum())
        out["n_without_baseline"] = int((~ok).sum())
        out["observed_total"] = float(y[ok].sum())
        return out

    result = block(methods_tot, y_tot)
    result["by_country"] = _by_country(methods_tot, y_tot, tot_keys["iso3"].to_numpy())
    result["by_hazard"] = {}
    for j, hz in enumerate(hazards):
        sel = hi == j
        result["by_hazard"][hz] = block({k: v[sel] for k, v in methods_cells.items()}, y_cells[sel])
    result["unscored_countries"] = unscored
    result["fit_until"] = int(fit_until)
    result["evaluate"] = [int(evaluate[0]), int(evaluate[1])]
    result["samples"] = int(samples)
    return result

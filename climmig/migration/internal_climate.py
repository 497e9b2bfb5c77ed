"""Internal moves for climate reasons: the climate elasticity fitted on UNHCR PRMN (Somalia) against observed hazards.

PRMN records people displaced inside Somalia with the reason for moving. For reason :math:`h` (drought or
flood) and year :math:`t`,

.. math::

    y_{ht} \\sim \\mathrm{NegBin}(\\mu_{ht}, \\alpha), \\quad
    \\log\\mu_{ht} = \\log P_t + \\log m_h + \\beta\\, \\ell_{ht}

with Somalia's population :math:`P_t` (WDI), a baseline yearly rate per reason :math:`m_h`, and the observed
log exposure ratio :math:`\\ell_{ht}` of the hazard (:func:`climmig.mobility.hazard_history.log_exposure_ratio`:
the short-rains deficit from CHIRPS for drought, the season of year :math:`t-1` driving moves in :math:`t`;
the DFO flood record for floods). The climate elasticity :math:`\\beta` is shared by both reasons: it is the
``climate_elasticity`` of the internal-migration model (out-migration :math:`\\propto r^{\\beta}` for an
exposure ratio :math:`r`). Its sign is free (prior :math:`N(0, 1)`).

The posterior is computed by adaptive importance sampling (the prior as first proposal, then normal
proposals fitted to the weighted draws; self-normalised weights; the effective sample size is reported and
must exceed 1,000), which is exact in the limit and cheap for 4 parameters and about 10 observations. Years: 2016-2021 for drought (CHIRPS seasons 2015-2020), 2016-2019 for floods (the
DFO archive ends in 2019). PRMN's monitoring network and counting changed over the years, and a person can
be counted more than once; those changes are absorbed by nothing but the noise term.

Conflict-related moves (a third of PRMN) are not modelled: they are left out of :math:`y`, so the rates are
those of drought and flood moves only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from climmig.errors import DataError
from climmig.mobility.priors import INTERNAL_CLIMATE_PRIORS

__all__ = ["CLIMATE_REASONS", "INTERNAL_CLIMATE_PRIORS", "elasticity_table", "fit_internal_climate",
           "internal_draws_with_climate_posterior", "load_prmn_fit_inputs", "prmn_climate_series", "prmn_yearly"]

logger = logging.getLogger(__name__)

CLIMATE_REASONS: tuple[str, ...] = ("drought", "flood")


def prmn_yearly(prmn: pd.DataFrame, reasons: Sequence[str] = CLIMATE_REASONS) -> pd.DataFrame:
    """People displaced per calendar year and reason (complete years only).

    Parameters
    ----------
    prmn : pandas.DataFrame
        Catalog entry ``unhcr_prmn_somalia`` (``year``, ``month``, ``reason``, ``individuals``).
    reasons : sequence of str
        Reasons kept.

    Returns
    -------
    pandas.DataFrame
        Index ``year``, one column per reason (people).
    """
    need = {"year", "month", "reason", "individuals"}
    if missing := sorted(need - set(prmn.columns)):
        raise DataError(f"the PRMN table lacks columns {missing}")
    months = prmn.groupby("year")["month"].nunique()
    full = months[months == 12].index
    p = prmn[prmn["year"].isin(full) & prmn["reason"].isin(list(reasons))]
    return p.pivot_table(index="year", columns="reason", values="individuals", aggfunc="sum").reindex(
        columns=list(reasons)).fillna(0.0)


def prmn_climate_series(prmn: pd.DataFrame, population: pd.DataFrame, drought: pd.Series, flood: pd.Series,
                        *, country: str = "SOM") -> pd.DataFrame:
    """Observations of the fit: one row per reason and year with a hazard record.

    Parameters
    ----------
    prmn : pandas.DataFrame
        PRMN table.
    population : pandas.DataFrame
        WDI population (``iso3``, ``year``, ``population``).
    drought, flood : pandas.Series
        Hazard intensities indexed by (``iso3``, ``year``)
        (:func:`climmig.mobility.hazard_history.drought_intensity` with lag 1,
        :func:`climmig.mobility.hazard_history.flood_intensity`).
    country : str
        ISO3 of the PRMN country.

    Returns
    -------
    pandas.DataFrame
        ``reason``, ``year``, ``moves`` (people), ``population``, ``log_exposure_ratio``.
    """
    from climmig.mobility.hazard_history import log_exposure_ratio, reference_intensity

    yearly = prmn_yearly(prmn)
    pop = population[population["iso3"] == country].set_index("year")["population"]
    rows = []
    for reason, inten in (("drought", drought), ("flood", flood)):
        if country not in inten.index.get_level_values("iso3"):
            raise DataError(f"no {reason} record for {country}")
        rec_years = set(int(y) for y in inten.loc[country].index)
        years = [int(y) for y in yearly.index if int(y) in rec_years]
        if not years:
            continue
        k = reference_intensity(inten, min(years))
        ler = log_exposure_ratio(inten, years, k).loc[country]
        for y in years:
            rows.append({"reason": reason, "year": y, "moves": float(yearly.loc[y, reason]),
                         "population": float(pop.get(y, np.nan)), "log_exposure_ratio": float(ler.loc[y])})
    out = pd.DataFrame(rows)
    if out["population"].isna().any():
        raise DataError(f"no WDI population of {country} for some PRMN years")
    return out


def _nb_logpmf(y: np.ndarray, mu: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (special.gammaln(y + a) - special.gammaln(a) - special.gammaln(y + 1)
            + a * np.log(a / (a + mu)) + y * np.log(mu / (a + mu)))


def fit_internal_climate(series: pd.DataFrame, *, draws: int = 4000, proposals: int = 400_000,
                         seed: int = 0, min_ess: float = 1000.0) -> xr.Dataset:
    """Posterior of the climate elasticity and the baseline rates by importance sampling from the prior.

    Parameters
    ----------
    series : pandas.DataFrame
        From :func:`prmn_climate_series`.
    draws : int
        Posterior draws returned (resampled by weight).
    proposals : int
        Prior draws weighted.
    seed : int
        Seed.
    min_ess : float
        Smallest acceptable effective sample size of the weights.

    Returns
    -------
    xr.Dataset
        ``climate_elasticity``, ``rate_drought``, ``rate_flood`` [yr-1], ``alpha`` with dim ``sample``
        (posterior) and the same with prefix ``prior_`` (prior draws); attrs ``ess``, ``n_obs``, ``years``.

    Raises
    ------
    DataError
        If the effective sample size is below ``min_ess`` (the prior is too wide for the data: more
        proposals are needed).
    """
    rng = np.random.default_rng(seed)
    pr = INTERNAL_CLIMATE_PRIORS
    names = ("climate_elasticity", "log_rate", "log_rate", "log_alpha")
    p_mean = np.array([pr[n][0] for n in names])
    p_sd = np.array([pr[n][1] for n in names])
    reason_col = {r: 1 + k for k, r in enumerate(CLIMATE_REASONS)}
    y = series["moves"].to_numpy(float)
    lpop = np.log(series["population"].to_numpy(float))
    ler = series["log_exposure_ratio"].to_numpy(float)
    col = series["reason"].map(reason_col).to_numpy(int)

    def log_lik(th: np.ndarray) -> np.ndarray:
        out = np.zeros(th.shape[0])
        for i in range(y.size):  # ~10 observations: a loop over rows keeps memory at one column
            mu = np.exp(lpop[i] + th[:, col[i]] + th[:, 0] * ler[i])
            out += _nb_logpmf(y[i], mu, np.exp(th[:, 3]))
        return out

    def log_prior(th: np.ndarray) -> np.ndarray:
        return (-0.5 * ((th - p_mean) / p_sd) ** 2).sum(axis=1)

    # adaptive importance sampling: the first proposal is the prior; each later one a normal fitted to the
    # weighted draws with twice their sd, until the effective sample size suffices (at most 6 rounds)
    q_mean, q_cov = p_mean, np.diag(p_sd**2)
    ess, theta, w = 0.0, np.empty((0, 4)), np.empty(0)
    for _round in range(6):
        theta = rng.multivariate_normal(q_mean, q_cov, proposals)
        diff = theta - q_mean
        log_q = -0.5 * np.einsum("ij,jk,ik->i", diff, np.linalg.inv(q_cov), diff)
        lw = log_prior(theta) + log_lik(theta) - log_q
        w = np.exp(lw - lw.max())
        w /= w.sum()
        ess = float(1.0 / np.sum(w**2))
        if ess >= min_ess:
            break
        q_mean = w @ theta
        q_cov = 4.0 * np.cov(theta.T, aweights=w) + 1e-8 * np.eye(4)
    if ess < min_ess:
        raise DataError(f"importance sampling of the PRMN fit: effective sample size {ess:.0f} < {min_ess:.0f}; "
                        "increase proposals")
    pick = rng.choice(proposals, size=draws, replace=True, p=w)
    prior_draws = p_mean + p_sd * rng.standard_normal((draws, 4))
    beta = {"": theta[pick, 0], "prior_": prior_draws[:, 0]}
    log_m = {"": {r: theta[pick, c] for r, c in reason_col.items()},
             "prior_": {r: prior_draws[:, c] for r, c in reason_col.items()}}
    log_a = {"": theta[pick, 3], "prior_": prior_draws[:, 3]}
    data = {}
    for prefix in ("", "prior_"):
        data[f"{prefix}climate_elasticity"] = ("sample", beta[prefix])
        for r in CLIMATE_REASONS:
            data[f"{prefix}rate_{r}"] = ("sample", np.exp(log_m[prefix][r]))
        data[f"{prefix}alpha"] = ("sample", np.exp(log_a[prefix]))
    ds = xr.Dataset(data, coords={"sample": np.arange(draws)})
    ds["climate_elasticity"].attrs = {"units": "1", "long_name": "elasticity of internal moves for drought and "
                                      "flood reasons to the hazard's exposure ratio (PRMN Somalia posterior)"}
    ds.attrs = {"ess": f"{ess:.0f}", "n_obs": str(len(series)),
                "years": "; ".join(f"{r}: {g['year'].min()}-{g['year'].max()}" for r, g in series.groupby("reason")),
                "method": "adaptive importance sampling (first proposal the prior, then normals fitted to the "
                          f"weighted draws; {_round + 1} round(s)), self-normalised weights, resampled",
                "priors": str(INTERNAL_CLIMATE_PRIORS)}
    return ds


def load_prmn_fit_inputs(catalog: Any) -> pd.DataFrame:
    """Build :func:`prmn_climate_series` from the catalog (PRMN, WDI population, CHIRPS, DFO, Natural Earth)."""
    from climmig.mobility.hazard_history import country_polygons, drought_intensity, flood_intensity

    poly = country_polygons(catalog.open("natural_earth_110m_admin0"))
    poly = poly[poly["iso3"].isin(["SOM", "ETH", "KEN", "DJI"])]
    chirps = catalog.open("chirps_short_rains")
    prec = chirps["prec"] if isinstance(chirps, xr.Dataset) else chirps
    drought = drought_intensity(prec.load(), poly, lag=1)
    flood = flood_intensity(catalog.open("dfo_flood_archive"), poly)
    return prmn_climate_series(catalog.open("unhcr_prmn_somalia"), catalog.open("wdi_population"), drought, flood)


def elasticity_table(fit: xr.Dataset) -> pd.DataFrame:
    """Prior against posterior (5, 50, 95 % quantiles) of every parameter of the PRMN fit."""
    rows = []
    for v in ("climate_elasticity", *(f"rate_{r}" for r in CLIMATE_REASONS), "alpha"):
        for kind, name in (("prior", f"prior_{v}"), ("posterior", v)):
            q = np.quantile(fit[name].values, [0.05, 0.5, 0.95])
            rows.append({"parameter": v, "distribution": kind, "q05": q[0], "q50": q[1], "q95": q[2]})
    return pd.DataFrame(rows)


def internal_draws_with_climate_posterior(fit: xr.Dataset | None, samples: int, seed: int,
                                          priors: Any = None) -> xr.Dataset:
    """Internal-migration parameter draws whose ``climate_elasticity`` is the PRMN posterior.

    The other parameters (out-migration rate, gravity exponents, shape) keep their literature priors
    (:data:`climmig.migration.internal.DEFAULT_INTERNAL_PRIORS`); the Somali posterior of the elasticity is
    used for every country as an informed prior (no other country has origin-destination data with reasons).

    Parameters
    ----------
    fit : xr.Dataset or None
        From :func:`fit_internal_climate` (None: every parameter from its prior).
    samples, seed : int
        Draws and seed.
    priors : mapping of str to DistSpec, optional
        Overrides of the internal priors.

    Returns
    -------
    xr.Dataset
        As :func:`climmig.migration.internal.internal_parameter_draws`; attr ``climmig_internal_source``.
    """
    from climmig.migration.internal import internal_parameter_draws

    out = internal_parameter_draws(priors, samples, seed)
    if fit is None:
        return out
    pick = np.random.default_rng(seed + 101).choice(fit.sizes["sample"], size=samples, replace=True)
    out["climate_elasticity"] = ("sample", fit["climate_elasticity"].values[pick])
    out.attrs["climmig_internal_source"] = (
        "climate_elasticity: posterior of the PRMN Somalia fit (drought and flood moves 2016-2021 against "
        "CHIRPS and DFO), carried to every country as an informed prior; other parameters: literature priors")
    return out

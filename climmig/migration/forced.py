"""Cross-border forced displacement: refugee and asylum flows by origin, fitted on UNHCR, as its own outcome.

For an origin country :math:`o` and year :math:`t`, the new refugees and asylum applications it produces in
every other country (UNHCR new arrivals),

.. math::

    y_{ot} \\sim \\mathrm{NegBin}(\\mu_{ot}, \\alpha), \\quad
    \\log\\mu_{ot} = \\tau_t + u_o + \\beta_P \\log P_{ot} + \\beta_G \\log g_{ot} + \\beta_0 z_{ot} + \\beta_1 z_{o,t-1}

with year effects :math:`\\tau_t`, origin effects :math:`u_o \\sim N(0, \\sigma^2)`, population :math:`P` and
GDP per capita :math:`g` (WDI, centred) and the standardised weather-disaster displacement at the origin
:math:`z` (log1p of IDMC GIDD flood, storm and drought displacements per 1000 people) in the year and the
year before. Fitted by the same penalised Fisher scoring and Laplace approximation as the gravity model
(:mod:`climmig.migration.gravity`), with the NB shape constant.

**What leaving conflict out means.** Conflict and persecution drive most refugee flows and are not modelled.
The origin effects absorb each country's average level over 2009-2022 (Somalia's decades of conflict, South
Sudan's war), so projections carry today's average conflict forward unchanged; year-to-year swings of
conflict (a new war, a peace agreement) are in the noise term, and their correlation with disasters is not
separated: the disaster coefficients are associations, not causal effects. A projection is therefore
"forced displacement abroad if conflict stays at its 2009-2022 average".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.mobility.priors import FORCED_PRIORS

__all__ = ["FORCED_COVARIATES", "corridor_shares", "fit_forced", "forced_panel", "predict_forced"]

logger = logging.getLogger(__name__)

FORCED_COVARIATES: tuple[str, ...] = ("log_pop", "log_gdp", "disaster_z", "disaster_z_lag")


def forced_panel(arrivals: pd.DataFrame, events: pd.DataFrame, population: pd.DataFrame, gdp: pd.DataFrame,
                 years: Sequence[int]) -> pd.DataFrame:
    """Origin x year rows: new refugees + asylum applications abroad, and the covariates.

    Parameters
    ----------
    arrivals : pandas.DataFrame
        UNHCR new arrivals (``year``, ``origin``, ``destination``, ``refugees``, ``asylum_seekers``).
    events : pandas.DataFrame
        IDMC GIDD weather events (``iso3``, ``year``, ``Disaster Internal Displacements (Raw)``).
    population, gdp : pandas.DataFrame
        WDI population (long) and GDP per capita (wide).
    years : sequence of int
        Years fitted (the year before the first is needed for the lag).

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``year``, ``flow``, ``log_pop``, ``log_gdp``, ``disaster_rate`` (per 1000 people),
        ``disaster_rate_lag``; origins with population and GDP in every year only.
    """
    a = arrivals[arrivals["year"].isin(list(years)) & (arrivals["origin"] != arrivals["destination"])]
    flow = (pd.to_numeric(a["refugees"], errors="coerce").fillna(0.0)
            + pd.to_numeric(a["asylum_seekers"], errors="coerce").fillna(0.0))
    y = flow.groupby([a["origin"], a["year"]]).sum()
    col = "Disaster Internal Displacements (Raw)"
    ev = pd.to_numeric(events[col], errors="coerce").groupby([events["iso3"], events["year"]]).sum()
    pop = population.set_index(["iso3", "year"])["population"]
    g = gdp.drop_duplicates("iso3").set_index("iso3")
    origins = sorted(set(a["origin"]) & set(population["iso3"]) & set(g.index))
    rows = []
    for o in origins:
        for t in years:
            p, p1 = pop.get((o, t), np.nan), pop.get((o, t - 1), np.nan)
            gv = pd.to_numeric(g.loc[o].get(str(t), np.nan), errors="coerce")
            if not (np.isfinite(p) and np.isfinite(gv) and np.isfinite(p1) and p > 0 and gv > 0):
                continue
            rows.append({"origin": o, "year": int(t), "flow": float(y.get((o, t), 0.0)), "log_pop": np.log(p),
                         "log_gdp": np.log(gv), "disaster_rate": 1000 * float(ev.get((o, t), 0.0)) / p,
                         "disaster_rate_lag": 1000 * float(ev.get((o, t - 1), 0.0)) / p1})
    out = pd.DataFrame(rows)
    keep = out.groupby("origin")["year"].transform("size") == len(list(years))
    return out[keep].reset_index(drop=True)


class _Dense:
    """Design [year one-hot | covariates | origin one-hot] with the operator interface of the gravity fit."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.m = x.shape[1]

    def eta(self, theta: np.ndarray) -> np.ndarray:
        return self.x @ theta

    def xt(self, r: np.ndarray) -> np.ndarray:
        return self.x.T @ r

    def xtwx(self, w: np.ndarray) -> np.ndarray:
        return (self.x * w[:, None]).T @ self.x


def _design(rows: pd.DataFrame, years: Sequence[int], origins: Sequence[str],
            centering: Mapping[str, float]) -> np.ndarray:
    yi = rows["year"].map({int(y): i for i, y in enumerate(years)}).to_numpy(int)
    oi = rows["origin"].map({o: i for i, o in enumerate(origins)}).to_numpy(int)
    cov = np.column_stack([rows["log_pop"] - centering["log_pop"], rows["log_gdp"] - centering["log_gdp"],
                           (np.log1p(rows["disaster_rate"]) - centering["z_mean"]) / centering["z_sd"],
                           (np.log1p(rows["disaster_rate_lag"]) - centering["z_mean"]) / centering["z_sd"]])
    return np.column_stack([np.eye(len(years))[yi], cov, np.eye(len(origins))[oi]])


def fit_forced(rows: pd.DataFrame, *, draws: int = 2000, seed: int = 0, max_iter: int = 100) -> xr.Dataset:
    """Laplace fit of the forced-displacement model; posterior draws as a Dataset.

    Parameters
    ----------
    rows : pandas.DataFrame
        From :func:`forced_panel`.
    draws, seed : int
        Posterior draws and seed.
    max_iter : int
        Outer iterations (Fisher steps, shape and sigma updates).

    Returns
    -------
    xr.Dataset
        ``year_effect`` (sample, year), ``beta`` (sample, coef), ``origin_effect`` (sample, origin),
        ``alpha``, ``sigma`` (sample); attrs ``centering`` (JSON), ``converged``, ``n_rows``.
    """
    import json

    from climmig.migration.gravity import _newton, _profile_dispersion

    years = sorted(int(y) for y in rows["year"].unique())
    origins = sorted(rows["origin"].unique())
    z = np.log1p(pd.concat([rows["disaster_rate"], rows["disaster_rate_lag"]]))
    centering = {"log_pop": float(rows["log_pop"].mean()), "log_gdp": float(rows["log_gdp"].mean()),
                 "z_mean": float(z.mean()), "z_sd": float(z.std()) or 1.0}
    op = _Dense(_design(rows, years, origins, centering))
    y = rows["flow"].to_numpy(float)
    t, k, c = len(years), len(FORCED_COVARIATES), len(origins)
    mean = np.concatenate([np.full(t, np.log(max(y.mean(), 1.0))), [FORCED_PRIORS[n][0] for n in FORCED_COVARIATES],
                           np.zeros(c)])
    sigma = 1.0
    prec = np.concatenate([np.full(t, 1e-2), [FORCED_PRIORS[n][1] ** -2 for n in FORCED_COVARIATES],
                           np.full(c, sigma**-2)])
    theta, disp, converged = mean.copy(), np.array([0.0, 0.0]), False
    info = np.eye(theta.size)
    for _ in range(max_iter):
        new, info = _newton(op, y, theta, disp, prec, mean, steps=10, tol=1e-6)
        new_disp, _ = _profile_dispersion(y, op.eta(new), (disp[0], 0.0), False)
        cov = np.linalg.inv(info)
        u = new[t + k:]
        g = c - np.trace(cov[t + k:, t + k:]) / sigma**2
        new_sigma = float(np.sqrt(u @ u / max(g, 1.0)))
        change = max(float(np.max(np.abs(new - theta))), abs(new_disp[0] - disp[0]), abs(np.log(new_sigma / sigma)))
        theta, disp, sigma = new, new_disp, new_sigma
        prec[t + k:] = sigma**-2
        if change < 1e-5:
            converged = True
            break
    theta, info = _newton(op, y, theta, disp, prec, mean, steps=10)
    _, d_info = _profile_dispersion(y, op.eta(theta), (disp[0], 0.0), False)
    cov = np.linalg.inv(info)
    rng = np.random.default_rng(seed)
    zdraw = theta + rng.standard_normal((draws, theta.size)) @ np.linalg.cholesky(cov + 1e-12 * np.eye(theta.size)).T
    log_a = disp[0] + rng.standard_normal(draws) / np.sqrt(d_info[0, 0])
    return xr.Dataset(
        {"year_effect": (("sample", "year"), zdraw[:, :t]), "beta": (("sample", "coef"), zdraw[:, t:t + k]),
         "origin_effect": (("sample", "origin"), zdraw[:, t + k:]), "alpha": ("sample", np.exp(log_a)),
         "sigma": ("sample", np.full(draws, sigma))},
        coords={"sample": np.arange(draws), "year": years, "coef": list(FORCED_COVARIATES), "origin": origins},
        attrs={"centering": json.dumps(centering), "converged": str(converged), "n_rows": str(len(rows)),
               "method": "Laplace approximation at the penalised Fisher-scoring mode (empirical-Bayes sigma)",
               "conflict": "not modelled: origin effects carry each country's 2009-2022 average"})


def corridor_shares(arrivals: pd.DataFrame, origins: Sequence[str], years: Sequence[int],
                    corridors: Mapping[str, Sequence[str]], study: Sequence[str]) -> pd.DataFrame:
    """Share of each origin's new refugees and asylum seekers going to each corridor over ``years``.

    Returns
    -------
    pandas.DataFrame
        Index origin, columns corridor labels (rows sum to 1; 0 where an origin had no arrivals).
    """
    from climmig.migration.corridors import corridor_of

    a = arrivals[arrivals["year"].isin(list(years)) & arrivals["origin"].isin(list(origins))]
    a = a[a["origin"] != a["destination"]]
    v = pd.to_numeric(a["refugees"], errors="coerce").fillna(0) + pd.to_numeric(a["asylum_seekers"],
                                                                                errors="coerce").fillna(0)
    lab = corridor_of(list(a["destination"].astype(str)), study, corridors)
    t = v.groupby([a["origin"].to_numpy(), np.asarray(lab)]).sum().unstack(fill_value=0.0)
    t = t.reindex(list(origins)).fillna(0.0)
    return t.div(t.sum(axis=1).where(t.sum(axis=1) > 0, 1.0), axis=0)


def predict_forced(fit: xr.Dataset, drivers: xr.Dataset, baseline_rate: pd.Series, *, samples: int,
                   seed: int) -> xr.DataArray:
    """Annual forced displacement abroad from each study-area country (posterior predictive).

    Parameters
    ----------
    fit : xr.Dataset
        From :func:`fit_forced`.
    drivers : xr.Dataset
        ``population``, ``gdp_per_capita`` (scenario, year, region) and ``internal_exposure_ratio`` (mean drought
        and flood exposure ratio; scales the disaster-displacement rate).
    baseline_rate : pandas.Series
        Weather-disaster displacement per 1000 people per year of each region today (IDMC mean).
    samples, seed : int
        Draws and seed.

    Returns
    -------
    xr.DataArray, [people yr-1]
        (sample, scenario, climate_model, year, region). The year effect of a projected year is drawn from
        the fitted year effects of the last 10 years (the spread of recent years' levels).
    """
    import json

    from climmig.mobility.crn_draws import negbin_draws

    rng = np.random.default_rng(seed)
    c = json.loads(fit.attrs["centering"])
    regions = [str(r) for r in drivers["population"]["region"].values]
    missing = [r for r in regions if r not in set(str(o) for o in fit["origin"].values)]
    if missing:
        raise DataError(f"no forced-displacement origin effect for {', '.join(missing)}")
    pick = rng.choice(fit.sizes["sample"], size=samples, replace=samples > fit.sizes["sample"])
    f = fit.isel(sample=pick).assign_coords(sample=np.arange(samples))
    recent = f["year_effect"].isel(year=slice(-10, None))
    tau = recent.isel(year=xr.DataArray(rng.integers(0, recent.sizes["year"], samples), dims="sample"))
    u = f["origin_effect"].sel(origin=regions).rename(origin="region")
    b = f["beta"]
    rate = xr.DataArray(baseline_rate.reindex(regions).fillna(0.0).to_numpy(), dims="region",
                        coords={"region": regions}) * drivers["internal_exposure_ratio"]
    z = (np.log1p(rate) - c["z_mean"]) / c["z_sd"]
    eta = (tau + u + b.sel(coef="log_pop") * (np.log(drivers["population"]) - c["log_pop"])
           + b.sel(coef="log_gdp") * (np.log(drivers["gdp_per_capita"]) - c["log_gdp"])
           + (b.sel(coef="disaster_z") + b.sel(coef="disaster_z_lag")) * z)
    dims = [d for d in ("sample", "scenario", "climate_model", "year", "region") if d in eta.dims]
    mu = np.exp(eta.transpose(*dims))
    cnt = negbin_draws(rng, mu.values, f["alpha"].values.reshape(-1, *([1] * (mu.ndim - 1))))
    return mu.copy(data=cnt).assign_attrs(
        units="1", long_name="people newly seeking refuge or asylum abroad in the year (UNHCR-fitted; conflict "
        "held at its 2009-2022 average)", cell_methods="time: sum (per year)")

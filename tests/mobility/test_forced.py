"""Cross-border forced displacement (UNHCR-fitted): parameter recovery and a held-out-years check."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from climmig.migration.forced import FORCED_COVARIATES, _design, fit_forced

TRUE = {"log_pop": 0.9, "log_gdp": -0.7, "disaster_z": 0.3, "disaster_z_lag": -0.2}


def _rows(rng: np.random.Generator, n: int = 60, years: range = range(2009, 2023), alpha: float = 1.5) -> pd.DataFrame:
    origins = [f"O{i:02d}" for i in range(n)]
    u = rng.normal(0, 1.5, n)
    lp0, lg0 = rng.normal(15.5, 1.5, n), rng.normal(8.5, 1.2, n)
    rows = []
    for i, o in enumerate(origins):
        for t in years:
            rows.append({"origin": o, "year": t, "log_pop": lp0[i] + 0.02 * (t - 2009) + rng.normal(0, 0.05),
                         "log_gdp": lg0[i] + rng.normal(0, 0.3), "disaster_rate": rng.gamma(0.4, 5.0),
                         "disaster_rate_lag": rng.gamma(0.4, 5.0)})
    df = pd.DataFrame(rows)
    z = np.log1p(pd.concat([df["disaster_rate"], df["disaster_rate_lag"]]))
    c = {"log_pop": df["log_pop"].mean(), "log_gdp": df["log_gdp"].mean(), "z_mean": z.mean(), "z_sd": z.std()}
    x = _design(df, list(years), origins, c)
    t = len(years)
    tau = rng.normal(8.0, 0.3, t)
    beta = np.array([TRUE[k] for k in FORCED_COVARIATES])
    eta = x[:, :t] @ tau + x[:, t:t + 4] @ beta + x[:, t + 4:] @ u
    mu = np.exp(eta)
    df["flow"] = rng.poisson(rng.gamma(alpha, mu / alpha)).astype(float)
    return df


def test_forced_fit_recovers_the_coefficients() -> None:
    fit = fit_forced(_rows(np.random.default_rng(2)), draws=1000, seed=1)
    assert fit.attrs["converged"] == "True"
    for k, v in TRUE.items():
        lo, hi = np.quantile(fit["beta"].sel(coef=k), [0.0005, 0.9995])
        assert lo <= v <= hi, (k, v, lo, hi)
    # the shape profiled at the origin effects' mode is biased up (less noise left; measured +18 % with 14
    # years per origin): within 25 %, and the held-out test below checks the intervals' calibration
    assert float(fit["alpha"].median()) == pytest.approx(1.5, rel=0.25)


def test_held_out_years_are_covered() -> None:
    df = _rows(np.random.default_rng(6))
    train, test = df[df["year"] < 2020], df[df["year"] >= 2020]
    fit = fit_forced(train, draws=400, seed=2)
    c = json.loads(fit.attrs["centering"])
    x = _design(test, [int(y) for y in fit["year"].values] + [2020, 2021, 2022],
                [str(o) for o in fit["origin"].values], c)
    t = fit.sizes["year"]
    rng = np.random.default_rng(3)
    # a held-out year's effect: one of the fitted years' effects, drawn per sample
    tau = fit["year_effect"].values[np.arange(400), rng.integers(0, t, 400)]
    eta = (tau[:, None] + fit["beta"].values @ x[:, t + 3:t + 7].T + fit["origin_effect"].values @ x[:, t + 7:].T)
    mu, a = np.exp(eta), fit["alpha"].values[:, None]
    y = rng.poisson(rng.gamma(a, mu / a))
    lo, hi = np.quantile(y, [0.05, 0.95], axis=0)
    cover = np.mean((test["flow"].to_numpy() >= lo) & (test["flow"].to_numpy() <= hi))
    assert 0.8 <= cover <= 0.99

"""Scores (hand-checkable cases), baselines, and the backtest CLI on a small HDX slice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climmig.cli import main
from climmig.displacement.backtest import _fit_poisson, climatology_samples
from climmig.mobility.scoring import coverage, crps_samples, log_score_samples

HDX = Path(__file__).resolve().parents[1] / "data" / "idmc_hdx_events_fixture.csv"


def test_crps_hand_cases(rng) -> None:
    # a point forecast: CRPS = |x - y|
    assert crps_samples(np.full((1, 10), 3.0), np.array([5.0]))[0] == pytest.approx(2.0)
    # two equally likely values {0, 2}, y = 1: E|X-y| = 1, E|X-X'| = 1 -> 0.5
    assert crps_samples(np.array([[0.0, 2.0]]), np.array([1.0]))[0] == pytest.approx(0.5)
    # standard normal, y = 0: CRPS = (sqrt(2) - 1) / sqrt(pi)
    x = rng.standard_normal((1, 40_000))
    assert crps_samples(x, np.array([0.0]))[0] == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi), abs=0.01)


def test_crps_is_the_empirical_distributions_and_matches_the_normal_closed_form(rng) -> None:
    from scipy import stats

    # the empirical distribution's CRPS, E|X - y| - E|X - X'| / 2, written out over all pairs (ties included)
    x = np.round(rng.lognormal(2, 1, (5, 300)))
    y = np.array([0.0, 3.0, 7.0, 20.0, 1e4])
    pairs = np.abs(x[:, :, None] - x[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(crps_samples(x, y), np.abs(x - y[:, None]).mean(-1) - pairs / 2, rtol=1e-12)
    # a normal ensemble against the analytic CRPS of N(mu, sd): sd * (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi))
    mu, sd, obs = np.array([0.0, 2.0, -1.0]), np.array([1.0, 0.5, 3.0]), np.array([0.3, 3.5, -1.0])
    z = (obs - mu) / sd
    exact = sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    ens = mu[:, None] + sd[:, None] * stats.norm.ppf((np.arange(20_000) + 0.5) / 20_000)
    np.testing.assert_allclose(crps_samples(ens, obs), exact, rtol=2e-3)


def test_coverage_and_log_score(rng) -> None:
    x = np.tile(np.arange(101.0), (3, 1))
    cov = coverage(x, np.array([50.0, 4.0, 96.0]), 0.9)
    assert cov.tolist() == [True, False, False]
    assert coverage(x, np.array([25.0]), 0.5).tolist() == [True, True, True]  # broadcast over rows
    good = log_score_samples(rng.lognormal(8, 1, (1, 2000)), np.array([np.exp(8)]))
    bad = log_score_samples(rng.lognormal(2, 1, (1, 2000)), np.array([np.exp(8)]))
    assert good[0] > bad[0]


def test_climatology_reproduces_past_values() -> None:
    train = pd.DataFrame({"iso3": ["A"] * 4 + ["B"] * 2, "hazard": ["flood"] * 6,
                          "displacements": [0.0, 10.0, 20.0, 30.0, 5.0, np.nan]})
    keys = pd.DataFrame({"iso3": ["A", "B", "C"], "hazard": ["flood"] * 3})
    s = climatology_samples(train, keys, ["iso3", "hazard"], 8)
    assert sorted(set(s[0])) == [0.0, 10.0, 20.0, 30.0] and (np.bincount(s[0].astype(int) // 10) == 2).all()
    assert (s[1] == 5.0).all()
    assert np.isnan(s[2]).all()


def test_poisson_glm_recovers_rates(rng) -> None:
    n_fe = 5
    fe = np.log([1e-3, 2e-3, 5e-4, 1e-2, 3e-3])
    idx = np.repeat(np.arange(n_fe), 40)
    X = rng.normal(0, 1, (idx.size, 2))
    off = np.log(rng.uniform(1e5, 1e6, idx.size))
    y = rng.poisson(np.exp(off + fe[idx] + X @ np.array([0.3, -0.2])))
    fe_hat, b_hat = _fit_poisson(y.astype(float), off, idx, n_fe, X)
    np.testing.assert_allclose(fe_hat, fe, atol=0.05)
    np.testing.assert_allclose(b_hat, [0.3, -0.2], atol=0.05)


@pytest.mark.slow
def test_backtest_cli_on_hdx_slice(demo_dict, write_config, tmp_path, capsys) -> None:
    demo_dict["mobility"]["sampler"] = {"backend": "nutpie", "draws": 150, "tune": 200, "chains": 2}
    demo_dict["period"]["historical"] = {"start": 2008, "end": 2022}
    cfg = write_config(demo_dict)
    out = tmp_path / "bt.json"
    with pytest.raises(SystemExit) as exc:
        main(["backtest", str(cfg), "--fit-until", "2017", "--evaluate", "2018-2022", "--observations", str(HDX),
              "--format", "hdx-events", "--json", str(out), "--output", str(tmp_path / "run"), "--samples", "200"])
    assert exc.value.code in (0, None)
    res = json.loads(out.read_text())
    for key in ("n", "coverage_50", "coverage_90", "crps", "crps_climatology", "crps_poisson_glm", "log_score"):
        assert key in res
    assert res["format"] == "hdx-events"
    assert set(res["by_hazard"]) == {"flood", "storm", "drought"}
    assert res["n"] > 30 and 0 <= res["coverage_90"] <= 1
    assert res["by_hazard"]["flood"]["n"] > 30
    # Abyei has events but no WDI population: listed, not silently dropped
    assert "AB9" in res["unscored_countries"]
    assert (tmp_path / "run" / "mobility" / "displacement_fit_until2017.nc").exists()


def test_backtest_cli_rejects_bad_years(demo_dict, write_config, capsys) -> None:
    cfg = write_config(demo_dict)
    with pytest.raises(SystemExit) as exc:
        main(["backtest", str(cfg), "--fit-until", "2019", "--evaluate", "2018-2022"])
    assert exc.value.code == 2
    assert "must be before" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["backtest", str(cfg), "--fit-until", "2017", "--evaluate", "2018to2022"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_backtest_scores_end_to_end_without_sampling(rng) -> None:
    """The scoring path (model, both baselines, totals, unscored list) on a prior-drawn stand-in fit."""
    from climmig.displacement.backtest import backtest_scores
    from climmig.displacement.simulate import simulate_displacement
    from tests.mobility.test_displacement import _fake_idata

    inputs = simulate_displacement(rng, n_countries=8, n_years=10, hazards=("flood", "storm"))
    idata, _ = _fake_idata(inputs, rng, chains=2, draws=50)
    c, t, h = (np.asarray(inputs.coords[k])[getattr(inputs, f"{k}_idx")] for k in ("country", "year", "hazard"))
    obs = pd.DataFrame({"iso3": c, "year": t, "hazard": h, "displacements": inputs.displacements.astype(float)})
    obs["status"] = np.where(obs.displacements > 0, "reported", "no_event")
    extra = obs[obs.iso3 == "C00"].assign(iso3="ZZZ")  # a country the fit does not know
    obs = pd.concat([obs, extra], ignore_index=True)
    obs.loc[(obs.iso3 == "C01") & (obs.year == 2008) & (obs.hazard == "storm"), ["status", "displacements"]] = \
        ["not_reported", np.nan]
    first = {(a, b): o for o, (a, b) in enumerate(zip(c, t, strict=True))}
    rows = []
    for (cc, tt), o in first.items():
        x = inputs.covariates[o]
        rows.append({"iso3": cc, "year": int(tt), "population": float(np.exp(inputs.log_population[o])),
                     "gdp_per_capita": x[0], "agricultural_share": x[1], "rural_share": x[2]})
    cov = pd.DataFrame(rows).set_index(["iso3", "year"])
    res = backtest_scores(idata, obs, cov, fit_until=2006, evaluate=(2007, 2009), samples=100, seed=1)
    assert list(res["unscored_countries"]) == ["ZZZ"]
    assert "not modelled" in res["unscored_countries"]["ZZZ"]  # it has calibration rows, but no covariates
    assert res["by_hazard"]["flood"]["n"] == 8 * 3
    assert res["by_hazard"]["storm"]["n"] == 8 * 3 - 1  # the not-reported cell is not scored
    assert res["n"] == 8 * 3 - 1  # nor is that country-year's total
    for key in ("coverage_50", "coverage_90", "crps", "crps_climatology", "crps_poisson_glm", "log_score",
                "log_score_climatology", "log_score_poisson_glm", "crps_log1p", "crps_log1p_climatology",
                "crps_log1p_poisson_glm"):
        assert np.isfinite(res[key]), key
    assert 0 <= res["coverage_50"] <= res["coverage_90"] <= 1
    # per-country breakdown of the totals: its counts and cell-weighted means reproduce the headline figures
    bc = res["by_country"]
    assert sum(v["n"] for v in bc) == res["n"]
    assert len({v["iso3"] for v in bc}) == len(bc)
    for suffix in ("", "_climatology", "_poisson_glm"):
        weighted = sum(v[f"crps{suffix}"] * v["n"] for v in bc) / res["n"]
        np.testing.assert_allclose(weighted, res[f"crps{suffix}"], rtol=1e-9)
    assert [v["crps"] for v in bc] == sorted((v["crps"] for v in bc), reverse=True)  # largest first

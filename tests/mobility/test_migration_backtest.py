"""Back-test pieces (split, Poisson GLM benchmark, scores) and the ``backtest-flows`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from climmig.catalog import load_catalog
from climmig.cli import main
from climmig.migration.flows_backtest import holdout_mask, poisson_glm, score_holdout
from tests.conftest import CATALOG


def test_holdout_mask_seeded_and_sized() -> None:
    a, b = holdout_mask(1000, 0.2, seed=1), holdout_mask(1000, 0.2, seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.sum() == 200 and not np.array_equal(a, holdout_mask(1000, 0.2, seed=2))
    with pytest.raises(ValueError):
        holdout_mask(10, 1.0, seed=1)


def test_poisson_glm_recovers_coefficients(rng) -> None:
    n = 3000
    df = pd.DataFrame({c: rng.normal(0, 0.5, n) for c in ("log_pop_origin", "log_pop_destination",
                                                           "log_distance", "income_diff", "log_gdp_origin",
                                                           "climate_stress")})
    df["contiguous"] = (rng.uniform(size=n) < 0.1).astype(float)
    df["regime"] = np.where(rng.uniform(size=n) < 0.2, "regional", "unilateral")
    eta = (3.0 + 0.8 * df["log_pop_origin"] + 0.5 * df["log_pop_destination"] - 1.0 * df["log_distance"]
           + 0.3 * df["income_diff"] - 0.4 * df["log_gdp_origin"] + 0.2 * df["climate_stress"] + 0.7 * df["contiguous"]
           + 0.4 * (df["regime"] == "regional"))
    df["flow"] = rng.poisson(np.exp(eta))
    pred = poisson_glm(df.iloc[:2500], df.iloc[2500:])
    np.testing.assert_allclose(np.log(pred), eta.iloc[2500:], atol=0.1)


def test_scores_hand_checked() -> None:
    y = np.array([0.0, 10.0, 1000.0])
    mu = np.tile([1.0, 10.0, 1000.0], (400, 1))
    alpha = np.full(400, 50.0)
    s = score_holdout(y, mu, alpha, glm_mu=np.array([1.0, 10.0, 1000.0]), seed=1)
    assert s["n"] == 3 and s["coverage_90"] == 1.0
    # with a nearly Poisson NB (alpha 50) and exact means both log scores are close
    assert abs(s["log_score"] - s["log_score_poisson_glm"]) < 0.6
    bad = score_holdout(y, mu * 100, alpha, glm_mu=np.array([1.0, 10.0, 1000.0]), seed=1)
    assert bad["coverage_90"] < 0.5 and bad["log_score"] < s["log_score"]


@pytest.mark.slow
def test_backtest_cli_on_a_subset(tmp_path, demo_dict, write_config) -> None:
    flows = load_catalog(CATALOG).open("abel_cohen_flows_40")
    keep = ["DEU", "FRA", "ESP", "ITA", "GBR", "ROU", "UKR", "RUS", "TUR", "SYR", "JOR", "EGY", "SAU", "ARE"]
    sub = flows[flows["origin"].isin(keep) & flows["destination"].isin(keep)]
    csv = tmp_path / "flows.csv"
    sub.to_csv(csv, index=False)
    demo_dict["mobility"]["sampler"] = {"backend": "nutpie", "draws": 300, "tune": 300, "chains": 2}
    cfg = write_config(demo_dict)
    out = tmp_path / "bt.json"
    with pytest.raises(SystemExit) as exc:
        main(["backtest-flows", str(cfg), "--holdout", "0.2", "--seed", "3", "--flows", str(csv),
              "--json", str(out), "--samples", "200"])
    assert exc.value.code == 0
    res = json.loads(out.read_text())
    assert res["n"] == round(0.2 * len(keep) * (len(keep) - 1))
    for key in ("coverage_90", "log_score", "log_score_poisson_glm"):
        assert np.isfinite(res[key])
    assert 0.5 <= res["coverage_90"] <= 1.0
    assert res["log_score"] > res["log_score_poisson_glm"]
    assert out.with_suffix(".png").stat().st_size > 10_000


def test_country_holdout_predicts_unseen_countries(rng) -> None:
    from climmig.migration.flows_backtest import holdout_countries, predictive_draws
    from climmig.migration.model import build_migration_model, migration_inputs
    from tests.mobility.test_migration import prior_idata, simulate_world

    f, cov, geo, reg, _ = simulate_world(rng, n=12)
    inp = migration_inputs(f, cov, geo, reg)
    gone = holdout_countries(inp.countries, 3, seed=4)
    assert gone == holdout_countries(inp.countries, 3, seed=4) and len(set(gone)) == 3
    train = inp.without_countries(gone)
    assert set(train.countries) == set(inp.countries) - set(gone)
    assert not train.pairs["origin"].isin(gone).any() and not train.pairs["destination"].isin(gone).any()
    assert len(train.pairs) == 9 * 8
    idata = prior_idata(build_migration_model(train), train, draws=30)
    test = inp.pairs[inp.pairs["origin"].isin(gone) | inp.pairs["destination"].isin(gone)]
    mu, alpha = predictive_draws(idata, train, test.reset_index(drop=True), 30, seed=2)
    assert mu.shape == (30, len(test)) and np.isfinite(mu).all() and alpha.shape == (30,)
    with pytest.raises(ValueError, match="holdout-countries"):
        holdout_countries(inp.countries, 11, seed=1)

"""The convergence gate: ArviZ's rank-normalised R-hat and ESS per quantity, and what it refuses."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from climmig.config.schema import GateSpec
from climmig.errors import ConvergenceError
from climmig.mobility.diagnostics import check_convergence, enforce_gate


def _ar1(rng: np.random.Generator, chains: int, draws: int, phi: float) -> np.ndarray:
    e = rng.normal(size=(chains, draws))
    for t in range(1, draws):
        e[:, t] += phi * e[:, t - 1]
    return e


def _awkward(rng: np.random.Generator, chains: int = 4, draws: int = 301) -> az.InferenceData:
    """A scalar, a vector of AR(1) chains from antithetic to sticky, and a 2 x 2 block with edge cases."""
    vec = np.stack([_ar1(rng, chains, draws, phi) for phi in np.linspace(-0.7, 0.98, 6)], axis=-1)
    stuck = _ar1(rng, chains, draws, 0.3)
    stuck[1] = 4.0
    shifted = _ar1(rng, chains, draws, 0.2)
    shifted[0] += 3.0
    rare = (rng.random((chains, draws)) < 0.03).astype(float)  # a rare indicator: tail ESS edge cases
    block = np.stack([np.stack([np.full((chains, draws), 2.5), stuck], -1), np.stack([shifted, rare], -1)], -2)
    return az.from_dict(posterior={"a": _ar1(rng, chains, draws, 0.5), "vec": vec, "block": block},
                        dims={"vec": ["k"], "block": ["row", "col"]},
                        coords={"k": list("uvwxyz"), "row": [0, 1], "col": ["p", "q"]})


def test_values_are_arvizs_per_named_quantity(rng) -> None:
    idata = _awkward(rng)
    diag = check_convergence(idata, GateSpec())
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = {"r_hat": az.rhat(idata, method="rank"), "ess_bulk": az.ess(idata, method="bulk"),
               "ess_tail": az.ess(idata, method="tail")}
    expected_names = (["a"] + [f"vec[{k}]" for k in "uvwxyz"]
                      + [f"block[{r},{c}]" for r in (0, 1) for c in "pq"])
    assert list(diag["parameter"].values) == expected_names
    for stat, ds in ref.items():
        want = np.concatenate([ds[v].values.ravel() for v in ("a", "vec", "block")])
        np.testing.assert_array_equal(diag[stat].values, want, err_msg=stat)
    # the values mean what they should: the constant drops out (NaN), the shifted chain is caught
    assert np.isnan(diag["r_hat"].sel(parameter="block[0,p]"))
    assert float(diag["r_hat"].sel(parameter="block[1,p]")) > 1.3
    assert float(diag["ess_bulk"].sel(parameter="vec[u]")) > 4 * 301  # antithetic: more than the draws
    assert not bool(diag["passed"])


def test_mixing_chains_pass_and_each_failure_is_refused(rng) -> None:
    gate = GateSpec(r_hat_max=1.01, ess_min=400)
    good = az.from_dict(posterior={"theta": rng.normal(size=(4, 1000, 3))})
    diag = check_convergence(good, gate)
    assert bool(diag["passed"]) and enforce_gate(diag, gate, "toy") is True
    assert float(diag["max_r_hat"]) < 1.01 and float(diag["min_ess_tail"]) > 400

    shifted = rng.normal(size=(4, 1000, 3))
    shifted[0, :, 1] += 0.5  # one chain half an sd away in one quantity
    sticky = np.moveaxis(np.stack([_ar1(rng, 4, 1000, 0.97) for _ in range(3)]), 0, -1)  # ESS ~ 60
    stuck = np.repeat(np.array([0.0, 1.0, 0.0, 1.0])[:, None, None], 1000, axis=1)  # each chain constant
    for bad, which in ((shifted, "max_r_hat"), (sticky, "min_ess_bulk"), (stuck, "max_r_hat")):
        diag = check_convergence(az.from_dict(posterior={"theta": bad}), gate)
        assert not bool(diag["passed"]), which
        with pytest.raises(ConvergenceError, match="allow_unconverged"):
            enforce_gate(diag, gate, "toy")
    # chains stuck at different values: an R-hat that fails the gate (ArviZ gives ~1e7 here, through ties
    # of the rank normalisation), not a NaN that drops out of it
    assert float(diag["max_r_hat"]) > 100


def test_divergences_fail_the_gate(rng) -> None:
    idata = az.from_dict(posterior={"theta": rng.normal(size=(4, 1000))},
                         sample_stats={"diverging": np.eye(4, 1000, dtype=bool)})
    diag = check_convergence(idata, GateSpec(max_divergences=3))
    assert int(diag["divergences"]) == 4 and not bool(diag["passed"])
    assert bool(check_convergence(idata, GateSpec(max_divergences=4))["passed"])


def test_diagnostics_are_stored_with_the_fit_and_regated(rng, tmp_path, monkeypatch) -> None:
    import climmig.mobility.diagnostics as dg
    from climmig.mobility.fit import load_fit, save_fit

    idata = az.from_dict(posterior={"a": rng.normal(size=(4, 400)), "b": rng.normal(size=(4, 400, 3))},
                         sample_stats={"diverging": np.zeros((4, 400), bool)},
                         attrs={"model_name": "m"})
    first = dg.stored_diagnostics(idata, ["a", "b"], GateSpec())
    direct = check_convergence(idata, GateSpec(), var_names=["a", "b"])
    np.testing.assert_array_equal(first["r_hat"].values, direct["r_hat"].values)
    assert bool(first["passed"]) and dg.CONVERGENCE_GROUP in idata.groups()
    path = tmp_path / "fit.nc"
    save_fit(idata, path)
    back = load_fit(path)

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed although the fit holds its diagnostics")

    monkeypatch.setattr(dg, "check_convergence", refuse)
    strict = dg.stored_diagnostics(back, ["a", "b"], GateSpec(ess_min=10**6))  # read back, gated anew
    assert not bool(strict["passed"]) and strict.attrs["ess_min"] == 10**6
    np.testing.assert_array_equal(strict["ess_bulk"].values, direct["ess_bulk"].values)
    with pytest.raises(AssertionError, match="recomputed"):  # other quantities: computed again
        dg.stored_diagnostics(back, ["a"], GateSpec())

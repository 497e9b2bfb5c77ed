"""Sampling, parallel evaluation and analysis: analytic benchmarks recovered through the public code path."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from climmig.io.writers import write_netcdf
from climmig.sensitivity import (
    SensitivityError,
    ishigami,
    ishigami_evaluator,
    ishigami_indices,
    ishigami_problem,
    parse_problem,
    plot_sensitivity,
    problem_hash,
    run_sensitivity,
    sample,
)


def test_ishigami_analytic_indices_match_the_literature() -> None:
    exact = ishigami_indices(7.0, 0.1)
    np.testing.assert_allclose(exact["S1"], [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(exact["ST"], [0.5576, 0.4424, 0.2437], atol=1e-4)
    # the closed form against brute force: Var(Y) of the function itself
    rng = np.random.default_rng(0)
    x = rng.uniform(-np.pi, np.pi, size=(3, 400_000))
    var = np.var(ishigami(*x))
    v = 7.0**2 / 8 + 0.1 * np.pi**4 / 5 + 0.1**2 * np.pi**8 / 18 + 0.5
    assert var == pytest.approx(v, rel=0.01)


def test_ishigami_sobol_indices_recovered() -> None:
    ds = run_sensitivity(ishigami_problem(n=1024, seed=11), ishigami_evaluator(), num_workers=2)
    exact = ishigami_indices()
    got = ds.sel(output="y")
    assert got["S1"].dims == ("parameter",)
    # over seeds 1-5, 11 and 20261122 the largest errors were 0.022 (S1) and 0.008 (ST)
    np.testing.assert_allclose(got["S1"], exact["S1"], atol=0.03)
    np.testing.assert_allclose(got["ST"], exact["ST"], atol=0.015)
    # the bootstrap intervals are honest: each covers the truth (within a small slack)
    for v in ("S1", "ST"):
        assert (abs(got[v] - exact[v]) <= 1.5 * got[f"{v}_conf"] + 0.01).all()
    assert int(ds.attrs["climmig_sensitivity_evaluations"]) == 1024 * 5
    assert ds["sample_value"].shape == (5120, 3)


def test_ishigami_wrong_answer_would_be_detected() -> None:
    # a different function (b = 0: x3 has no effect) gives clearly different indices, so the test above has teeth
    ds = run_sensitivity(ishigami_problem(n=512, seed=11), ishigami_evaluator(b=0.0))
    assert float(ds["ST"].sel(parameter="x3", output="y")) == pytest.approx(0.0, abs=1e-9)
    assert abs(float(ds["ST"].sel(parameter="x3", output="y")) - 0.2437) > 0.2


def test_morris_finds_the_inert_parameter() -> None:
    problem = parse_problem({
        "method": "morris", "n": 20, "seed": 5, "num_levels": 4,
        "parameters": [{"path": "a", "bounds": [0, 1]}, {"path": "b", "bounds": [-1, 1]},
                       {"path": "inert", "bounds": [0, 10]}],
        "outputs": ["y"],
    })

    def evaluate(v: dict[str, float]) -> dict[str, float]:
        return {"y": 3.0 * v["a"] + v["b"] ** 2}

    ds = run_sensitivity(problem, evaluate).sel(output="y")
    assert set(ds.data_vars) >= {"mu_star", "mu_star_conf", "sigma", "mu"}
    assert float(ds["mu_star"].sel(parameter="inert")) == pytest.approx(0.0, abs=1e-12)
    assert float(ds["sigma"].sel(parameter="inert")) == pytest.approx(0.0, abs=1e-12)
    # linear in a: every elementary effect is 3 per full range, so mu* = mu = 3 and sigma = 0
    assert float(ds["mu_star"].sel(parameter="a")) == pytest.approx(3.0)
    assert float(ds["sigma"].sel(parameter="a")) == pytest.approx(0.0, abs=1e-9)
    assert float(ds["mu_star"].sel(parameter="b")) > 0.1
    assert ds.sizes["evaluation"] == 20 * 4


def _horizon_problem(method: str = "sobol", n: int = 128) -> dict:
    return {"method": method, "n": n if method == "sobol" else 16, "seed": 2,
            "parameters": [{"path": "hazards.flood.threshold", "bounds": [0, 1], "units": "m"},
                           {"path": "comparison.discount_rate", "bounds": [0, 1]}],
            "outputs": ["displaced_persons", "cost"]}


_HORIZONS = xr.DataArray(["near", "mid", "late"], dims="horizon", name="horizon")


def _horizon_evaluator(v: dict[str, float]) -> xr.Dataset:
    weight = xr.DataArray([1.0, 0.0, 0.0], dims="horizon", coords={"horizon": _HORIZONS})
    a, b = v["hazards.flood.threshold"], v["comparison.discount_rate"]
    disp = weight * a + (1 - weight) * b
    return xr.Dataset({
        "displaced_persons": disp.assign_attrs(units="1", long_name="people displaced"),
        "cost": (0 * weight + a + 2 * b).assign_attrs(units="USD"),
        "ignored": xr.DataArray(1.0),
    })


@pytest.mark.slow
def test_outputs_with_a_horizon_dim() -> None:
    ds = run_sensitivity(parse_problem(_horizon_problem()), _horizon_evaluator)
    assert ds["S1"].dims == ("parameter", "output", "horizon")
    assert ds["horizon"].values.tolist() == ["near", "mid", "late"]
    assert ds["output"].values.tolist() == ["displaced_persons", "cost"]
    assert ds["output_units"].values.tolist() == ["1", "USD"]
    s1 = ds["S1"].sel(output="displaced_persons")
    # near: only the flood threshold matters; later horizons: only the discount rate
    assert float(s1.sel(horizon="near", parameter="hazards.flood.threshold")) == pytest.approx(1, abs=0.1)
    assert float(s1.sel(horizon="late", parameter="comparison.discount_rate")) == pytest.approx(1, abs=0.1)
    # cost = a + 2b with a, b ~ U(0, 1): S1 = 1/5 and 4/5, the same at every horizon
    cost = ds["S1"].sel(output="cost")
    np.testing.assert_allclose(cost.sel(parameter="hazards.flood.threshold"), 0.2, atol=0.08)
    np.testing.assert_allclose(cost.sel(parameter="comparison.discount_rate"), 0.8, atol=0.08)
    assert ds["output_value"].dims == ("evaluation", "output", "horizon")


def test_threads_and_distributed_client_agree() -> None:
    distributed = pytest.importorskip("distributed")
    problem = parse_problem(_horizon_problem("morris"))
    serial = run_sensitivity(problem, _horizon_evaluator, num_workers=1)
    threaded = run_sensitivity(problem, _horizon_evaluator, num_workers=2)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        dist = run_sensitivity(problem, _horizon_evaluator, client=client)
    for other in (threaded, dist):
        xr.testing.assert_allclose(serial[["mu_star", "sigma"]], other[["mu_star", "sigma"]])
        np.testing.assert_array_equal(serial["output_value"], other["output_value"])


def test_evaluations_are_spread_over_threads() -> None:
    import threading

    seen: set[int] = set()

    def evaluate(v: dict[str, float]) -> dict[str, float]:
        seen.add(threading.get_ident())
        return {"y": v["a"] + v["b"]}

    problem = parse_problem({"n": 64, "parameters": [{"path": "a", "bounds": [0, 1]}, {"path": "b", "bounds": [0, 1]}],
                             "outputs": ["y"]})
    run_sensitivity(problem, evaluate, num_workers=2)
    assert len(seen) >= 2


def test_provenance_and_netcdf_round_trip(tmp_path: Path) -> None:
    problem = ishigami_problem(n=64, seed=1)
    ds = run_sensitivity(problem, ishigami_evaluator(), cfg_hash="ab" * 32)
    assert ds.attrs["climmig_sensitivity_problem_sha256"] == problem_hash(problem)
    assert ds.attrs["climmig_config_sha256"] == "ab" * 32
    assert ds.attrs["climmig_seed"] == "1"
    assert ds.attrs["Conventions"].startswith("CF-")
    assert "sensitivity analysis (sobol" in ds.attrs["history"]
    assert ds["S1"].attrs["units"] == "1" and ds["S1"].attrs["long_name"]
    path = write_netcdf(ds, tmp_path / "sensitivity.nc")
    with xr.open_dataset(path) as back:
        xr.testing.assert_allclose(back[["S1", "ST", "S1_conf", "ST_conf"]].load(),
                                   ds[["S1", "ST", "S1_conf", "ST_conf"]])
        assert back.attrs["climmig_sensitivity_problem_sha256"] == problem_hash(problem)


def test_samples_come_from_salibs_current_sobol_sampler() -> None:
    import warnings

    from SALib.sample import sobol

    from climmig.sensitivity import to_salib

    p = ishigami_problem(n=64, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the deprecated saltelli sampler warns
        X = sample(p)
    expect = sobol.sample(to_salib(p), 64, calc_second_order=False, scramble=True, seed=3)
    np.testing.assert_array_equal(X, expect)
    assert X.shape == (64 * (3 + 2), 3)
    ds = run_sensitivity(p, ishigami_evaluator())
    assert ds.attrs["climmig_sensitivity_sampler"].startswith("SALib.sample.sobol.sample")
    assert ds.attrs["climmig_salib_version"][0].isdigit()


def test_an_evaluators_provenance_is_recorded() -> None:
    class Described:
        def __call__(self, values: dict[str, float]) -> dict[str, float]:
            return {"y": ishigami(values["x1"], values["x2"], values["x3"])}

        def provenance(self) -> dict[str, str]:
            return {"climmig_sensitivity_run_dir": "/some/run"}

    ds = run_sensitivity(ishigami_problem(n=8, seed=1), Described())
    assert ds.attrs["climmig_sensitivity_run_dir"] == "/some/run"


def test_same_seed_same_samples_and_indices() -> None:
    p = ishigami_problem(n=64, seed=9)
    np.testing.assert_array_equal(sample(p), sample(p))
    a = run_sensitivity(p, ishigami_evaluator())
    b = run_sensitivity(p, ishigami_evaluator())
    xr.testing.assert_equal(a[["S1", "ST", "S1_conf"]], b[["S1", "ST", "S1_conf"]])
    assert not np.array_equal(sample(p), sample(ishigami_problem(n=64, seed=10)))


def test_distributions_are_sampled_from() -> None:
    p = parse_problem({"n": 256, "seed": 1, "outputs": ["y"], "parameters": [
        {"path": "a", "dist": {"dist": "Normal", "params": {"mu": 10, "sigma": 2}}},
        {"path": "b", "dist": {"dist": "Triangular", "params": {"lower": 0, "c": 0.9, "upper": 1}}}]})
    X = sample(p)
    assert X[:, 0].mean() == pytest.approx(10, abs=0.2) and X[:, 0].std() == pytest.approx(2, abs=0.2)
    assert X[:, 1].min() >= 0 and X[:, 1].max() <= 1 and X[:, 1].mean() == pytest.approx(1.9 / 3, abs=0.03)


def test_missing_output_named_with_hint() -> None:
    p = ishigami_problem(n=8)
    with pytest.raises(SensitivityError, match=r"does not return output 'y' \(did you mean 'yy'\?\)"):
        run_sensitivity(p, lambda v: {"yy": 1.0})


def test_non_finite_output_names_the_parameters() -> None:
    p = ishigami_problem(n=16)

    def evaluate(v: dict[str, float]) -> dict[str, float]:
        return {"y": np.nan if v["x1"] > 2.5 else v["x1"]}

    with pytest.raises(SensitivityError, match=r"output y is not finite for \d+ of 80 evaluations, e.g. at x1="):
        run_sensitivity(p, evaluate)


def test_evaluator_errors_carry_the_parameter_values() -> None:
    p = ishigami_problem(n=16)

    def evaluate(v: dict[str, float]) -> dict[str, float]:
        if v["x2"] > 3.0:
            raise ZeroDivisionError("boom")
        return {"y": v["x1"]}

    with pytest.raises(ZeroDivisionError) as info:
        run_sensitivity(p, evaluate)
    assert any("while evaluating parameters x1=" in n for n in info.value.__notes__)


def test_bad_return_types_and_dims() -> None:
    p = ishigami_problem(n=8)
    with pytest.raises(SensitivityError, match="must return an xarray.Dataset or a mapping"):
        run_sensitivity(p, lambda v: 3.0)
    two = parse_problem({"n": 8, "outputs": ["y", "z"],
                         "parameters": [{"path": "x1", "bounds": [0, 1]}, {"path": "x2", "bounds": [0, 1]}]})
    h = xr.DataArray([1.0, 2.0], dims="horizon", coords={"horizon": ["a", "b"]})
    with pytest.raises(SensitivityError, match="every output must have the same dims"):
        run_sensitivity(two, lambda v: {"y": v["x1"], "z": h * v["x2"]})
    with pytest.raises(SensitivityError, match="has no coordinate"):
        run_sensitivity(two, lambda v: {"y": xr.DataArray([v["x1"], 1.0], dims="horizon"),
                                        "z": xr.DataArray([v["x2"], 1.0], dims="horizon")})


def test_constant_output_gives_undefined_sobol_indices(caplog: pytest.LogCaptureFixture) -> None:
    p = ishigami_problem(n=16)
    with caplog.at_level(logging.WARNING, logger="climmig.sensitivity.run"):
        ds = run_sensitivity(p, lambda v: {"y": 2.0})
    assert ds["S1"].isnull().all() and ds["ST"].isnull().all()
    assert "does not vary" in caplog.text


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_figure_has_one_panel_per_output_and_horizon(method: str, tmp_path: Path) -> None:
    ds = run_sensitivity(parse_problem(_horizon_problem(method, n=16)), _horizon_evaluator)
    fig = plot_sensitivity(ds)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 * 3
    assert visible[0].get_title() == "displaced_persons\nhorizon near"
    labels = [t.get_text() for t in visible[0].get_yticklabels()]
    assert sorted(labels) == ["comparison.discount_rate", "flood.threshold"]
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_figure_says_when_an_output_does_not_vary(tmp_path: Path) -> None:
    problem = parse_problem({"n": 16, "seed": 1, "outputs": ["y", "flat"], "parameters": [
        {"path": "a", "bounds": [0, 1]}, {"path": "b", "bounds": [0, 1]}]})
    ds = run_sensitivity(problem, lambda v: {"y": v["a"] + 5 * v["b"] ** 2, "flat": 1.0})
    fig = plot_sensitivity(ds)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("does not vary" in t for t in texts)
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((-0.2, 1.1))

"""fit/save/load round trip, provenance check and the convergence gate on a tiny model."""

from __future__ import annotations

import json
import sys

import numpy as np
import pymc as pm
import pytest

from climmig.config.schema import GateSpec, SamplerSpec
from climmig.errors import ConvergenceError, ProvenanceMismatchError
from climmig.mobility.diagnostics import check_convergence, enforce_gate, gate_summary
from climmig.mobility.fit import fit, load_fit, save_fit


def _model(y: np.ndarray) -> pm.Model:
    with pm.Model(coords={"obs": np.arange(y.size)}) as m:
        yd = pm.Data("y", y, dims="obs")
        rate = pm.LogNormal("rate", 0, 1)
        pm.Poisson("y_obs", rate, observed=yd, dims="obs")
    return m


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pymc", "nutpie"])
def test_fit_recovers_poisson_rate_and_round_trips(tmp_path, rng, backend) -> None:
    y = rng.poisson(4.0, size=200)
    sampler = SamplerSpec(backend=backend, draws=300, tune=300, chains=2)
    idata = fit(_model(y), sampler, random_seed=1, model_name="toy", attrs={"config_sha256": "abc"})
    post = idata.posterior["rate"].values
    assert abs(post.mean() - y.mean()) < 0.3
    assert idata.posterior.attrs["model_name"] == "toy"
    assert "observed_data" in idata.groups()
    diag = check_convergence(idata, GateSpec(r_hat_max=1.05, ess_min=100))
    assert bool(diag["passed"]), gate_summary(diag)
    p = save_fit(idata, tmp_path / "fit.nc")
    back = load_fit(p, {"config_sha256": "abc", "model_name": "toy"})
    np.testing.assert_array_equal(back.posterior["rate"].values, post)
    with pytest.raises(ProvenanceMismatchError):
        load_fit(p, {"config_sha256": "other"})


def test_gate_refuses_unconverged(rng) -> None:
    import arviz as az

    # two chains stuck in different places: R-hat far above 1
    post = {"a": np.stack([rng.normal(0, 1, 100), rng.normal(5, 1, 100)])}
    idata = az.from_dict(posterior=post)
    diag = check_convergence(idata, GateSpec())
    assert not bool(diag["passed"]) and float(diag["max_r_hat"]) > 1.5
    with pytest.raises(ConvergenceError, match="allow_unconverged"):
        enforce_gate(diag, GateSpec(), "toy")
    assert enforce_gate(diag, GateSpec(allow_unconverged=True), "toy") is False


def test_constant_quantity_is_left_out_of_the_gate_without_warnings(rng) -> None:
    import warnings

    import arviz as az

    # a reference level fixed at 0 (as the migration model's reference border regime) next to a mixed one
    post = {"effect": np.stack([np.stack([rng.normal(0, 1, 500), np.zeros(500)], axis=-1) for _ in range(4)])}
    idata = az.from_dict(posterior=post)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diag = check_convergence(idata, GateSpec())
    assert np.isnan(diag["r_hat"].values).sum() == 1
    assert bool(diag["passed"]) and float(diag["max_r_hat"]) < 1.01


@pytest.mark.slow
@pytest.mark.parametrize("mass_matrix", ["low_rank", "diagonal"])
def test_mass_matrix_setting_reaches_nutpie(monkeypatch, rng, mass_matrix) -> None:
    import nutpie

    seen = {}
    real = nutpie.sample

    def spy(compiled, **kwargs):
        seen.update(kwargs)
        return real(compiled, **kwargs)

    monkeypatch.setattr(nutpie, "sample", spy)
    sampler = SamplerSpec(backend="nutpie", draws=50, tune=50, chains=1, mass_matrix=mass_matrix)
    idata = fit(_model(rng.poisson(4.0, size=50)), sampler, random_seed=1, model_name="toy")
    assert seen["low_rank_modified_mass_matrix"] is (mass_matrix == "low_rank")
    assert idata.posterior.attrs["sampler_backend"] == "nutpie"
    assert json.loads(idata.posterior.attrs["sampler"])["mass_matrix"] == mass_matrix


def test_nutpie_compiles_without_fastmath(monkeypatch) -> None:
    """Reproducibility: fits compile their numba kernels with fastmath off (fresh and cached kernels then
    give the same draws); the flag is restored afterwards."""
    import nutpie
    import pytensor

    from climmig.mobility import fit as fit_mod

    seen = []
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model, **kw: seen.append(pytensor.config.numba__fastmath))
    before = pytensor.config.numba__fastmath
    fit_mod._compile_nutpie(object())
    assert seen == [False]
    assert pytensor.config.numba__fastmath == before


def _correlated_model() -> pm.Model:
    # a narrow ridge (correlation 0.999): NUTS needs long trajectories under a diagonal mass matrix
    with pm.Model() as m:
        pm.MvNormal("x", mu=np.zeros(2), cov=np.array([[1.0, 0.999], [0.999, 1.0]]))
    return m


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pymc", "nutpie"])
def test_max_tree_depth_bounds_the_trajectories_and_hits_are_counted(backend) -> None:
    stats = {}
    for depth in (2, 10):
        sampler = SamplerSpec(backend=backend, draws=100, tune=100, chains=1, mass_matrix="diagonal",
                              max_tree_depth=depth)
        idata = fit(_correlated_model(), sampler, random_seed=3, model_name="ridge")
        ss = idata.sample_stats
        stats[depth] = (int(np.asarray(ss["depth" if "depth" in ss else "tree_depth"]).max()),
                        int(check_convergence(idata, GateSpec())["tree_depth_hits"]))
    (deep_2, hits_2), (deep_10, hits_10) = stats[2], stats[10]
    assert deep_2 <= 2 < deep_10
    assert hits_2 > 0 and hits_10 == 0
    diag = check_convergence(idata, GateSpec())
    assert "maximum tree depth" not in gate_summary(diag)


def test_gate_summary_reports_tree_depth_hits() -> None:
    import arviz as az

    rng = np.random.default_rng(0)
    idata = az.from_dict(posterior={"a": rng.normal(size=(4, 500))},
                         sample_stats={"maxdepth_reached": np.zeros((4, 500), bool) | (np.arange(500) < 7)})
    diag = check_convergence(idata, GateSpec())
    assert int(diag["tree_depth_hits"]) == 28
    assert "28 draws reached the maximum tree depth" in gate_summary(diag)
    assert bool(diag["passed"])  # an efficiency warning, not a gate failure


@pytest.mark.slow
def test_fits_are_stored_without_a_second_hdf5_library(tmp_path) -> None:
    # h5py (ArviZ's default h5netcdf engine) bundles its own HDF5 beside netCDF4's; a process must load one
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import sys
        import arviz as az
        import numpy as np
        import xarray as xr
        from climmig.mobility.fit import load_fit, save_fit
        from climmig.io.writers import write_netcdf
        draws = np.random.default_rng(0).normal(size=(2, 50, 3))
        idata = az.from_dict(posterior={{"beta": draws}}, dims={{"beta": ["hazard"]}},
                             coords={{"hazard": ["flood", "drought", "heat"]}})
        save_fit(idata, r"{tmp_path / 'fit.nc'}")
        back = load_fit(r"{tmp_path / 'fit.nc'}")
        assert np.array_equal(back.posterior["beta"].values, draws)
        assert list(back.posterior["hazard"].values) == ["flood", "drought", "heat"]
        write_netcdf(xr.Dataset({{"x": ("t", np.arange(3.0))}}), r"{tmp_path / 'x.nc'}")
        xr.load_dataset(r"{tmp_path / 'x.nc'}").load()
        print("h5py" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


@pytest.mark.slow
def test_progress_reaches_a_log_as_lines_and_leaves_the_draws_unchanged(capsys, rng) -> None:
    """Output that is not a terminal gets a progress line every interval while it samples (issue 35)."""
    import re
    import time

    import nutpie

    from climmig.mobility.fit import _compile_nutpie, _sample_with_progress_lines

    sampler = SamplerSpec(backend="nutpie", draws=400, tune=200, chains=2)
    compiled = _compile_nutpie(_model(rng.poisson(4.0, size=100)))
    kwargs = {"draws": 400, "tune": 200, "chains": 2, "cores": 1, "seed": 3}
    plain = nutpie.sample(compiled, progress_bar=False, save_warmup=False, **kwargs)

    class Slow:
        """A toy model samples in milliseconds: the first two waits time out, so two lines are due."""

        def __init__(self, inner):
            self.inner, self.polls = inner, 0

        def wait(self, timeout=None):
            self.polls += 1
            if self.polls < 3:
                time.sleep(0.01)
                raise TimeoutError
            return self.inner.wait()

        def inspect(self):
            return self.inner.inspect()

    real = nutpie.sample
    nutpie.sample = lambda c, **kw: Slow(real(c, **kw))
    try:
        logged = _sample_with_progress_lines(compiled, kwargs, sampler, interval=0.01)
    finally:
        nutpie.sample = real
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "sampling 2 chains" in ln]
    assert len(lines) == 2
    assert all(re.search(r"\d+/1200 draws \((tuning|sampling)\), \d+ divergences, \d+ s elapsed", ln) for ln in lines)
    assert not {"warmup_posterior", "warmup_sample_stats"} & set(logged.groups())
    np.testing.assert_array_equal(logged.posterior["rate_log__"].values, plain.posterior["rate_log__"].values)


def test_progress_mode_terminal_notebook_log(monkeypatch) -> None:
    """nutpie's own progress in a terminal and in a Jupyter kernel; lines when output goes to a file."""
    import types

    from climmig.mobility import fit as fitmod

    monkeypatch.setattr(fitmod, "_is_terminal", lambda: False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert fitmod.progress_mode(True) == "lines" and fitmod.progress_mode(False) == "none"
    zmq_shell = type("ZMQInteractiveShell", (), {})  # the class name Jupyter kernels use
    terminal_shell = type("TerminalInteractiveShell", (), {})
    for shell, mode in ((zmq_shell(), "bar"), (terminal_shell(), "lines"), (None, "lines")):
        monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda s=shell: s))
        assert fitmod.progress_mode(True) == mode
    monkeypatch.setattr(fitmod, "_is_terminal", lambda: True)
    assert fitmod.progress_mode(True) == "bar"


class _Stop(BaseException):
    """Raised by the spies below once they have seen the sampler's call (not an ``Exception``: the fit's
    fallback from nutpie to PyMC must not catch it)."""


@pytest.mark.parametrize(("field", "value"), [("backend", "pymc"), ("draws", 51), ("tune", 52), ("chains", 3),
                                              ("target_accept", 0.95), ("mass_matrix", "diagonal"),
                                              ("max_tree_depth", 6)])
def test_every_sampler_field_reaches_the_sampler(monkeypatch, field, value) -> None:
    """Changing any sampler setting changes the call that samples (the config's schema-walk test relies on
    this for the fields whose only reader is the sampler: a refit per field would take minutes)."""
    import nutpie

    from climmig.mobility import fit as fit_mod

    calls: list[tuple[str, dict]] = []

    def spy(name):
        def record(*args, **kwargs):
            calls.append((name, kwargs))
            raise _Stop
        return record

    monkeypatch.setattr(fit_mod, "_compile_nutpie", lambda model: object())
    monkeypatch.setattr(nutpie, "sample", spy("nutpie"))
    monkeypatch.setattr(pm, "sample", spy("pymc"))
    base = SamplerSpec(backend="nutpie", draws=50, tune=50, chains=2, target_accept=0.9, mass_matrix="low_rank",
                       max_tree_depth=7)
    for spec in (base, base.model_copy(update={field: value})):
        with pytest.raises(_Stop):
            fit(_model(np.arange(5)), spec, random_seed=1, model_name="toy")
    assert len(calls) == 2 and calls[0] != calls[1], f"changing {field} left the sampler call unchanged"

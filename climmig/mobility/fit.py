"""Fit a PyMC model (nutpie by default, PyMC's NUTS as fallback), with provenance, and save/reload fits.

A saved fit is reused only when its provenance (config hash, data checksums, model name) matches what the
caller expects; otherwise :class:`~climmig.errors.ProvenanceMismatchError` is raised and the caller refits.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import arviz as az
import pymc as pm

from climmig.config.schema_statistics import SamplerSpec
from climmig.errors import ProvenanceMismatchError
from climmig.io.writers import atomic_path
from climmig.mobility.expand import expand_posterior
from climmig.provenance import canonical_json, package_versions

__all__ = ["fit", "load_fit", "save_fit"]

logger = logging.getLogger(__name__)

# Fits are read and written with netCDF4 - the library every other NetCDF file of a run goes through - and
# not ArviZ's default h5netcdf: h5netcdf loads h5py, whose wheel bundles a second HDF5 library (2.0.0 beside
# netCDF4's 2.2.0 here), and a test process that had both loaded crashed in HDF5 now and then
FIT_ENGINE = "netcdf4"


def _compile_nutpie(model: pm.Model) -> Any:
    """Compile for nutpie with numba's fastmath off, tracing the free variables only.

    The constrained values and deterministics are computed after sampling by :func:`expand_posterior`
    (numpy, vectorised over draws) instead of by a second numba function that nutpie would compile.

    With fastmath on (pytensor's default), the logp kernel that a run compiles fresh and the one a later run
    loads from pytensor's numba cache differed in the last bits, and NUTS amplifies such differences: the
    same config and seed gave different draws in a first run and in its rerun (measured on the reliability
    tests' fast config: posterior hashes 1bef714a cold vs b16a90ea warm). With fastmath off, cold and warm
    compiles gave the same draws (afc89aae both).
    """
    import nutpie
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        return nutpie.compile_pymc_model(model, var_names=[])


def _sample_nutpie(model: pm.Model, sampler: SamplerSpec, random_seed: int, progress: bool) -> az.InferenceData:
    import nutpie

    start = time.perf_counter()
    compiled = _compile_nutpie(model)
    logger.info("compiled the model for nutpie in %.1f s", time.perf_counter() - start)
    start = time.perf_counter()
    kwargs = {"draws": sampler.draws, "tune": sampler.tune, "chains": sampler.chains,
              "cores": sampler.cores or min(sampler.chains, 2), "seed": random_seed,
              "target_accept": sampler.target_accept,
              "low_rank_modified_mass_matrix": sampler.mass_matrix == "low_rank", "maxdepth": sampler.max_tree_depth}
    mode = progress_mode(progress)
    if mode == "lines":
        # nutpie's progress bar redraws one terminal line, so a log file gets nothing until the end
        idata = _sample_with_progress_lines(compiled, kwargs, sampler, PROGRESS_INTERVAL)
    else:
        idata = nutpie.sample(compiled, progress_bar=mode == "bar", save_warmup=False, **kwargs)
    logger.info("sampled %d chains x (%d tuning + %d draws) in %.1f s", sampler.chains, sampler.tune,
                sampler.draws, time.perf_counter() - start)
    idata.posterior = expand_posterior(idata.posterior, model)
    return idata


#: seconds between two progress lines when the output is not a terminal (a log file, CI, a SLURM job)
PROGRESS_INTERVAL = 10.0


def _is_terminal() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (nutpie then draws its progress table as HTML)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_mode(progress: bool) -> str:
    """How sampling shows progress: ``"bar"`` (nutpie's own, in a terminal or a Jupyter notebook), ``"lines"``
    (one line every :data:`PROGRESS_INTERVAL` seconds, for output that goes to a file) or ``"none"``."""
    if not progress:
        return "none"
    return "bar" if _is_terminal() or _in_notebook() else "lines"


def _progress_line(trace: az.InferenceData, sampler: SamplerSpec, elapsed: float) -> str:
    """One line of sampling progress: draws done (tuning and kept), divergences so far, time to go."""
    import numpy as np

    def done(group: str) -> tuple[int, int]:
        stats = trace[group] if group in trace.groups() else None
        if stats is None or "step_size" not in stats:
            return 0, 0
        n = int(np.isfinite(stats["step_size"].values).sum())
        div = stats["diverging"].values if "diverging" in stats else np.zeros(0)
        return n, int(np.nansum(div.astype(float)))

    tuned, _ = done("warmup_sample_stats")
    kept, divergences = done("sample_stats")
    total = sampler.chains * (sampler.tune + sampler.draws)
    finished = tuned + kept
    eta = elapsed * (total - finished) / finished if finished else float("nan")
    phase = "tuning" if kept == 0 else "sampling"
    return (f"  sampling {sampler.chains} chains: {finished}/{total} draws ({phase}), {divergences} divergences, "
            f"{elapsed:.0f} s elapsed, about {eta:.0f} s to go")


def _sample_with_progress_lines(compiled: Any, kwargs: dict[str, Any], sampler: SamplerSpec,
                                interval: float) -> az.InferenceData:
    """Sample in the background and print a progress line to stderr every ``interval`` seconds.

    Warm-up draws are kept while sampling (to count them) and dropped at the end; the draws are the same as
    with ``save_warmup=False``.
    """
    import nutpie

    start = time.perf_counter()
    background = nutpie.sample(compiled, progress_bar=False, save_warmup=True, blocking=False, **kwargs)
    while True:
        try:
            idata = background.wait(timeout=interval)
            break
        except TimeoutError:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # ArviZ: "more chains than draws" early on
                line = _progress_line(background.inspect(), sampler, time.perf_counter() - start)
            print(line, file=sys.stderr, flush=True)
    for group in ("warmup_posterior", "warmup_sample_stats"):
        if group in idata.groups():
            delattr(idata, group)
    return idata


def _sample_pymc(model: pm.Model, sampler: SamplerSpec, random_seed: int, progress: bool) -> az.InferenceData:
    with model:
        return pm.sample(
            draws=sampler.draws,
            tune=sampler.tune,
            chains=sampler.chains,
            cores=sampler.cores or 1,
            nuts={"target_accept": sampler.target_accept, "max_treedepth": sampler.max_tree_depth,
                  "early_max_treedepth": min(8, sampler.max_tree_depth)},
            random_seed=random_seed,
            progressbar=progress,
            compute_convergence_checks=False,
        )


def _add_data_groups(idata: az.InferenceData, model: pm.Model) -> None:
    """Add ``observed_data`` and ``constant_data`` groups if the sampler did not (nutpie does not)."""
    from pymc.backends.arviz import find_constants, find_observations

    dims = {k: list(v) for k, v in model.named_vars_to_dims.items()}
    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    groups = {}
    if "observed_data" not in idata.groups():
        groups["observed_data"] = find_observations(model)
    if "constant_data" not in idata.groups():
        groups["constant_data"] = find_constants(model)
    groups = {g: v for g, v in groups.items() if v}
    if groups:
        extra = az.from_dict(**groups, coords=coords, dims=dims)
        idata.add_groups({g: extra[g] for g in groups})


def fit(model: pm.Model, sampler: SamplerSpec, *, random_seed: int, model_name: str,
        attrs: Mapping[str, Any] | None = None, progress: bool = False) -> az.InferenceData:
    """Sample the posterior of ``model`` and attach provenance.

    Parameters
    ----------
    model : pm.Model
        A model built by one of climmig's pure builders (data in ``pm.Data`` containers).
    sampler : SamplerSpec
        Backend (``nutpie`` or ``pymc``), draws, tune, chains, target acceptance.
    random_seed : int
        Seed; the same seed and data give the same draws.
    model_name : str
        Name recorded in the attrs (e.g. ``"displacement_hurdle_skewnormal"``).
    attrs : mapping, optional
        Extra provenance (``config_sha256``, ``data_sha256``, priors JSON, ...). Values are stored as text.
    progress : bool
        Show the sampler's progress bar.

    Returns
    -------
    az.InferenceData
        Groups ``posterior``, ``sample_stats``, ``observed_data``, ``constant_data``; attrs on every group
        include ``model_name``, ``sampler`` (JSON), ``random_seed``, ``climmig_version`` and package
        versions. If nutpie fails to compile or sample, PyMC's NUTS is used and ``sampler_backend`` says so.
    """
    backend = sampler.backend
    if backend == "nutpie":
        try:
            idata = _sample_nutpie(model, sampler, random_seed, progress)
        except Exception as exc:  # noqa: BLE001 - any nutpie failure falls back to PyMC, and is recorded
            logger.warning("nutpie failed (%s); falling back to PyMC's NUTS", exc)
            warnings.warn(f"nutpie failed ({exc}); using PyMC's NUTS instead", RuntimeWarning, stacklevel=2)
            backend = "pymc"
            idata = _sample_pymc(model, sampler, random_seed, progress)
    else:
        idata = _sample_pymc(model, sampler, random_seed, progress)
    _add_data_groups(idata, model)
    meta = {
        "model_name": model_name,
        "sampler": canonical_json(sampler),
        "sampler_backend": backend,
        "random_seed": str(random_seed),
        "climmig_package_versions": json.dumps(package_versions(), sort_keys=True),
    }
    meta.update({k: v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
                 for k, v in (attrs or {}).items()})
    for group in idata.groups():
        idata[group].attrs.update(meta)
    return idata


def save_fit(idata: az.InferenceData, path: str | Path) -> Path:
    """Save a fit to NetCDF atomically (uncompressed).

    Parameters
    ----------
    idata : az.InferenceData
        The fit.
    path : str or Path
        Target ``.nc`` file.

    Returns
    -------
    Path
    """
    path = Path(path)
    # uncompressed: posterior draws are close to incompressible (zlib saved 4 % on the demo's 129 MB
    # displacement fit) and compression made saving 5 times slower (3.0 s against 0.56 s) and every
    # load twice as slow (1.0 s against 0.52 s)
    with atomic_path(path) as tmp:
        idata.to_netcdf(str(tmp), compress=False, engine=FIT_ENGINE)
    return path


def load_fit(path: str | Path, expected: Mapping[str, str] | None = None) -> az.InferenceData:
    """Load a saved fit, checking that its provenance matches.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_fit`.
    expected : mapping, optional
        Attributes that must match exactly (e.g. ``{"config_sha256": ..., "data_sha256": ...}``).

    Returns
    -------
    az.InferenceData
        Loaded into memory (the file is closed).

    Raises
    ------
    ProvenanceMismatchError
        If the file is missing or any expected attribute differs.
    """
    path = Path(path)
    if not path.exists():
        raise ProvenanceMismatchError(f"no saved fit at {path}")
    # eager: every group is read into memory and the file closed. A lazily opened fit stays open in xarray's
    # file cache, and a later open of a file rewritten at the same path (a refit, a forced rerun) crashed
    # inside HDF5 now and then
    with az.rc_context({"data.load": "eager"}):
        idata = az.from_netcdf(str(path), engine=FIT_ENGINE)
    attrs = dict(idata.posterior.attrs)
    for key, want in (expected or {}).items():
        got = attrs.get(key)
        if got != want:
            raise ProvenanceMismatchError(
                f"saved fit {path} has {key}={str(got)[:16]}..., expected {str(want)[:16]}...; it will be refit"
            )
    return idata

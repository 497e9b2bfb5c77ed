"""Run a global sensitivity analysis: sample (SALib), evaluate in parallel (dask), analyse (SALib).

The evaluator is the seam to the rest of climmig: it receives one set of parameter values (path -> value,
in the units the config writes) and returns the named outputs, as an ``xr.Dataset`` or a mapping of names
to numbers or small DataArrays (for instance with a ``horizon`` dim). For real runs the pipeline supplies
an evaluator that applies the values with :func:`~climmig.sensitivity.paths.apply_parameters` and reuses
cached layers and fitted posteriors; tests and ``--analytic`` use closed-form functions. Evaluations run on
dask threads by default (the evaluator must then be thread-safe) or on a ``distributed.Client`` (then it
must pickle).
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from climmig.provenance import provenance_attrs, update_history
from climmig.sensitivity.problem import SensitivityError, SensitivityProblem, problem_hash, to_salib

__all__ = ["Evaluator", "analyse", "evaluate_samples", "run_sensitivity", "sample"]

logger = logging.getLogger(__name__)

Evaluator = Callable[[dict[str, float]], "xr.Dataset | Mapping[str, float | xr.DataArray]"]

_SOBOL_VARS = {
    "S1": "first-order Sobol' index",
    "S1_conf": "half-width of the confidence interval of S1",
    "ST": "total-order Sobol' index",
    "ST_conf": "half-width of the confidence interval of ST",
}
_MORRIS_VARS = {
    "mu": "mean elementary effect",
    "mu_star": "mean absolute elementary effect",
    "mu_star_conf": "half-width of the confidence interval of mu_star",
    "sigma": "standard deviation of the elementary effects",
}


_SAMPLER = {
    "sobol": "SALib.sample.sobol.sample (scrambled Sobol' sequence, calc_second_order=False); "
             "SALib.analyze.sobol.analyze",
    "morris": "SALib.sample.morris.sample; SALib.analyze.morris.analyze",
}


def _salib_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("SALib")
    except metadata.PackageNotFoundError:  # pragma: no cover - SALib is a dependency
        return "unknown"


def sample(problem: SensitivityProblem) -> np.ndarray:
    """Draw the parameter samples of a problem with SALib's current samplers.

    Sobol: ``SALib.sample.sobol.sample`` (scrambled Sobol' sequence, ``calc_second_order=False``), giving
    ``n * (k + 2)`` rows. Morris: ``SALib.sample.morris.sample`` with ``n`` trajectories, ``n * (k + 1)`` rows.

    Parameters
    ----------
    problem : SensitivityProblem
        Validated problem.

    Returns
    -------
    np.ndarray
        Shape (evaluation, parameter), in the parameters' own units.
    """
    sp = to_salib(problem)
    if problem.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(sp, problem.n, calc_second_order=False, scramble=True, seed=problem.seed)
    from SALib.sample import morris

    return morris.sample(sp, problem.n, num_levels=problem.num_levels, seed=problem.seed)


@dataclass(frozen=True)
class _Template:
    """Names, dims, coords and units of the outputs, taken from the first evaluation."""

    names: tuple[str, ...]
    dims: tuple[str, ...]
    coords: dict[str, xr.DataArray]
    units: dict[str, str]
    long_names: dict[str, str]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.coords[d].size if d in self.coords else 0 for d in self.dims)


def _as_dataset(result: Any, values: Mapping[str, float]) -> xr.Dataset:
    if isinstance(result, xr.Dataset):
        return result
    if isinstance(result, Mapping):
        out = {}
        for k, v in result.items():
            out[str(k)] = v if isinstance(v, xr.DataArray) else xr.DataArray(np.asarray(v, dtype=float))
        return xr.Dataset(out)
    raise SensitivityError(f"the evaluator returned {type(result).__name__} for {_show(values)}; it must return "
                           "an xarray.Dataset or a mapping of output names to numbers or DataArrays")


def _show(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.6g}" for k, v in values.items())


def _select(ds: xr.Dataset, names: Sequence[str], values: Mapping[str, float]) -> xr.Dataset:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        import difflib

        have = [str(v) for v in ds.data_vars]
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, have, n=1, cutoff=0.5)
            hints.append(f"{m!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SensitivityError(f"the evaluator does not return output {', '.join(hints)}; it returns "
                               f"{', '.join(have) or 'nothing'}; fix `outputs` in the problem")
    return ds[list(names)]


def _template(ds: xr.Dataset, names: Sequence[str]) -> _Template:
    dims: tuple[str, ...] | None = None
    for n in names:
        d = tuple(str(x) for x in ds[n].dims)
        if dims is None:
            dims = d
        elif set(d) != set(dims):
            raise SensitivityError(f"outputs have different dims ({names[0]}: {dims}, {n}: {d}); "
                                   "every output must have the same dims (e.g. all scalar or all by horizon)")
    dims = dims or ()
    coords = {}
    for d in dims:
        if d not in ds.coords:
            raise SensitivityError(f"output dim {d!r} has no coordinate; label it (e.g. horizon names)")
        coords[d] = ds[d]
    extra_coords = {str(c): ds.coords[c] for c in ds.coords
                    if str(c) not in coords and set(ds.coords[c].dims) <= set(dims) and ds.coords[c].dims}
    coords.update(extra_coords)
    return _Template(
        names=tuple(names),
        dims=dims,
        coords=coords,
        units={n: str(ds[n].attrs.get("units", "")) for n in names},
        long_names={n: str(ds[n].attrs.get("long_name", n)) for n in names},
    )


def _to_arrays(ds: xr.Dataset, tpl: _Template, values: Mapping[str, float]) -> dict[str, np.ndarray]:
    out = {}
    for n in tpl.names:
        da = ds[n]
        if set(da.dims) != set(tpl.dims):
            raise SensitivityError(f"output {n} has dims {da.dims} at {_show(values)} but {tpl.dims} before")
        da = da.transpose(*tpl.dims)
        for d in tpl.dims:
            if not np.array_equal(np.asarray(da[d].values), np.asarray(tpl.coords[d].values)):
                raise SensitivityError(f"output {n} has different {d} labels at {_show(values)}")
        arr = np.asarray(da.values, dtype=float)  # small by contract: one value per output (and horizon)
        out[n] = arr
    return out


def _extract(result: Any, tpl: _Template, values: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Output arrays of one evaluation, checked against the template."""
    if (not tpl.dims and isinstance(result, Mapping) and not isinstance(result, xr.Dataset)
            and all(n in result and not isinstance(result[n], xr.DataArray) for n in tpl.names)):
        # fast path for plain numbers (analytic functions): no xarray objects per evaluation
        out = {n: np.asarray(result[n], dtype=float) for n in tpl.names}
        if all(a.ndim == 0 for a in out.values()):
            return out
    return _to_arrays(_select(_as_dataset(result, values), tpl.names, values), tpl, values)


def _evaluate_batch(evaluate: Evaluator, names: tuple[str, ...], paths: tuple[str, ...], tpl: _Template,
                    rows: np.ndarray) -> dict[str, np.ndarray]:
    results: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for row in rows:
        values = {p: float(v) for p, v in zip(paths, row, strict=True)}
        try:
            arrays = _extract(evaluate(values), tpl, values)
        except Exception as exc:
            exc.add_note(f"while evaluating parameters {_show(values)}")
            raise
        for n in names:
            results[n].append(arrays[n])
    return {n: np.stack(v) if v else np.empty((0, *tpl.shape)) for n, v in results.items()}


def _batches(n_rows: int, n_workers: int) -> list[slice]:
    n_batches = max(1, min(n_rows, 4 * n_workers))
    edges = np.linspace(0, n_rows, n_batches + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def evaluate_samples(X: np.ndarray, evaluate: Evaluator, paths: Sequence[str], outputs: Sequence[str], *,
                     client: Any = None, num_workers: int | None = None
                     ) -> tuple[dict[str, np.ndarray], _Template]:
    """Evaluate every sample row, in parallel through dask.

    The first row is evaluated in the calling thread (to learn the outputs' dims and catch errors early);
    the rest are split into batches, one ``dask.delayed`` task (or ``client.map`` future) per batch.

    Parameters
    ----------
    X : np.ndarray
        Samples, shape (evaluation, parameter).
    evaluate : callable
        The evaluator (see module docs).
    paths : sequence of str
        Parameter paths (columns of ``X``).
    outputs : sequence of str
        Output names to keep.
    client : distributed.Client, optional
        Run on this client; default: dask's threaded scheduler.
    num_workers : int, optional
        Threads for the threaded scheduler (default: dask's default).

    Returns
    -------
    dict of str to np.ndarray, and the output template
        Each array has shape (evaluation, *output dims).
    """
    import dask

    names, paths_t = tuple(outputs), tuple(paths)
    first_values = {p: float(v) for p, v in zip(paths_t, X[0], strict=True)}
    try:
        first = _select(_as_dataset(evaluate(first_values), first_values), names, first_values)
    except Exception as exc:
        if not isinstance(exc, SensitivityError):
            exc.add_note(f"while evaluating parameters {_show(first_values)}")
        raise
    tpl = _template(first, names)
    head = {n: a[None, ...] for n, a in _to_arrays(first, tpl, first_values).items()}
    rest = X[1:]
    if not len(rest):
        return head, tpl
    fn = functools.partial(_evaluate_batch, evaluate, names, paths_t, tpl)
    if client is not None:
        n_workers = max(1, sum(client.nthreads().values()))
        futures = client.map(fn, [rest[s] for s in _batches(len(rest), n_workers)], pure=False)
        parts = client.gather(futures)
    else:
        n_workers = num_workers or 4
        tasks = [dask.delayed(fn, pure=False)(rest[s]) for s in _batches(len(rest), n_workers)]
        parts = dask.compute(*tasks, scheduler="threads", num_workers=num_workers)
    out = {n: np.concatenate([head[n], *(p[n] for p in parts)]) for n in names}
    return out, tpl


def _analyse_one(problem: SensitivityProblem, sp: dict[str, Any], X: np.ndarray, y: np.ndarray
                 ) -> dict[str, np.ndarray]:
    if problem.method == "sobol":
        from SALib.analyze import sobol

        if not np.var(y) > 0:
            k = sp["num_vars"]
            return {v: np.full(k, np.nan) for v in _SOBOL_VARS}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = sobol.analyze(sp, y, calc_second_order=False, num_resamples=problem.num_resamples,
                                conf_level=problem.conf_level, seed=problem.seed)
        return {v: np.asarray(res[v], dtype=float) for v in _SOBOL_VARS}
    from SALib.analyze import morris

    res = morris.analyze(sp, X, y, num_resamples=problem.num_resamples, conf_level=problem.conf_level,
                         num_levels=problem.num_levels, seed=problem.seed)
    return {v: np.asarray(res[v], dtype=float) for v in _MORRIS_VARS}


def analyse(problem: SensitivityProblem, X: np.ndarray, Y: Mapping[str, np.ndarray], tpl: _Template
            ) -> xr.Dataset:
    """Sensitivity indices of every output (and every element of its dims) from samples and outputs.

    Parameters
    ----------
    problem : SensitivityProblem
        The problem.
    X : np.ndarray
        Samples, shape (evaluation, parameter).
    Y : mapping of str to np.ndarray
        Outputs, each of shape (evaluation, *output dims).
    tpl : _Template
        Output dims and coords (from :func:`evaluate_samples`).

    Returns
    -------
    xr.Dataset
        Indices with dims (parameter, output, *output dims).
    """
    sp = to_salib(problem)
    varnames = _SOBOL_VARS if problem.method == "sobol" else _MORRIS_VARS
    k = sp["num_vars"]
    shape = tpl.shape
    data = {v: np.full((k, len(tpl.names), *shape), np.nan) for v in varnames}
    for j, name in enumerate(tpl.names):
        y_all = Y[name].reshape(len(X), -1)
        bad = ~np.isfinite(y_all).all(axis=1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            values = dict(zip(problem.paths, X[row].tolist(), strict=True))
            raise SensitivityError(f"output {name} is not finite for {int(bad.sum())} of {len(X)} evaluations, "
                                   f"e.g. at {_show(values)}; sensitivity indices need finite outputs")
        for col in range(y_all.shape[1]):
            res = _analyse_one(problem, sp, X, y_all[:, col])
            if problem.method == "sobol" and np.isnan(res["S1"]).all():
                logger.warning("output %s does not vary (element %d): its Sobol' indices are undefined (NaN)",
                               name, col)
            idx = np.unravel_index(col, shape) if shape else ()
            for v in varnames:
                data[v][(slice(None), j, *idx)] = res[v]
    dims = ("parameter", "output", *tpl.dims)
    units = set(tpl.units.values())
    morris_units = units.pop() if len(units) == 1 else "see output_units"
    out = xr.Dataset(coords={
        "parameter": ("parameter", problem.paths, {"long_name": "config parameter path"}),
        "output": ("output", list(tpl.names), {"long_name": "model output"}),
        **tpl.coords,
    })
    for v, desc in varnames.items():
        units_v = "1" if problem.method == "sobol" else (morris_units or "1")
        attrs = {"long_name": desc, "units": units_v}
        if problem.method == "morris" and v != "mu_star_conf":
            attrs["comment"] = "output change per full range of the parameter (SALib normalised levels)"
        if v.endswith("_conf"):
            attrs["conf_level"] = problem.conf_level
        out[v] = (dims, data[v], attrs)
    out = out.assign_coords(
        parameter_label=("parameter", [p.name for p in problem.parameters], {"long_name": "short label"}),
        parameter_units=("parameter", [p.units or "" for p in problem.parameters],
                         {"long_name": "units of the sampled values"}),
        output_units=("output", [tpl.units[n] for n in tpl.names], {"long_name": "units of the output"}),
        output_long_name=("output", [tpl.long_names[n] for n in tpl.names]),
    )
    return out


def run_sensitivity(problem: SensitivityProblem, evaluate: Evaluator, *, client: Any = None,
                    num_workers: int | None = None, cfg_hash: str | None = None,
                    keep_samples: bool = True) -> xr.Dataset:
    """Run a global sensitivity analysis (Sobol' indices or Morris screening) of ``evaluate``.

    Parameters
    ----------
    problem : SensitivityProblem
        What varies and how (:func:`~climmig.sensitivity.problem.parse_problem`).
    evaluate : callable
        ``evaluate(values) -> xr.Dataset | Mapping[str, float | xr.DataArray]`` where ``values`` maps each
        parameter path to a float. Outputs are scalars or small arrays with labelled dims (e.g.
        ``horizon``); every output must have the same dims. If it has a ``provenance()`` method (like
        :class:`~climmig.sensitivity.evaluator.RunEvaluator`), the attrs it returns are recorded too.
    client : distributed.Client, optional
        Run evaluations on this dask client (the evaluator must pickle); default: dask threads.
    num_workers : int, optional
        Threads for the default threaded scheduler.
    cfg_hash : str, optional
        Science hash of the config being varied (recorded in the attrs).
    keep_samples : bool
        Also return the samples (``sample_value``) and outputs (``output_value``) along ``evaluation``.

    Returns
    -------
    xr.Dataset
        Dims (parameter, output, *output dims). Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` ([1]).
        Morris: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma`` (output units per unit of normalised range).
        ``*_conf`` are half-widths of bootstrap intervals at ``problem.conf_level``. Attrs carry provenance
        and the problem (JSON and SHA-256).

    Notes
    -----
    Sobol' indices use Saltelli's scheme without second-order terms, :math:`N(k+2)` evaluations for
    :math:`k` parameters: :math:`S_i = V[E(Y|X_i)]/V(Y)` and :math:`S_{Ti} = E[V(Y|X_{\\sim i})]/V(Y)`.

    References
    ----------
    Saltelli et al. (2010), Comput. Phys. Commun. 181, 259-270. Morris (1991), Technometrics 33, 161-174.
    Campolongo et al. (2007), Environ. Model. Softw. 22, 1509-1518. Herman & Usher (2017), SALib, JOSS 2(9).
    """
    X = sample(problem)
    logger.info("sensitivity (%s): %d evaluations of %d parameters", problem.method, len(X), len(problem.paths))
    Y, tpl = evaluate_samples(X, evaluate, problem.paths, problem.outputs, client=client,
                              num_workers=num_workers)
    out = analyse(problem, X, Y, tpl)
    if keep_samples:
        out["sample_value"] = (("evaluation", "parameter"), X, {"long_name": "sampled parameter value",
                                                                 "units": "see parameter_units"})
        out["output_value"] = xr.concat(
            [xr.DataArray(Y[n], dims=("evaluation", *tpl.dims)) for n in tpl.names], dim="output"
        ).transpose("evaluation", "output", *tpl.dims).assign_attrs(long_name="model output at each sample",
                                                                   units="see output_units")
    attrs = provenance_attrs(cfg_hash=cfg_hash, seed=problem.seed)
    attrs.update(
        title=f"Global sensitivity analysis ({problem.method})",
        climmig_sensitivity_method=problem.method,
        climmig_sensitivity_n=str(problem.n),
        climmig_sensitivity_evaluations=str(len(X)),
        climmig_sensitivity_problem=json.dumps(problem.model_dump(mode="json"), sort_keys=True),
        climmig_sensitivity_problem_sha256=problem_hash(problem),
        climmig_sensitivity_sampler=_SAMPLER[problem.method],
        climmig_salib_version=_salib_version(),
        history=update_history(f"sensitivity analysis ({problem.method}, {len(X)} evaluations) with SALib"),
    )
    described = getattr(evaluate, "provenance", None)
    if callable(described):  # e.g. the run evaluator: which run's layers and fits were reused
        attrs.update({str(k): str(v) for k, v in described().items()})
    out.attrs = attrs
    return out

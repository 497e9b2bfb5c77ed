"""Constrained values and deterministics of a posterior, computed from its free (unconstrained) draws.

nutpie can compute these itself, draw by draw, with a second numba-compiled function; on the demo's
displacement model compiling that function took about 7 s of a 60 s compilation on a fresh install. Here
the same graph (``model.unobserved_value_vars``) is vectorised over all draws at once and evaluated with
PyTensor's Python linker (numpy, nothing to compile), which takes well under a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

__all__ = ["expand_posterior", "free_value_names"]


def free_value_names(model: pm.Model) -> list[str]:
    """Names of the free value variables (unconstrained, e.g. ``sigma_log__``), in the model's order."""
    return [model.rvs_to_values[rv].name for rv in model.free_RVs]


def _numpy_mode() -> Any:
    from pytensor.compile.mode import Mode

    return Mode(linker="py", optimizer=None)


def expand_posterior(posterior: xr.Dataset, model: pm.Model) -> xr.Dataset:
    """Add every constrained value and deterministic of ``model`` to a posterior of its free value variables.

    Parameters
    ----------
    posterior : xr.Dataset
        Dims ``(chain, draw, ...)``; holds every free value variable of ``model`` (as named by
        :func:`free_value_names`).
    model : pm.Model
        The model that was sampled.

    Returns
    -------
    xr.Dataset
        ``posterior`` (same attrs) followed by the remaining unobserved variables in the model's order
        (``model.unobserved_value_vars``), with the model's dims and coords.
    """
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    free = free_value_names(model)
    missing = [n for n in free if n not in posterior]
    if missing:
        raise ValueError(f"posterior lacks the free variables {missing}")
    outputs = [v for v in model.unobserved_value_vars if v.name not in set(free)]
    if not outputs:
        return posterior
    values = [model.rvs_to_values[rv] for rv in model.free_RVs]
    batched = {v: pt.tensor(dtype=v.dtype, shape=(None, *v.type.shape), name=v.name) for v in values}
    graph = vectorize_graph(outputs, replace=batched)
    fn = pytensor.function(list(batched.values()), graph, mode=_numpy_mode(), on_unused_input="ignore")
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    args = [np.ascontiguousarray(posterior[n].values.reshape((n_chain * n_draw, *posterior[n].shape[2:])),
                                 dtype=batched[v].dtype) for n, v in zip(free, values, strict=True)]
    results = fn(*args)
    dims = model.named_vars_to_dims
    new = {}
    for var, arr in zip(outputs, results, strict=True):
        arr = np.asarray(arr)
        if arr.ndim == var.ndim:
            # depends on no free variable (a zero-sum effect over a single hazard is 0), so it was not batched:
            # the same value in every draw
            arr = np.broadcast_to(arr, (n_chain * n_draw, *arr.shape))
        arr = arr.reshape((n_chain, n_draw, *np.shape(arr)[1:]))
        var_dims = dims.get(var.name)
        extra = tuple(var_dims) if var_dims else tuple(f"{var.name}_dim_{i}" for i in range(arr.ndim - 2))
        coords = {d: list(model.coords[d]) for d in extra if model.coords.get(d) is not None}
        new[var.name] = xr.DataArray(arr, dims=("chain", "draw", *extra), coords=coords)
    out = posterior.assign(new)
    out.attrs = dict(posterior.attrs)
    return out

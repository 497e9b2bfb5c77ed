"""Convergence diagnostics as data, and the gate that projections must pass."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import xarray as xr

from climmig.config.schema_statistics import GateSpec
from climmig.errors import ConvergenceError

__all__ = ["CONVERGENCE_GROUP", "check_convergence", "enforce_gate", "gate_summary", "stored_diagnostics"]

#: group of a saved fit that holds its convergence diagnostics (:func:`stored_diagnostics`)
CONVERGENCE_GROUP = "convergence"


def check_convergence(idata: az.InferenceData, gate: GateSpec, var_names: list[str] | None = None) -> xr.Dataset:
    """R-hat, bulk/tail ESS, divergences and BFMI of a fit, with a pass/fail flag.

    Parameters
    ----------
    idata : az.InferenceData
        A fit with ``posterior`` and ``sample_stats``.
    gate : GateSpec
        Thresholds (``r_hat_max``, ``ess_min``, ``max_divergences``).
    var_names : list of str, optional
        Parameters to check (default: every posterior variable).

    Returns
    -------
    xr.Dataset
        ``r_hat``, ``ess_bulk``, ``ess_tail`` per parameter (flattened to a ``parameter`` dim), ``bfmi`` per
        chain, scalars ``divergences``, ``tree_depth_hits``, ``max_r_hat``, ``min_ess_bulk``,
        ``min_ess_tail`` and boolean ``passed``; the thresholds are in the attrs.
    """
    post = idata.posterior if var_names is None else idata.posterior[var_names]
    names, columns = [], []
    for v in post.data_vars:
        arr = post[v].transpose("chain", "draw", ...)
        extra = arr.dims[2:]
        if not extra:
            names.append(str(v))
        else:
            index = arr.isel(chain=0, draw=0, drop=True).stack(_flat=extra)["_flat"].values
            names.extend(f"{v}[{','.join(map(str, i if isinstance(i, tuple) else (i,)))}]" for i in index)
        columns.append(np.asarray(arr.values, dtype=float).reshape(arr.sizes["chain"], arr.sizes["draw"], -1))
    draws = np.concatenate(columns, axis=2) if columns else np.empty((0, 0, 0))
    # a quantity that is constant in every chain (the migration model's reference border regime, 0 by
    # definition) has no between- or within-chain variance: its R-hat is then 0/0 = NaN, which the gate
    # leaves out (nanmax/nanmin below)
    r, eb, et = _rank_diagnostics(draws)
    stats = idata.get("sample_stats")
    divergences = 0
    depth_hits = 0
    bfmi = np.array([np.nan])
    if stats is not None:
        for key in ("diverging", "divergences"):
            if key in stats:
                divergences = int(np.asarray(stats[key]).sum())
                break
        for key in ("maxdepth_reached", "reached_max_treedepth"):  # nutpie, PyMC
            if key in stats:
                depth_hits = int(np.asarray(stats[key]).sum())
                break
        if "energy" in stats:
            bfmi = np.asarray(az.bfmi(idata), dtype=float)
    max_r = float(np.nanmax(r)) if r.size else np.nan
    min_b = float(np.nanmin(eb)) if eb.size else np.nan
    min_t = float(np.nanmin(et)) if et.size else np.nan
    passed = bool(max_r <= gate.r_hat_max and min_b >= gate.ess_min and min_t >= gate.ess_min
                  and divergences <= gate.max_divergences)
    return xr.Dataset(
        {
            "r_hat": ("parameter", r, {"long_name": "rank-normalised split R-hat", "units": "1"}),
            "ess_bulk": ("parameter", eb, {"long_name": "bulk effective sample size", "units": "1"}),
            "ess_tail": ("parameter", et, {"long_name": "tail effective sample size", "units": "1"}),
            "bfmi": ("chain", bfmi, {"long_name": "Bayesian fraction of missing information", "units": "1"}),
            "divergences": ((), divergences, {"long_name": "divergent transitions after tuning", "units": "1"}),
            "tree_depth_hits": ((), depth_hits, {
                "long_name": "draws after tuning whose NUTS tree reached the maximum depth (an efficiency "
                             "warning, not part of the gate)", "units": "1"}),
            "max_r_hat": ((), max_r, {"long_name": "largest R-hat over the gated quantities", "units": "1"}),
            "min_ess_bulk": ((), min_b, {"long_name": "smallest bulk effective sample size over the gated "
                                                       "quantities", "units": "1"}),
            "min_ess_tail": ((), min_t, {"long_name": "smallest tail effective sample size over the gated "
                                                       "quantities", "units": "1"}),
            "passed": ((), passed, {"long_name": "fit passed the convergence gate"}),
        },
        coords={"parameter": names, "chain": np.arange(bfmi.size)},
        attrs={"r_hat_max": gate.r_hat_max, "ess_min": gate.ess_min, "max_divergences": gate.max_divergences},
    )


def stored_diagnostics(idata: az.InferenceData, var_names: list[str], gate: GateSpec) -> xr.Dataset:
    """The convergence diagnostics of a fit, computed once and kept with it.

    R-hat and ESS over the ~1300 gated quantities of the displacement fit take about 13 s, and a fit is
    reused by every later run of a config whose model settings did not change; so the diagnostics are stored
    in the fit's ``convergence`` group (written with the fit) and read back when they cover the same
    quantities. Only the pass/fail flag depends on the gate's thresholds, and it is recomputed with
    ``gate`` each time.

    Parameters
    ----------
    idata : az.InferenceData
        A fit; its ``convergence`` group is added if missing or made for other quantities.
    var_names : list of str
        Parameters the gate checks.
    gate : GateSpec
        Thresholds.

    Returns
    -------
    xr.Dataset
        As :func:`check_convergence`.
    """
    key = json.dumps(sorted(var_names))
    stored = idata.get(CONVERGENCE_GROUP)
    if stored is None or stored.attrs.get("climmig_var_names") != key:
        stored = check_convergence(idata, gate, var_names=var_names).assign_attrs(climmig_var_names=key)
        if CONVERGENCE_GROUP in idata.groups():
            del idata[CONVERGENCE_GROUP]
        idata.add_groups({CONVERGENCE_GROUP: stored})
    passed = bool(float(stored["max_r_hat"]) <= gate.r_hat_max and float(stored["min_ess_bulk"]) >= gate.ess_min
                  and float(stored["min_ess_tail"]) >= gate.ess_min
                  and int(stored["divergences"]) <= gate.max_divergences)
    return stored.assign(passed=((), passed, {"long_name": "fit passed the convergence gate"})).assign_attrs(
        r_hat_max=gate.r_hat_max, ess_min=gate.ess_min, max_divergences=gate.max_divergences)


def _rank_diagnostics(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ArviZ's rank-normalised split R-hat and bulk and tail ESS of each column of a (chain, draw, q) array.

    The columns go to ArviZ as one variable rather than one call per posterior variable: ArviZ loops over
    the scalar quantities of a variable either way, and one variable saves the per-variable bookkeeping.
    """
    if not draws.size:
        return np.empty(0), np.empty(0), np.empty(0)
    flat = xr.Dataset({"q": (("chain", "draw", "quantity"), draws)})
    with np.errstate(invalid="ignore", divide="ignore"):
        return (az.rhat(flat, method="rank")["q"].values, az.ess(flat, method="bulk")["q"].values,
                az.ess(flat, method="tail")["q"].values)


def gate_summary(diag: xr.Dataset) -> str:
    """One line describing a diagnostics dataset, e.g. for the CLI summary and the report.

    Parameters
    ----------
    diag : xr.Dataset
        Output of :func:`check_convergence`.

    Returns
    -------
    str
    """
    status = "passed" if bool(diag["passed"]) else "FAILED"
    return (f"convergence {status}: max R-hat {float(diag['max_r_hat']):.3f} (<= {diag.attrs['r_hat_max']}), "
            f"min bulk ESS {float(diag['min_ess_bulk']):.0f}, min tail ESS {float(diag['min_ess_tail']):.0f} "
            f"(>= {diag.attrs['ess_min']:.0f}), divergences {int(diag['divergences'])} "
            f"(<= {diag.attrs['max_divergences']})"
            + (f"; {int(diag['tree_depth_hits'])} draws reached the maximum tree depth (raise "
               "mobility.sampler.max_tree_depth)" if int(diag.get("tree_depth_hits", 0)) else ""))


def enforce_gate(diag: xr.Dataset, gate: GateSpec, what: str) -> bool:
    """Refuse to go on from a fit that failed the gate, unless the config allows it.

    Parameters
    ----------
    diag : xr.Dataset
        Output of :func:`check_convergence`.
    gate : GateSpec
        The config's gate (``allow_unconverged``).
    what : str
        Name of the model, for the message.

    Returns
    -------
    bool
        True if the fit passed; False if it failed but ``allow_unconverged`` is set (outputs must then be
        flagged ``climmig_unconverged_fit = "true"``).

    Raises
    ------
    ConvergenceError
        If the fit failed and ``allow_unconverged`` is false.
    """
    if bool(diag["passed"]):
        return True
    if gate.allow_unconverged:
        return False
    raise ConvergenceError(
        f"the {what} fit did not converge ({gate_summary(diag)}); refusing to project from it. Increase "
        "mobility.sampler.tune/draws, or set mobility.gate.allow_unconverged: true to project anyway "
        "(every output is then flagged)"
    )

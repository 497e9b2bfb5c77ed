"""Benchmark the global displacement fit (all countries, 2008-2022, flood/storm/drought) with nutpie and with
PyMC's default NUTS, in one run.

Usage::

    python benchmarks/bench_displacement_fit.py [--draws 1000] [--tune 1000] [--chains 4] [--cores 2]
                                                [--target-accept 0.9] [--seed 1] [--backends nutpie,pymc|none]

Prints the cost of one logp + gradient evaluation (numba, the kernel nutpie runs; ``--backends none`` stops
there) and its ratio to a numpy pass over the model's cells, then, per backend, the compile and sampling wall times, the minimum bulk ESS over the gated parameters,
ESS per second (of compile + sampling wall time) and the convergence gate, the nutpie/PyMC ratios, and ends
with one JSON line holding all figures (and the 1-minute load average: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from climmig.catalog import load_catalog
from climmig.config.schema import GateSpec, SamplerSpec
from climmig.displacement.calibration import CHECK_VARS
from climmig.displacement.model import build_displacement_model, prepare_inputs
from climmig.displacement.observations import read_idmc
from climmig.mobility.covariates import load_covariates
from climmig.mobility.diagnostics import check_convergence, gate_summary
from climmig.mobility.fit import fit
from climmig.mobility.priors import resolve_priors

CATALOG = Path(__file__).resolve().parents[1] / "data_catalog" / "catalog.yaml"


def gradient_cost(model: Any, n_cells: int, calls: int = 300) -> dict[str, float]:
    """Time of one logp + gradient evaluation (PyTensor's numba backend, the kernel nutpie samples with),
    and its ratio to one numpy pass of ``log(1 + exp(x))`` over the model's cells (the yardstick)."""
    import numpy as np
    from pymc.blocking import DictToArrayBijection

    fn = model.logp_dlogp_function(ravel_inputs=True, mode="NUMBA")
    fn.set_extra_values({})
    x = DictToArrayBijection.map(model.initial_point()).data
    for _ in range(10):
        fn(x)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn(x)
    grad_s = (time.perf_counter() - t0) / calls
    cells = np.random.default_rng(0).normal(size=n_cells)
    t0 = time.perf_counter()
    for _ in range(calls):
        np.logaddexp(0.0, cells)
    numpy_s = (time.perf_counter() - t0) / calls
    return {"ms_per_call": round(grad_s * 1e3, 4), "numpy_pass_ms": round(numpy_s * 1e3, 4),
            "ratio_to_numpy_pass": round(grad_s / numpy_s, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--target-accept", type=float, default=SamplerSpec().target_accept)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-tree-depth", type=int, default=SamplerSpec().max_tree_depth)
    ap.add_argument("--mass-matrix", default=SamplerSpec().mass_matrix, choices=["low_rank", "diagonal"])
    ap.add_argument("--backends", default="nutpie,pymc")
    ap.add_argument("--parameterization", default="auto", choices=["auto", "centered", "noncentered"])
    args = ap.parse_args()

    cat = load_catalog(CATALOG)
    obs = read_idmc(cat.open("idmc_gidd_weather_events"), "gidd-events")
    years = list(range(2008, 2023))
    cov = load_covariates(cat, sorted(obs["iso3"].unique()), years)
    inputs = prepare_inputs(obs, cov, hazards=["flood", "storm", "drought"], years=years,
                            parameterization=args.parameterization)
    n_obs, n_countries = len(inputs.coords["obs"]), len(inputs.coords["country"])
    print(f"global displacement fit: {n_countries} countries x {len(years)} years x 3 hazards = {n_obs} cells; "
          f"{args.chains} chains x {args.draws} draws (+{args.tune} tune) on {args.cores} cores")
    results = {"n_obs": n_obs, "n_countries": n_countries, "draws": args.draws, "tune": args.tune,
               "chains": args.chains, "cores": args.cores, "target_accept": args.target_accept, "seed": args.seed,
               "mass_matrix": args.mass_matrix, "max_tree_depth": args.max_tree_depth,
               "parameterization": inputs.meta["parameterization"]}
    results["gradient"] = gradient_cost(build_displacement_model(inputs, resolve_priors()), n_obs)
    g = results["gradient"]
    print(f"logp + gradient (numba, one core): {g['ms_per_call']:.3f} ms per call = "
          f"{g['ratio_to_numpy_pass']:.0f} x a numpy softplus pass over the {n_obs} cells")
    for backend in [b for b in args.backends.split(",") if b and b != "none"]:
        model = build_displacement_model(inputs, resolve_priors())
        sampler = SamplerSpec(backend=backend, draws=args.draws, tune=args.tune, chains=args.chains,
                              cores=args.cores, target_accept=args.target_accept,
                              mass_matrix=args.mass_matrix, max_tree_depth=args.max_tree_depth)
        t0 = time.perf_counter()
        idata = fit(model, sampler, random_seed=args.seed, model_name="displacement_hurdle")
        wall = time.perf_counter() - t0
        diag = check_convergence(idata, GateSpec(), var_names=[v for v in CHECK_VARS if v in idata.posterior])
        ess = float(diag["min_ess_bulk"])
        row = {"wall_s": round(wall, 1), "min_ess_bulk": round(ess, 1), "min_ess_per_s": round(ess / wall, 2),
               "max_r_hat": round(float(diag["max_r_hat"]), 4), "divergences": int(diag["divergences"]),
               "passed_gate": bool(diag["passed"]), "backend_used": idata.posterior.attrs["sampler_backend"],
               "leapfrog_per_draw": (round(float(idata.sample_stats["n_steps"].mean()), 1)
                                     if "n_steps" in idata.sample_stats else None)}
        results[backend] = row
        print(f"{backend}: wall {wall:.1f} s (compile + sample), min bulk ESS {ess:.0f}, "
              f"{ess / wall:.2f} ESS/s; {gate_summary(diag)}")
    if "nutpie" in results and "pymc" in results:
        a, b = results["nutpie"], results["pymc"]
        results["ratio_nutpie_over_pymc"] = {
            "ess_per_s": round(a["min_ess_per_s"] / b["min_ess_per_s"], 2) if b["min_ess_per_s"] else None,
            "wall": round(a["wall_s"] / b["wall_s"], 2)}
        print(f"nutpie / PyMC: {results['ratio_nutpie_over_pymc']['ess_per_s']}x the ESS per second, "
              f"{results['ratio_nutpie_over_pymc']['wall']}x the wall time")
    results["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()

"""``climmig sensitivity``: global sensitivity analysis of a run config (or an analytic benchmark)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from climmig.cli import app

logger = logging.getLogger(__name__)

_ANALYTIC = ("ishigami",)


def _save_figure(ds: Any, target: Path) -> Path:
    from climmig.io.writers import atomic_path
    from climmig.sensitivity import plot_sensitivity

    fig = plot_sensitivity(ds)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    return target


def _summary(ds: Any, exact: Any = None, top: int = 5) -> Table:
    sobol = "S1" in ds
    t = Table(title=f"{'Sobol' if sobol else 'Morris'} sensitivity ({ds.attrs.get('climmig_sensitivity_evaluations')}"
              " evaluations)")
    extra = [d for d in ds["S1" if sobol else "mu_star"].dims if d not in ("parameter", "output")]
    t.add_column("output")
    if extra:
        t.add_column(", ".join(extra))
    t.add_column(f"parameter (top {top})")
    cols = ("S1", "ST") if sobol else ("mu_star", "sigma")
    for c in cols:
        t.add_column(c, justify="right")
    if exact is not None:
        for c in cols:
            t.add_column(f"{c} exact", justify="right")
    main = cols[-1] if sobol else cols[0]
    flat = ds[[main]].to_dataframe().reset_index()
    labels = dict(zip(ds["parameter"].values.tolist(), ds["parameter_label"].values.tolist(), strict=True))
    groups = flat.groupby(["output", *extra], sort=False)
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        for _, row in grp.sort_values(main, ascending=False).head(top).iterrows():
            sel = {"output": row["output"], "parameter": row["parameter"], **{d: row[d] for d in extra}}
            cells = [str(key[0])]
            if extra:
                cells.append(", ".join(str(k) for k in key[1:]))
            cells.append(str(labels[row["parameter"]]))
            for c in cols:
                v = float(ds[c].sel(sel))
                conf = f" ± {float(ds[f'{c}_conf'].sel(sel)):.3f}" if f"{c}_conf" in ds else ""
                cells.append(f"{v:.3f}{conf}")
            if exact is not None:
                cells += [f"{float(exact[c].sel(parameter=row['parameter'])):.3f}" for c in cols]
            t.add_row(*cells)
    return t


@app.command()
def sensitivity(
    config: Path | None = typer.Argument(None, help="Run config (YAML). Not needed with --analytic."),
    problem: Path | None = typer.Option(None, "--problem", "-p", help="Sensitivity problem (YAML)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Directory for sensitivity.nc and sensitivity.png "
        "(default: <run_dir>/sensitivity, or runs/sensitivity-<name> with --analytic)."),
    analytic: str | None = typer.Option(
        None, "--analytic", help="Run an analytic benchmark through the same code path: ishigami."),
    method: str | None = typer.Option(None, "--method", help="With --analytic: sobol (default) or morris."),
    n: int | None = typer.Option(None, "--n", help="Override the number of base samples / trajectories."),
    workers: int | None = typer.Option(None, "--workers", help="Threads for evaluations (default: from config)."),
    run_dir: Path | None = typer.Option(
        None, "--run-dir", help="Finished run of CONFIG whose exposure and fits are reused "
        "(default: the config's outputs.run_dir; give it when the run was made with --output)."),
    list_parameters: bool = typer.Option(False, "--list-parameters",
                                         help="List the config paths that can be varied, and exit."),
) -> None:
    """Global sensitivity analysis (Sobol' or Morris) of a config's outputs to its parameters."""
    from climmig.io.writers import write_netcdf
    from climmig.sensitivity import (
        SensitivityError,
        ishigami_evaluator,
        ishigami_indices,
        ishigami_problem,
        load_problem,
        numeric_paths,
        parse_problem,
        run_sensitivity,
        validate_problem,
    )

    out = Console(highlight=False)
    exact = None
    if analytic is not None:
        if analytic not in _ANALYTIC:
            raise SensitivityError(f"unknown analytic benchmark {analytic!r}; use one of {', '.join(_ANALYTIC)}")
        if config is not None or problem is not None:
            raise SensitivityError("--analytic runs a built-in problem; do not also give CONFIG or --problem")
        meth = method or "sobol"
        if meth not in ("sobol", "morris"):
            raise SensitivityError(f"--method must be sobol or morris, got {meth!r}")
        prob = ishigami_problem(n or (1024 if meth == "sobol" else 64), method=meth)
        evaluate = ishigami_evaluator()
        exact = ishigami_indices() if meth == "sobol" else None
        target = output or Path("runs") / f"sensitivity-{analytic}"
        cfg_hash = None
    else:
        from climmig.config import load_config, science_hash

        if method is not None:
            raise SensitivityError("--method only applies to --analytic; set `method:` in the problem file")
        if config is None:
            raise SensitivityError("give a run CONFIG (or --analytic ishigami)")
        cfg = load_config(config)
        if list_parameters:
            from climmig.sensitivity import get_value

            t = Table(title=f"parameters of {cfg.run_id} that can be varied")
            t.add_column("path")
            t.add_column("current value", justify="right")
            for p in numeric_paths(cfg):
                t.add_row(p, f"{get_value(cfg, p):.10g}")
            out.print(t)
            return
        if problem is None:
            raise SensitivityError("give the sensitivity problem with --problem FILE "
                                   "(see docs/sensitivity.md and configs/sensitivity_demo_problem.yaml)")
        prob = load_problem(problem)
        if n is not None:
            prob = parse_problem({**prob.model_dump(mode="json"), "n": n}, f"{problem} with --n {n}")
        validate_problem(prob, cfg)
        from climmig.sensitivity import run_evaluator

        evaluate = run_evaluator(cfg, config, prob, run_dir=run_dir)
        target = output or evaluate.run_dir / "sensitivity"
        cfg_hash = science_hash(cfg)
        workers = workers or cfg.compute.n_workers * cfg.compute.threads_per_worker
    ds = run_sensitivity(prob, evaluate, num_workers=workers, cfg_hash=cfg_hash)
    nc = write_netcdf(ds, Path(target) / "sensitivity.nc")
    png = _save_figure(ds, Path(target) / "sensitivity.png")
    out.print(_summary(ds, exact))
    out.print(f"wrote {nc}\nwrote {png}")

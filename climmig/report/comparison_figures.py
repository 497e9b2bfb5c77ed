"""The figures of ``climmig compare``: one set per scenario and horizon, written by a recorded stage.

``climmig compare`` asks the run for its on-demand ``comparison_figures`` stage
(:func:`climmig.pipeline.stages.stage_comparison_figures`), so the figures are recorded, digested and reused
like every other output, and a rerun of the comparison makes them stale instead of leaving old figures
behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import xarray as xr

__all__ = ["comparison_figure_name", "has_frontier", "write_comparison_figures"]


def comparison_figure_name(kind: str, scenario: str, horizon: str | None = None) -> str:
    """File name of one comparison figure (``ranked_{scenario}.png``, ``{kind}_{scenario}_{horizon}.png``).

    Parameters
    ----------
    kind : str
        ``ranked`` (all horizons in one figure), ``averted_vs_cost`` or ``frontier``.
    scenario : str
        Scenario id.
    horizon : str, optional
        Horizon name (not for ``ranked``).

    Returns
    -------
    str
    """
    if kind == "ranked":
        return f"ranked_{scenario}.png"
    if kind not in ("averted_vs_cost", "frontier") or horizon is None:
        raise ValueError(f"unknown comparison figure {kind!r} (horizon {horizon!r})")
    return f"{kind}_{scenario}_{horizon}.png"


def has_frontier(comparison: xr.Dataset) -> bool:
    """Whether any option is in the equal-budget ranking (the frontier figure needs one)."""
    return "in_budget_ranking" in comparison.coords and bool(comparison["in_budget_ranking"].any())


def write_comparison_figures(comparison: xr.Dataset, out_dir: str | Path, *, scenarios: Sequence[str],
                             horizons: Sequence[str]) -> list[Path]:
    """Write the ranking, averted-versus-cost and frontier figures of every scenario and horizon.

    Parameters
    ----------
    comparison : xr.Dataset
        ``interventions/comparison.nc`` of a run.
    out_dir : str or Path
        Folder of the figures (``interventions/``).
    scenarios, horizons : sequence of str
        Scenarios and horizon names to draw.

    Returns
    -------
    list of Path
        The PNG files written (atomically), in a fixed order.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from climmig.report.intervention_plots import averted_vs_cost, frontier_plot, ranked_bars
    from climmig.report.plots import save_figure

    out = Path(out_dir)
    frontier = has_frontier(comparison)
    paths = []

    def write(fig, name: str) -> None:
        paths.append(save_figure(fig, out / name))
        plt.close(fig)

    for sc in scenarios:
        write(ranked_bars(comparison, scenario=sc), comparison_figure_name("ranked", sc))
        for h in horizons:
            write(averted_vs_cost(comparison, scenario=sc, horizon=h), comparison_figure_name("averted_vs_cost", sc, h))
            if frontier:
                write(frontier_plot(comparison, scenario=sc, horizon=h), comparison_figure_name("frontier", sc, h))
    return paths

"""Figure of sensitivity indices: horizontal bars per parameter with confidence whiskers, one panel per output
(and per horizon when outputs have one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_sensitivity"]

#: x range of Sobol' panels: indices are shares of variance; values outside come from sampling error and are
#: drawn at the edge with their value written next to them.
_LO, _HI = -0.2, 1.1


def _undefined(ax: Any) -> None:
    ax.text(0.5, 0.5, "the output does not vary:\nits indices are undefined", transform=ax.transAxes,
            ha="center", va="center", fontsize=8, color="0.4")


def _panels(ds: xr.Dataset) -> list[tuple[str, dict[str, object]]]:
    extra = [d for d in ds["S1" if "S1" in ds else "mu_star"].dims if d not in ("parameter", "output")]
    panels: list[tuple[str, dict[str, object]]] = []
    for out in ds["output"].values.tolist():
        if not extra:
            panels.append((str(out), {"output": out}))
            continue
        stacked = ds[extra].stack(_p=extra) if len(extra) > 1 else None
        keys = stacked["_p"].values.tolist() if stacked is not None else ds[extra[0]].values.tolist()
        for key in keys:
            sel = dict(zip(extra, key, strict=True)) if stacked is not None else {extra[0]: key}
            title = f"{out}\n" + ", ".join(f"{d} {v}" for d, v in sel.items())
            panels.append((title, {"output": out, **sel}))
    return panels


def plot_sensitivity(ds: xr.Dataset, max_parameters: int = 25) -> Figure:
    """Horizontal bars of the indices in ``ds`` (from :func:`~climmig.sensitivity.run.run_sensitivity`).

    Sobol: first-order (S1) and total (ST) index per parameter with confidence whiskers. Morris: mu* with its
    confidence whisker and sigma as a marker. Parameters are ordered by their largest total effect.

    Parameters
    ----------
    ds : xr.Dataset
        Sensitivity indices.
    max_parameters : int
        Show at most this many parameters (the most influential).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig``.
    """
    from matplotlib.figure import Figure

    sobol = "S1" in ds
    main = "ST" if sobol else "mu_star"
    order = ds[main].fillna(0).max([d for d in ds[main].dims if d != "parameter"]).values
    keep = np.argsort(-order)[:max_parameters][::-1]  # most influential on top
    labels = [str(x) for x in ds["parameter_label"].values[keep]] if "parameter_label" in ds.coords else \
        [str(x) for x in ds["parameter"].values[keep]]
    panels = _panels(ds)
    ncols = min(3, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    height = max(2.2, 0.42 * len(keep) + 1.5)
    fig = Figure(figsize=(4.6 * ncols + 1.8, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    y = np.arange(len(keep))
    for ax, (title, sel) in zip(axes.flat, panels, strict=False):
        sub = ds.sel(sel)
        if sobol:
            if not np.isfinite(sub["ST"].values).any():
                _undefined(ax)
            for off, var, color in ((0.18, "S1", "#4C72B0"), (-0.18, "ST", "#DD8452")):
                val = sub[var].values[keep]
                err = sub[f"{var}_conf"].values[keep]
                ax.barh(y + off, np.clip(val, _LO, _HI), height=0.34, xerr=err, color=color, label=var,
                        error_kw={"elinewidth": 1, "capsize": 2.5, "ecolor": "0.25"})
                for yi, v in zip(y + off, val, strict=True):
                    if np.isfinite(v) and not _LO <= v <= _HI:  # sampling error beyond [0, 1]: say so
                        ax.annotate(f"{v:.2f}", (_HI if v > _HI else _LO, yi), fontsize=7, va="center",
                                    ha="right" if v > _HI else "left", color="0.15", zorder=5,
                                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
            ax.axvline(0, color="0.5", lw=0.8)
            ax.set_xlim(_LO, _HI)
            ax.set_xlabel("Sobol' index (share of output variance)", fontsize=8)
        else:
            val, err = sub["mu_star"].values[keep], sub["mu_star_conf"].values[keep]
            if not np.isfinite(val).any() or not np.nanmax(np.abs(val)) > 0:
                ax.text(0.98, 0.02, "no parameter changes this output", transform=ax.transAxes, ha="right",
                        va="bottom", fontsize=8, color="0.4")
            ax.barh(y, val, height=0.6, xerr=err, color="#4C72B0", label="mu*",
                    error_kw={"elinewidth": 1, "capsize": 2.5, "ecolor": "0.25"})
            ax.plot(sub["sigma"].values[keep], y, "D", color="#C44E52", ms=5, label="sigma")
            units = str(sub["output_units"].values) if "output_units" in sub.coords else ""
            ax.set_xlabel("elementary effect" + (f" [{units}]" if units else "") + " per full range", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(y, labels)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=len(names), fontsize=9, frameon=False)
    method = "Sobol' indices" if sobol else "Morris screening"
    conf = ds[f"{main}_conf" if sobol else "mu_star_conf"].attrs.get("conf_level", "")
    n = ds.attrs.get("climmig_sensitivity_evaluations", "?")
    fig.suptitle(f"{method} ({n} evaluations; whiskers: {conf} confidence)", fontsize=11)
    return fig

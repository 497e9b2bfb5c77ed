"""Compare interventions and portfolios under uncertainty, per scenario, horizon and region."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import xarray as xr

from climmig.config.schema import BorderRegimeChange, ComparisonSpec, InterventionSpec, PortfolioSpec
from climmig.errors import ConfigError, DataError
from climmig.interventions.apply import apply_intervention, apply_portfolio, draw_effects
from climmig.interventions.costs import discounted_cost
from climmig.interventions.library import border_regime_spec
from climmig.interventions.state import ProjectionState
from climmig.projection.uncertainty import horizon_sum, horizon_table

__all__ = ["compare_interventions", "pool_samples"]

logger = logging.getLogger(__name__)

OutcomeFn = Callable[[ProjectionState], xr.Dataset]
_FLOWS = {"cross_border_migration": "averted_cross_border", "internal_migration": "averted_internal"}


def pool_samples(da: xr.DataArray) -> xr.DataArray:
    """Fold ``climate_model`` into ``sample``: one pooled sample per (climate model, posterior draw).

    Parameters
    ----------
    da : xr.DataArray
        With ``sample`` and ``climate_model`` dims.

    Returns
    -------
    xr.DataArray
        ``sample`` of length n_climate_models x n_draws (integer coordinate) with non-index coordinates
        ``climate_model`` and ``draw`` saying where each pooled sample comes from.
    """
    if "climate_model" not in da.dims:
        return da
    out = da.rename(sample="draw").stack(sample=("climate_model", "draw"))
    out = out.reset_index("sample").assign_coords(sample=np.arange(out.sizes["sample"]))
    return out.transpose("sample", ...)


def _outcome(ds: xr.Dataset, name: str) -> xr.DataArray:
    da = ds[name]
    if "hazard" in da.dims:
        da = da.sum("hazard", keep_attrs=True)
    missing = {"sample", "scenario", "year", "region"} - set(da.dims)
    if missing:
        raise DataError(f"outcome {name} lacks dimension(s) {sorted(missing)} (dims {da.dims})")
    return da


def _check_currency(specs: Sequence[InterventionSpec]) -> tuple[str, int | None]:
    costed = {(s.cost.currency, s.cost.price_year) for s in specs if s.cost is not None}
    if len(costed) > 1:
        raise ConfigError([f"interventions mix currencies/price years {sorted(costed)}; express all costs in "
                           "one currency and price year"])
    return next(iter(costed)) if costed else ("USD", None)


def compare_interventions(
    baseline_state: ProjectionState,
    specs: Sequence[InterventionSpec | BorderRegimeChange],
    portfolios: Sequence[PortfolioSpec],
    outcome_fn: OutcomeFn,
    horizons: Iterable,
    comparison_spec: ComparisonSpec,
    rng: np.random.Generator,
    *,
    outcome_var: str | None = None,
    max_workers: int = 1,
) -> xr.Dataset:
    r"""Displacement averted, costs and the chance of being best, for interventions and portfolios.

    Parameters
    ----------
    baseline_state : ProjectionState
        The no-intervention state.
    specs : sequence of InterventionSpec or BorderRegimeChange
        Interventions (border-regime changes are converted with
        :func:`~climmig.interventions.library.border_regime_spec`).
    portfolios : sequence of PortfolioSpec
        Combinations, applied jointly (not summed).
    outcome_fn : callable
        ``outcome_fn(state) -> xr.Dataset`` with ``displaced_persons`` (sample, scenario, climate_model,
        year, region[, hazard]) and optionally ``cross_border_migration`` and ``internal_migration``. It
        must be deterministic in the state (a fixed seed), so every variant sees the same random numbers
        (common random numbers) and differences between variants are not sampling noise.
    horizons : iterable
        Evaluation horizons (``HorizonSpec`` or ``(name, start, end)``).
    comparison_spec : ComparisonSpec
        Discount rate, base year and the metric ranking the options.
    rng : numpy.random.Generator
        Source of the seed for effect draws (each intervention then draws from its own stream).
    outcome_var : str, optional
        Outcome variable measuring displacement. Default: ``"expected_displacement"`` when the outcome
        has it (expected value per posterior draw: the intervention's effect without the count noise of
        single years, and exactly common random numbers), else ``"displaced_persons"`` (posterior-
        predictive draws; then use a sampler with exact common random numbers such as
        ``sample_negbin(..., method="inversion")``, or noise blurs the differences).
    max_workers : int
        Threads evaluating the options concurrently (``outcome_fn`` must then be thread-safe); the result
        does not depend on it.

    Returns
    -------
    xr.Dataset
        Dims ``intervention`` x ``sample`` x ``scenario`` x ``horizon`` x ``region`` where ``sample`` pools
        climate models and posterior draws (coordinates ``climate_model`` and ``draw``):
        ``averted_displacement`` (people, summed over the horizon's years), ``averted_cross_border`` and
        ``averted_internal`` (when the outcome has them), ``discounted_cost`` (cost in the horizon's
        years discounted to ``base_year``), ``cumulative_cost`` and ``cumulative_averted`` (from the
        first projection year to the horizon's end; that year is attr ``climmig_cumulative_from_year``),
        ``cost_per_person_averted`` (their ratio; NaN where nothing is averted), ``baseline_displacement``, ``prob_benefit`` (share of samples with averted > 0) and
        ``prob_best`` (intervention x scenario x horizon: share of samples in which the option averts
        the most over all regions; ties shared).

    Notes
    -----
    Effects enter as :math:`\Delta = Y(\text{baseline}) - Y(\text{variant})` per sample, so the
    uncertainty of the posterior, the climate models and the effect distributions is propagated jointly.
    Benefits are not discounted.
    """
    table = horizon_table(horizons)
    specs_all = [border_regime_spec(s) if isinstance(s, BorderRegimeChange) else s for s in specs]
    ids = [s.id for s in specs_all]
    if len(set(ids)) != len(ids):
        raise ConfigError(["intervention ids must be unique"])
    by_id = {s.id: s for s in specs_all}
    for pf in portfolios:
        unknown = [m for m in pf.members if m not in by_id]
        if unknown:
            raise ConfigError([f"portfolio {pf.id}: unknown members {unknown}"])
    if not specs_all:
        raise ConfigError(["give at least one intervention to compare"])
    currency, price_year = _check_currency(specs_all)
    seed = int(rng.integers(0, 2**32 - 1))
    n = baseline_state.n_samples
    draws = draw_effects(specs_all, n, seed)

    base = outcome_fn(baseline_state)
    if outcome_var is None:
        outcome_var = "expected_displacement" if "expected_displacement" in base else "displaced_persons"
    if outcome_var not in base:
        raise DataError(f"the outcome has no {outcome_var!r}; it has {sorted(base.data_vars)}")
    outcome_names = [outcome_var] + [k for k in _FLOWS if k in base]
    base_vals = {k: _outcome(base, k) for k in outcome_names}
    first_year = int(min(baseline_state.years))
    cum_table = [(name, first_year, end) for name, _, end in table]

    labels: list[tuple[str, str, str, str]] = []
    variants: list[tuple[str, list[InterventionSpec]]] = [(s.id, [s]) for s in specs_all]
    variants += [(pf.id, [by_id[m] for m in pf.members]) for pf in portfolios]

    def evaluate(variant: tuple[str, list[InterventionSpec]]) -> xr.Dataset:
        vid, members = variant
        logger.info("comparing %s", vid)
        if len(members) == 1:
            state = apply_intervention(baseline_state, members[0], draws[vid])
        else:
            state = apply_portfolio(baseline_state, members, draws)
        out = outcome_fn(state)
        averted = base_vals[outcome_var] - _outcome(out, outcome_var)
        cost = sum(discounted_cost(baseline_state, m, comparison_spec) for m in members)
        cost = cost.sum([d for d in cost.dims if d not in averted.dims])
        cost = cost.broadcast_like(averted).transpose(*averted.dims)
        row = {
            "averted_displacement": horizon_sum(averted, table),
            "discounted_cost": horizon_sum(cost, table),
        }
        cum_cost = horizon_sum(cost, cum_table)
        cum_av = horizon_sum(averted, cum_table)
        start = row["averted_displacement"]["horizon_start"]
        row["cumulative_cost"] = cum_cost.assign_coords(horizon_start=start)
        row["cumulative_averted"] = cum_av.assign_coords(horizon_start=start)
        row["cost_per_person_averted"] = (cum_cost / cum_av.where(cum_av > 0)).assign_coords(horizon_start=start)
        for k in outcome_names[1:]:
            row[_FLOWS[k]] = horizon_sum(base_vals[k] - _outcome(out, k), table)
        return xr.Dataset(row)

    # variants are independent and the outcome function is deterministic in its state, so evaluating them in
    # threads gives exactly the sequential result (in the variants' order); numpy releases the GIL in the
    # heavy array work
    if max_workers > 1 and len(variants) > 1:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            rows = list(pool.map(evaluate, variants))
    else:
        rows = [evaluate(v) for v in variants]
    for vid, members in variants:
        timescales = sorted({m.timescale for m in members})
        labels.append((vid, members[0].kind if len(members) == 1 else "portfolio", "+".join(timescales),
                       " + ".join(m.id for m in members)))

    ds = xr.concat(rows, dim="intervention", coords="minimal", compat="override", join="outer")
    ds = ds.assign_coords(
        intervention=("intervention", [lab[0] for lab in labels]),
        kind=("intervention", [lab[1] for lab in labels]),
        timescale=("intervention", [lab[2] for lab in labels]),
        members=("intervention", [lab[3] for lab in labels]),
    )
    ds["baseline_displacement"] = horizon_sum(base_vals[outcome_var], table)
    ds = ds.map(pool_samples) if "climate_model" in ds.dims else ds
    ds = ds.transpose("intervention", "sample", "scenario", "horizon", "region", ...)

    ds["prob_benefit"] = (ds["averted_displacement"] > 0).mean("sample")
    score = ds["averted_displacement"].sum("region")
    if comparison_spec.metric == "displacement_and_migration":
        for k in ("averted_cross_border", "averted_internal"):
            if k in ds:
                score = score + ds[k].sum("region")
    best = score == score.max("intervention")
    ds["prob_best"] = (best / best.sum("intervention")).mean("sample")
    _attrs(ds, currency, price_year, comparison_spec, outcome_var)
    ds.attrs["climmig_cumulative_from_year"] = first_year
    return ds


def _attrs(ds: xr.Dataset, currency: str, price_year: int | None, cmp: ComparisonSpec, outcome_var: str) -> None:
    people = {"units": "1"}
    ds["averted_displacement"].attrs = {**people, "long_name": "displacement averted in the horizon (people)"}
    if "averted_cross_border" in ds:
        ds["averted_cross_border"].attrs = {**people, "long_name": "cross-border migrants averted in the horizon"}
    if "averted_internal" in ds:
        ds["averted_internal"].attrs = {**people, "long_name": "internal migrants averted in the horizon"}
    ds["baseline_displacement"].attrs = {**people, "long_name": "people displaced without intervention"}
    money = {"units": currency, "currency": currency, "discount_rate": cmp.discount_rate,
             "base_year": cmp.base_year}
    if price_year is not None:
        money["price_year"] = price_year
    ds["discounted_cost"].attrs = {**money, "long_name": "discounted cost incurred in the horizon"}
    ds["cumulative_cost"].attrs = {**money, "long_name": "discounted cost from the first projection year to "
                                                         "the horizon's end"}
    ds["cumulative_averted"].attrs = {**people, "long_name": "people displaced averted from the first "
                                                             "projection year to the horizon's end"}
    ds["cost_per_person_averted"].attrs = {
        **money, "units": f"{currency} per person",
        "long_name": "discounted cost per displacement averted, from the first projection year to the "
                     "horizon's end (NaN where nothing is averted)"}
    ds["prob_benefit"].attrs = {"units": "1", "long_name": "probability that displacement is averted"}
    ds["prob_best"].attrs = {"units": "1", "long_name": f"probability of averting the most ({cmp.metric})"}
    ds["intervention"].attrs.update(long_name="intervention or portfolio")
    ds["kind"].attrs.update(long_name="intervention kind (portfolio for combinations)")
    ds["timescale"].attrs.update(long_name="timescale(s) on which the option acts")
    ds["members"].attrs.update(long_name="interventions applied jointly")
    ds["sample"].attrs.update(long_name="pooled sample (climate model x posterior draw)")
    ds.attrs.update(
        climmig_sampling_design="sample = climate_model x posterior draw (full cross product); effect draw "
                                "i is paired with posterior draw i; common random numbers across options",
        climmig_metric=cmp.metric,
        climmig_outcome_var=outcome_var,
    )

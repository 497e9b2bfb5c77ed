"""Compare interventions and portfolios under uncertainty: outcomes, costs and the equal-budget ranking."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import xarray as xr

from climmig.config.schema_policy import BorderRegimeChange, ComparisonSpec, InterventionSpec, PortfolioSpec
from climmig.errors import ConfigError, DataError
from climmig.interventions.apply import apply_intervention, apply_portfolio, draw_effects, draw_extra_effects
from climmig.interventions.costs import annual_cost, cost_draws, discount_factor, people_relocated
from climmig.interventions.evidence import (
    COST_PARTS,
    basis_of,
    cost_basis,
    effect_basis,
    evacuation_share_draws,
)
from climmig.interventions.long_term_kinds import border_regime_spec
from climmig.interventions.outcomes import OUTCOMES, outcome_parts
from climmig.interventions.state import ProjectionState
from climmig.projection.uncertainty import horizon_sum, horizon_table

__all__ = ["compare_interventions", "cost_effectiveness_frontier", "in_budget_ranking", "pool_samples"]

logger = logging.getLogger(__name__)

OutcomeFn = Callable[[ProjectionState], xr.Dataset]
_FLOWS = {"cross_border_migration": "migration_change_cross_border", "internal_migration": "migration_change_internal"}


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


def _outcome(ds: xr.Dataset, name: str, keep_hazard: bool = False) -> xr.DataArray:
    da = ds[name]
    if "hazard" in da.dims and not keep_hazard:
        da = da.sum("hazard", keep_attrs=True)
    missing = {"sample", "scenario", "year", "region"} - set(da.dims)
    if missing:
        raise DataError(f"outcome {name} lacks dimension(s) {sorted(missing)} (dims {da.dims})")
    return da


def _parts(ds: xr.Dataset, name: str, state: ProjectionState, share: xr.DataArray | None) -> dict[str, xr.DataArray]:
    """The displacement outcomes summed over hazards; without a hazard dim everything is "recorded"."""
    da = _outcome(ds, name, keep_hazard=True)
    if "hazard" not in da.dims or share is None:
        # no hazard to split by: every displacement counts as without warning, and warning-type options
        # (which act per hazard) cannot show their effect
        if state.unwarned_multiplier is not None:
            logger.warning("the outcome has no hazard dim: the effect of warning-type options is not shown")
        tot = da.sum("hazard") if "hazard" in da.dims else da
        return {"recorded_displacement": tot, "preemptive_evacuations": tot * 0.0, "unwarned_displacement": tot}
    parts = outcome_parts(da, state, share)
    return {k: parts[k].sum("hazard") for k in OUTCOMES}


def _check_currency(specs: Sequence[InterventionSpec]) -> tuple[str, int | None]:
    costed = {(s.cost.currency, s.cost.price_year) for s in specs if s.cost is not None}
    if len(costed) > 1:
        raise ConfigError([f"interventions mix currencies/price years {sorted(costed)}; express all costs in "
                           "one currency and price year"])
    return next(iter(costed)) if costed else ("USD", None)


def in_budget_ranking(spec: InterventionSpec) -> bool:
    """Whether an option enters the equal-budget ranking of local options.

    Options without a cost, and scenario changes (mitigation, income growth) without a ``cost_share``, are
    kept out: they are shown on their own line ("what the scenario change is worth").

    Parameters
    ----------
    spec : InterventionSpec
        Intervention.

    Returns
    -------
    bool
    """
    if spec.cost is None:
        return False
    return not spec.scenario_change or spec.cost_share is not None


def _describe(vid: str, members: list[InterventionSpec]) -> dict[str, Any]:
    """Labels of an option (or portfolio): kind, governance, evidence basis, declared moves."""
    one = members[0] if len(members) == 1 else None

    def join(values: Iterable[Any]) -> str:
        vals = sorted({str(v) for v in values if v not in (None, "")})
        return " + ".join(vals) if vals else "unspecified"

    eb = [effect_basis(m) for m in members]
    cb = [cost_basis(m) for m in members]
    worst = next((b for b in ("assumption", "sourced", "definition", "none") if b in eb), "none")
    cworst = next((b for b in ("assumption", "sourced", "definition", "none") if b in cb), "none")
    effect_src = []
    for m in members:
        for name, d in [("effect", m.effect), *m.effects.items()]:
            if d is not None:
                effect_src.append(f"{m.id} {name} [{basis_of(d.source)}]: {d.source or 'no source'}")
    cost_src = []
    for m in members:
        if m.cost is None:
            continue
        for field in COST_PARTS.values():
            v = getattr(m.cost, field)
            if hasattr(v, "dist") or float(v) != 0.0:
                src = (v.source if hasattr(v, "dist") else None) or m.cost.source
                cost_src.append(f"{m.id} {field} [{basis_of(src)}]: {src or 'no source'}")
    moves = "; ".join(f"{k}: {v}" for k, v in (one.moves.items() if one is not None else []))
    return {
        "intervention": vid,
        "kind": one.kind if one is not None else "portfolio",
        "timescale": "+".join(sorted({m.timescale for m in members})),
        "members": " + ".join(m.id for m in members),
        "evidence": join(m.evidence for m in members),
        "level": join(m.level for m in members),
        "financier": join(m.financier for m in members),
        "good": join(m.good for m in members),
        "scenario_change": any(m.scenario_change for m in members),
        "in_budget_ranking": all(in_budget_ranking(m) for m in members),
        "effect_basis": worst,
        "cost_basis": cworst,
        "effect_sources": "\n".join(effect_src),
        "cost_sources": "\n".join(cost_src),
        "moves": moves,
    }


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
    evacuation_share: xr.DataArray | None = None,
) -> xr.Dataset:
    r"""Displacement averted by outcome, migration change, costs and the equal-budget ranking of options.

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
        Discount rate, base year, the outcome ranking the options (``metric``), the equal ``budget`` and
        whether relocations count against an option.
    rng : numpy.random.Generator
        Source of the seed for effect and cost draws (each intervention then draws from its own stream).
    outcome_var : str, optional
        Outcome variable measuring displacement. Default: ``"expected_displacement"`` when the outcome
        has it (expected value per posterior draw), else ``"displaced_persons"``.
    max_workers : int
        Threads evaluating the options concurrently (``outcome_fn`` must then be thread-safe); the result
        does not depend on it.
    evacuation_share : xr.DataArray, optional
        Share of recorded displacement that is pre-emptive evacuation, dims (sample, hazard); default drawn
        from the evidence table (:func:`~climmig.interventions.evidence.evacuation_share_draws`).

    Returns
    -------
    xr.Dataset
        Dims ``intervention`` x ``sample`` x ``scenario`` x ``horizon`` x ``region`` where ``sample`` pools
        climate models and posterior draws (coordinates ``climate_model`` and ``draw``):

        - ``averted_recorded``, ``averted_unwarned`` (people, summed over the horizon's years),
          ``evacuation_change`` (variant minus baseline: positive = more evacuations) and
          ``people_relocated`` (people moved by planned relocation);
        - ``averted_displacement``: the averted ``metric`` outcome, less the people relocated when
          ``count_relocations`` (the quantity ranked);
        - ``migration_change_internal``, ``migration_change_cross_border`` (variant minus baseline, when the
          outcome has them): reported on their own, never added to displacement nor called a benefit;
        - ``discounted_cost`` (cost in the horizon's years discounted to ``base_year``),
          ``cumulative_cost`` (discounted) and ``cumulative_cost_undiscounted``, ``cumulative_averted``
          (undiscounted) and ``cumulative_averted_discounted``, all from the first projection year to the
          horizon's end; ``cost_per_person_averted`` (discounted cost over discounted averted: the same rate
          for both) and ``cost_per_person_averted_undiscounted``;
        - ``baseline_<outcome>`` for each displacement outcome;
        - ``prob_benefit`` (share of samples with ``averted_displacement`` > 0), ``prob_most_averted`` (share
          in which an option averts the most, ignoring cost), ``averted_at_budget`` and ``prob_best`` (the
          equal-budget ranking among options with ``in_budget_ranking``; NaN for the others), ``budget``
          (horizon).

        Coordinates on ``intervention``: ``kind``, ``timescale``, ``members``, ``evidence``, ``level``,
        ``financier``, ``good``, ``scenario_change``, ``in_budget_ranking``, ``effect_basis`` and
        ``cost_basis`` (``"assumption"`` where a value has no source), ``effect_sources``,
        ``cost_sources`` and ``moves``.

    Notes
    -----
    Effects enter as :math:`\Delta = Y(\text{baseline}) - Y(\text{variant})` per sample, so the uncertainty
    of the posterior, the climate models, the effect distributions and the cost distributions is propagated
    jointly. Costs and benefits are discounted at the same rate :math:`r` to ``base_year``. At budget
    :math:`B` an option with cumulative discounted cost :math:`C` and discounted averted displacement
    :math:`A` is funded at scale :math:`f = \min(1, B / C)` and averts :math:`f A` (linear scaling: an
    option cannot grow beyond its configured size, and smaller budgets buy proportionally less of it).
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
    extra = draw_extra_effects(specs_all, n, seed)
    costs = {s.id: cost_draws(s, n, seed) for s in specs_all}

    base = outcome_fn(baseline_state)
    if outcome_var is None:
        outcome_var = "expected_displacement" if "expected_displacement" in base else "displaced_persons"
    if outcome_var not in base:
        raise DataError(f"the outcome has no {outcome_var!r}; it has {sorted(base.data_vars)}")
    if evacuation_share is None and "hazard" in base[outcome_var].dims:
        evacuation_share = evacuation_share_draws([str(h) for h in base[outcome_var]["hazard"].values],
                                                  baseline_state.samples, seed)
    flows = [k for k in _FLOWS if k in base]
    base_parts = _parts(base, outcome_var, baseline_state, evacuation_share)
    base_flows = {k: _outcome(base, k) for k in flows}
    first_year = int(min(baseline_state.years))
    cum_table = [(name, first_year, end) for name, _, end in table]
    df = discount_factor(baseline_state.years, comparison_spec.discount_rate, comparison_spec.base_year)
    metric = comparison_spec.metric

    variants: list[tuple[str, list[InterventionSpec]]] = [(s.id, [s]) for s in specs_all]
    variants += [(pf.id, [by_id[m] for m in pf.members]) for pf in portfolios]

    def evaluate(variant: tuple[str, list[InterventionSpec]]) -> xr.Dataset:
        vid, members = variant
        logger.info("comparing %s", vid)
        if len(members) == 1:
            state = apply_intervention(baseline_state, members[0], draws[vid], extra.get(vid))
        else:
            state = apply_portfolio(baseline_state, members, draws, extra)
        out = outcome_fn(state)
        parts = _parts(out, outcome_var, state, evacuation_share)
        dims = base_parts["recorded_displacement"].dims
        av = {k: (base_parts[k] - parts[k]) for k in OUTCOMES}
        moved = sum(people_relocated(baseline_state, m) for m in members)
        ranked = av[metric] - moved if comparison_spec.count_relocations else av[metric]
        ranked = ranked.transpose(*[d for d in dict.fromkeys((*dims, *ranked.dims)) if d in ranked.dims])
        cost = sum(annual_cost(baseline_state, m, costs[m.id]) for m in members)
        cost = cost.sum([d for d in cost.dims if d not in ranked.dims])
        cost = cost.broadcast_like(ranked).transpose(*ranked.dims)
        dcost = cost * df
        dav = ranked * df
        row = {
            "averted_displacement": horizon_sum(ranked, table),
            "averted_recorded": horizon_sum(av["recorded_displacement"], table),
            "averted_unwarned": horizon_sum(av["unwarned_displacement"], table),
            "evacuation_change": horizon_sum(-av["preemptive_evacuations"], table),
            "people_relocated": horizon_sum((moved * xr.ones_like(ranked)).transpose(*ranked.dims), table),
            "discounted_cost": horizon_sum(dcost, table),
        }
        start = row["averted_displacement"]["horizon_start"]
        cum = {"cumulative_cost": horizon_sum(dcost, cum_table),
               "cumulative_cost_undiscounted": horizon_sum(cost, cum_table),
               "cumulative_averted": horizon_sum(ranked, cum_table),
               "cumulative_averted_discounted": horizon_sum(dav, cum_table)}
        for k, v in cum.items():
            row[k] = v.assign_coords(horizon_start=start)
        pos = row["cumulative_averted_discounted"]
        row["cost_per_person_averted"] = row["cumulative_cost"] / pos.where(pos > 0)
        undisc = row["cumulative_averted"]
        row["cost_per_person_averted_undiscounted"] = row["cumulative_cost_undiscounted"] / undisc.where(undisc > 0)
        for k in flows:
            row[_FLOWS[k]] = horizon_sum(_outcome(out, k) - base_flows[k], table)
        return xr.Dataset(row)

    # variants are independent and the outcome function is deterministic in its state, so evaluating them in
    # threads gives exactly the sequential result (in the variants' order); numpy releases the GIL in the
    # heavy array work
    if max_workers > 1 and len(variants) > 1:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            rows = list(pool.map(evaluate, variants))
    else:
        rows = [evaluate(v) for v in variants]
    labels = [_describe(vid, members) for vid, members in variants]

    ds = xr.concat(rows, dim="intervention", coords="minimal", compat="override", join="outer")
    ds = ds.assign_coords({k: ("intervention", [lab[k] for lab in labels]) for k in labels[0]})
    for k in OUTCOMES:
        ds[f"baseline_{k}"] = horizon_sum(base_parts[k], table)
    ds["baseline_displacement"] = ds[f"baseline_{metric}"]
    ds = ds.map(pool_samples) if "climate_model" in ds.dims else ds
    ds = ds.transpose("intervention", "sample", "scenario", "horizon", "region", ...)

    ds["prob_benefit"] = (ds["averted_displacement"] > 0).mean("sample")
    score = ds["averted_displacement"].sum("region")
    best = score == score.max("intervention")
    ds["prob_most_averted"] = (best / best.sum("intervention")).mean("sample")
    ds = _budget_ranking(ds, comparison_spec.budget)
    _attrs(ds, currency, price_year, comparison_spec, outcome_var)
    ds.attrs["climmig_cumulative_from_year"] = first_year
    if evacuation_share is not None:
        ds.attrs["climmig_evacuation_share_sources"] = evacuation_share.attrs.get("sources", "")
    return ds


def _budget_ranking(ds: xr.Dataset, budget: float | None) -> xr.Dataset:
    """Averted displacement at an equal budget and the chance of being best there, among ranked options."""
    ranked = ds["in_budget_ranking"].astype(bool)
    cost = ds["cumulative_cost"].sum("region")
    av = ds["cumulative_averted_discounted"].sum("region")
    if budget is None:
        med = cost.where(ranked).median("sample").where(lambda c: c > 0)
        b = med.min(["intervention", "scenario"])
        note = "the smallest median cumulative cost among the ranked options (no budget configured)"
    else:
        b = xr.full_like(cost.isel(intervention=0, sample=0, scenario=0, drop=True), float(budget))
        note = "configured (comparison.budget)"
    scale = xr.where(cost > 0, np.minimum(1.0, b / cost.where(cost > 0)), 1.0)
    at_b = (scale * av).where(ranked)
    best = at_b == at_b.max("intervention")
    share = (best / best.sum("intervention")).where(ranked)
    ds["budget"] = b.drop_vars([c for c in b.coords if c not in ("horizon", "horizon_start", "horizon_end")])
    ds["budget"].attrs = {"long_name": "equal budget of the ranking (discounted, first year to horizon end)",
                          "climmig_budget_rule": note}
    ds["averted_at_budget"] = at_b.transpose("intervention", "sample", "scenario", "horizon")
    ds["prob_best"] = share.mean("sample").where(ranked)
    ds["averted_per_million"] = (av / cost.where(cost > 0) * 1e6).transpose("intervention", "sample", "scenario",
                                                                             "horizon")
    return ds


def cost_effectiveness_frontier(cost: Sequence[float], effect: Sequence[float]) -> list[str]:
    """Status of each option on the cost-effectiveness frontier: ``"frontier"`` or why it is dominated.

    Parameters
    ----------
    cost, effect : sequence of float
        Cost and effect (e.g. medians of discounted cost and discounted displacement averted) per option.

    Returns
    -------
    list of str
        ``"frontier"``; ``"dominated"`` (another option costs no more and averts no less, one of them
        strictly); ``"extendedly dominated"`` (a mix of two frontier options would avert more for the same
        cost: a higher cost per extra person averted than the next dearer option); ``"no benefit"``
        (averts nothing or less).

    Notes
    -----
    The standard construction: sort by cost, drop strongly dominated options, then drop options whose
    incremental cost-effectiveness ratio exceeds that of the next option until ratios increase.
    """
    c = np.asarray(cost, dtype=float)
    e = np.asarray(effect, dtype=float)
    status = ["frontier"] * len(c)
    for i in range(len(c)):
        if not np.isfinite(c[i]) or not np.isfinite(e[i]) or e[i] <= 0:
            status[i] = "no benefit"
            continue
        for j in range(len(c)):
            if j != i and np.isfinite(c[j]) and np.isfinite(e[j]) and c[j] <= c[i] and e[j] >= e[i] and (
                    c[j] < c[i] or e[j] > e[i]):
                status[i] = "dominated"
                break
    while True:
        live = sorted([i for i, s in enumerate(status) if s == "frontier"], key=lambda i: (c[i], e[i]))
        changed = False
        prev_c, prev_e, prev_ratio = 0.0, 0.0, -np.inf
        for a, i in enumerate(live):
            ratio = (c[i] - prev_c) / (e[i] - prev_e) if e[i] > prev_e else np.inf
            if ratio < prev_ratio and a > 0:
                status[live[a - 1]] = "extendedly dominated"
                changed = True
                break
            prev_c, prev_e, prev_ratio = c[i], e[i], ratio
        if not changed:
            return status


def _attrs(ds: xr.Dataset, currency: str, price_year: int | None, cmp: ComparisonSpec, outcome_var: str) -> None:
    people = {"units": "1"}
    relocated = ", net of relocations" if cmp.count_relocations else ""
    short = {"unwarned_displacement": "displacement without warning",
             "recorded_displacement": "recorded displacement"}[cmp.metric]
    ds["averted_displacement"].attrs = {
        **people, "climmig_outcome": cmp.metric, "long_name": f"{short} averted{relocated} (people)",
        "description": f"{OUTCOMES[cmp.metric]} averted in the horizon"
                       + (", less the people moved by planned relocation" if cmp.count_relocations else "")}
    ds["averted_recorded"].attrs = {**people, "long_name": "recorded displacement averted in the horizon"}
    ds["averted_unwarned"].attrs = {**people, "long_name": "displacement without prior warning averted in the horizon"}
    ds["evacuation_change"].attrs = {**people, "long_name": "change in pre-emptive evacuations in the horizon "
                                                            "(positive: more evacuations)"}
    ds["people_relocated"].attrs = {**people, "long_name": "people moved by planned relocation in the horizon"}
    for k in ("migration_change_internal", "migration_change_cross_border"):
        if k in ds:
            what = "internal" if k.endswith("internal") else "cross-border"
            ds[k].attrs = {**people, "long_name": f"change in {what} migration in the horizon (positive: more "
                                                  "migration; not a benefit or a harm in itself)"}
    for k, ln in OUTCOMES.items():
        ds[f"baseline_{k}"].attrs = {**people, "long_name": f"{ln} without intervention"}
    ds["baseline_displacement"].attrs = {**people, "long_name": f"{OUTCOMES[cmp.metric]} without intervention"}
    money = {"units": currency, "currency": currency, "discount_rate": cmp.discount_rate,
             "base_year": cmp.base_year}
    if price_year is not None:
        money["price_year"] = price_year
    ds["discounted_cost"].attrs = {**money, "long_name": "discounted cost incurred in the horizon"}
    ds["cumulative_cost"].attrs = {**money, "long_name": "discounted cost from the first projection year to "
                                                         "the horizon's end"}
    ds["cumulative_cost_undiscounted"].attrs = {**money, "discount_rate": 0.0,
                                                "long_name": "undiscounted cost from the first projection year "
                                                             "to the horizon's end"}
    ds["cumulative_averted"].attrs = {**people, "long_name": "displacement averted from the first projection "
                                                             "year to the horizon's end (undiscounted)"}
    ds["cumulative_averted_discounted"].attrs = {
        **people, "discount_rate": cmp.discount_rate, "base_year": cmp.base_year,
        "long_name": "displacement averted from the first projection year to the horizon's end, discounted at "
                     "the cost's rate"}
    ds["cost_per_person_averted"].attrs = {
        **money, "units": f"{currency} per person",
        "long_name": "discounted cost per discounted displacement averted (same rate), from the first "
                     "projection year to the horizon's end (NaN where nothing is averted)"}
    ds["cost_per_person_averted_undiscounted"].attrs = {
        **money, "discount_rate": 0.0, "units": f"{currency} per person",
        "long_name": "undiscounted cost per displacement averted, from the first projection year to the "
                     "horizon's end"}
    ds["budget"].attrs.update(units=currency, currency=currency)
    ds["averted_at_budget"].attrs = {**people, "long_name": "discounted displacement averted at the equal budget"}
    ds["averted_per_million"].attrs = {"units": f"people per million {currency}",
                                       "long_name": "discounted displacement averted per million (discounted) "
                                                    f"{currency}"}
    ds["prob_benefit"].attrs = {"units": "1", "long_name": "probability that displacement is averted"}
    ds["prob_most_averted"].attrs = {"units": "1", "long_name": "probability of averting the most, whatever the "
                                                                "cost"}
    ds["prob_best"].attrs = {"units": "1", "long_name": "probability of averting the most at the equal budget "
                                                        "(ranked options only)"}
    ds["intervention"].attrs.update(long_name="intervention or portfolio")
    ds["kind"].attrs.update(long_name="intervention kind (portfolio for combinations)")
    ds["timescale"].attrs.update(long_name="timescale(s) on which the option acts")
    ds["members"].attrs.update(long_name="interventions applied jointly")
    ds["effect_basis"].attrs.update(long_name="weakest backing of the option's effects (assumption: no source)")
    ds["cost_basis"].attrs.update(long_name="weakest backing of the option's costs (assumption: no source)")
    ds["sample"].attrs.update(long_name="pooled sample (climate model x posterior draw)")
    ds.attrs.update(
        climmig_sampling_design="sample = climate_model x posterior draw (full cross product); effect and cost "
                                "draw i are paired with posterior draw i; common random numbers across options",
        climmig_metric=cmp.metric,
        climmig_outcome_var=outcome_var,
        climmig_discounting=f"costs and benefits at {cmp.discount_rate} a year to {cmp.base_year}",
    )

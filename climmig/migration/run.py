"""What a run needs from the all-country migration models: fit them, build their projection drivers, summarise.

The pipeline (:mod:`climmig.pipeline.stages`) calls these; each reads through the catalog only. The
cross-border fit itself is :class:`climmig.migration.lifecycle.MigrationModel`; the PRMN and UNHCR fits are
:class:`~climmig.migration.lifecycle_datasets.InternalClimateModel` and
:class:`~climmig.migration.lifecycle_datasets.ForcedDisplacementModel`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.migration.gravity import is_gravity_fit

__all__ = ["corridor_summary", "gravity_coefficients", "gravity_gate", "is_gravity_fit",
           "fit_forced_for_run", "fit_internal_climate_for_run", "projection_flow_drivers", "run_internal_draws", "study_flood_rate",
           "write_corridor_outputs", "write_forced_outputs"]

logger = logging.getLogger(__name__)


def gravity_gate(idata: Any) -> tuple[bool, str]:
    """Whether the Laplace fit converged, and a one-line summary (the convergence gate of this model)."""
    f = json.loads(idata.posterior.attrs["gravity_fit"])
    ok = bool(f["converged"])
    text = (f"Laplace fit {'converged' if ok else 'did NOT converge'} in {f['iterations']} iterations "
            f"(Newton decrement {f['grad_norm']:.1e}, smallest eigenvalue of the information "
            f"{f['min_eigenvalue']:.2g}); {f['n_rows']:,} pair-periods, NB shape {f['alpha']:.3f}")
    return ok, text


def gravity_coefficients(idata: Any) -> pd.DataFrame:
    """Posterior mean, sd and 90 % interval of the coefficients, period effects, shape and sigmas."""
    post = idata.posterior
    rows = []
    for name, values in [*((f"beta[{c}]", post["grav_beta"].sel(coef=c)) for c in post["coef"].values),
                         *((f"period_effect[{p}]", post["grav_period_effect"].sel(period=p))
                           for p in post["period"].values),
                         ("alpha", post["grav_alpha"]),
                         *((("alpha_power", post["grav_alpha_power"]),) if "grav_alpha_power" in post else ()),
                         ("sigma_origin", post["grav_sigma_origin"]),
                         ("sigma_destination", post["grav_sigma_destination"])]:
        v = np.asarray(values).ravel()
        rows.append({"parameter": name, "mean": v.mean(), "sd": v.std(), "q05": np.quantile(v, 0.05),
                     "q95": np.quantile(v, 0.95)})
    return pd.DataFrame(rows).set_index("parameter")


def study_flood_rate(catalog: Any, countries: Sequence[str], boundaries_id: str, years: Sequence[int]) -> pd.Series:
    """Flood displacement per 1000 people per year of the study countries over ``years`` (DFO archive)."""
    from climmig.migration.flows_panel import flood_stress_rate
    from climmig.migration.geography import FALLBACK_BOUNDARIES

    pop = catalog.open("wdi_population")
    p = pop[pop["year"].isin(list(years))].groupby("iso3")["population"].mean().reindex(list(countries))
    bounds = catalog.open(FALLBACK_BOUNDARIES[0]) if FALLBACK_BOUNDARIES[0] in catalog.ids() else \
        catalog.open(boundaries_id)
    return flood_stress_rate(catalog.open("dfo_flood_archive"), bounds, p, years)


def projection_flow_drivers(catalog: Any, cfg: Any, idata: Any, exposure: xr.Dataset) -> xr.Dataset:
    """Drivers of :func:`climmig.migration.corridors.predict_corridors` for a run.

    Destinations outside the study area are held at their WDI values of the config's last historical year and
    the latest UN DESA stock; the study area's flood-stress baseline is the DFO rate over the last 5 years of
    the archive (2015-2019).

    Parameters
    ----------
    catalog : ResolvedCatalog
    cfg : RunConfig
    idata : az.InferenceData
        The gravity fit (its countries are the destinations).
    exposure : xr.Dataset
        The exposure stage output.

    Returns
    -------
    xr.Dataset
    """
    from climmig.migration.corridors import corridor_drivers, fixed_destinations
    from climmig.migration.flows_panel import available_boundaries
    from climmig.migration.geography import FALLBACK_BOUNDARIES, country_geography

    mig = cfg.mobility.migration
    regions = [str(r) for r in exposure["region"].values]
    countries = [str(c) for c in idata.posterior["country"].values]
    bounds = [catalog.open(cfg.study_area.boundaries)]
    bounds += [catalog.open(b) for b in FALLBACK_BOUNDARIES if b in catalog.ids() and b != cfg.study_area.boundaries]
    allc = list(dict.fromkeys([*regions, *countries]))
    geo = country_geography(bounds, available_boundaries(bounds, allc))
    fixed = fixed_destinations(catalog, geo, catalog.open(mig.regimes), regions, countries,
                               year=int(cfg.period.historical.end), stocks_id=mig.stocks)
    dfo = catalog.open("dfo_flood_archive")
    last = int(pd.to_datetime(dfo["Began"], errors="coerce").dt.year.max())
    rate = study_flood_rate(catalog, regions, cfg.study_area.boundaries, range(last - 4, last + 1))
    out = corridor_drivers(exposure, fixed, rate)
    out.attrs.update(fixed.attrs)
    out.attrs["climmig_flood_rate_years"] = f"{last - 4}-{last}"
    return out


def corridor_summary(flows: xr.Dataset, horizons: Sequence[Any], quantiles: Sequence[float]) -> pd.DataFrame:
    """Quantiles of each corridor's mean annual flow per horizon (over draws and climate models).

    Parameters
    ----------
    flows : xr.Dataset
        ``corridor_flow`` (sample, scenario, climate_model, year, origin, corridor) from
        :func:`climmig.migration.corridors.predict_corridors`.
    horizons : sequence of HorizonSpec
        ``name``, ``start``, ``end``.
    quantiles : sequence of float
        Quantiles reported.

    Returns
    -------
    pandas.DataFrame
        One row per scenario, horizon, origin and corridor (plus ``origin = "study area"``): ``q...`` columns
        (people per year), ``share_of_emigration`` (median share of the origin's emigration).
    """
    fl = flows["corridor_flow"]
    fl = xr.concat([fl, fl.sum("origin").expand_dims(origin=["study area"])], dim="origin")
    frames = []
    for h in horizons:
        m = fl.sel(year=slice(h.start, h.end)).mean("year")
        stacked = m.stack(s=("sample", "climate_model"))
        q = stacked.quantile(list(quantiles), dim="s")
        share = (stacked / stacked.sum("corridor").where(stacked.sum("corridor") > 0)).median("s")
        df = q.to_dataframe(name="v").reset_index().pivot_table(
            index=["scenario", "origin", "corridor"], columns="quantile", values="v").reset_index()
        df.columns = [c if isinstance(c, str) else f"q{c:g}" for c in df.columns]
        df = df.merge(share.to_dataframe(name="share_of_emigration").reset_index(), on=["scenario", "origin", "corridor"])
        df.insert(1, "horizon", h.name)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def write_corridor_outputs(models: Any, ctx: Any, lines: list[str]) -> list[str]:
    """Project the baseline's corridor flows (one scenario at a time) and write their summaries.

    Writes ``projection/migration_corridors.csv`` (:func:`corridor_summary`) and
    ``projection/migration_corridors.nc`` (horizon-mean corridor flows per draw and climate model); appends
    headline lines for the last horizon's main corridors.

    Parameters
    ----------
    models : climmig.projection.FittedRun
        The run's fitted models (migration fit, flow drivers, regimes, samples, seed, internal draws).
    ctx : RunContext
        For paths, config and provenance.
    lines : list of str
        Headline lines (appended to).

    Returns
    -------
    list of str
        Output paths relative to the run directory.
    """
    from climmig.io.writers import atomic_path, write_netcdf
    from climmig.migration.model import predict_flows
    from climmig.provenance import stamp

    cfg = ctx.cfg
    horizons = cfg.horizons
    fd = models.flow_drivers
    per = []
    for sc in cfg.scenarios:
        res = predict_flows(models.migration_fit, fd.sel(scenario=[sc]), models.regimes, samples=models.samples,
                            seed=models.seed, internal=models.internal_draws(), corridors=models.corridors)
        hm = xr.concat([res["corridor_flow"].sel(year=slice(h.start, h.end)).mean("year") for h in horizons],
                       dim=pd.Index([h.name for h in horizons], name="horizon"))
        per.append((res, hm))
    flows = xr.concat([r["corridor_flow"] for r, _ in per], dim="scenario")
    table = corridor_summary(xr.Dataset({"corridor_flow": flows}), horizons, cfg.projection.quantiles)
    with atomic_path(ctx.path("projection", "migration_corridors.csv")) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4g")
    hm = xr.concat([h for _, h in per], dim="scenario").astype("float32")
    attrs = dict(per[0][0].attrs)
    ds = xr.Dataset({"corridor_flow_horizon_mean": hm.assign_attrs(
        units="1", long_name="people migrating from origin to the corridor per year, horizon mean",
        cell_methods="year: mean")}, attrs=attrs)
    ds["corridor_members"] = per[0][0]["corridor_members"]
    ds = stamp(ds, "projection: cross-border migration by corridor (all-country gravity model)", ctx.cfg_hash,
               cfg.seed)
    write_netcdf(ds, ctx.path("projection", "migration_corridors.nc"))
    last = horizons[-1].name
    sc = cfg.scenarios[len(cfg.scenarios) // 2]
    sub = table[(table["horizon"] == last) & (table["scenario"] == sc) & (table["origin"] == "study area")]
    top = sub.sort_values("q0.5", ascending=False).head(5) if "q0.5" in sub else sub.head(0)
    if len(top):
        lines.append(f"main emigration corridors from the study area, {last}, {sc} (median people/yr): "
                     + "; ".join(f"{r['corridor']} {r['q0.5']:,.0f}" for _, r in top.iterrows()))
    above = int(attrs.get("climmig_draws_above_observed_max", 0))
    if above:
        lines.append(f"note: {above} of {attrs.get('climmig_draws_total')} draws of yearly emigration exceed the "
                     f"highest rate observed in the flow data ({float(attrs['climmig_max_observed_emigration_rate']):.2%}"
                     " of the population per year); they are kept (no cap)")
    return ["projection/migration_corridors.csv", "projection/migration_corridors.nc"]


def fit_internal_climate_for_run(ctx: Any, headline: list[str]) -> list[str]:
    """Fit the PRMN climate elasticity, or reuse the saved fit whose signature matches; write its tables.

    Through :class:`~climmig.migration.lifecycle_datasets.InternalClimateModel` (``fits/internal_climate.nc``);
    the prior/posterior table, the observations and the headline line come from the fit, new or reused.
    """
    from climmig.io.writers import atomic_path
    from climmig.migration.internal_climate import elasticity_table
    from climmig.migration.lifecycle_datasets import InternalClimateModel

    model = InternalClimateModel(ctx.cfg).calibrate(ctx.catalog, path=ctx.path("fits", "internal_climate.nc"),
                                                    reuse=True)
    fit, series = model.idata, model.data
    table = elasticity_table(fit)
    with atomic_path(ctx.path("fits", "internal_climate_prior_posterior.csv")) as tmp:
        table.to_csv(tmp, index=False, float_format="%.5g")
    with atomic_path(ctx.path("fits", "internal_climate_observations.csv")) as tmp:
        series.to_csv(tmp, index=False)
    b = table[(table["parameter"] == "climate_elasticity")].set_index("distribution")
    headline.append(f"internal climate elasticity (PRMN Somalia, {fit.attrs['n_obs']} reason-years, ESS "
                    f"{fit.attrs['ess']}): posterior median {b.loc['posterior', 'q50']:.2f} (90 % "
                    f"{b.loc['posterior', 'q05']:.2f} to {b.loc['posterior', 'q95']:.2f}); prior median "
                    f"{b.loc['prior', 'q50']:.2f} ({b.loc['prior', 'q05']:.2f} to {b.loc['prior', 'q95']:.2f})"
                    + model.cache_note)
    return ["fits/internal_climate.nc", "fits/internal_climate_prior_posterior.csv",
            "fits/internal_climate_observations.csv"]


def run_internal_draws(paths: Mapping[str, Any], samples: int, seed: int) -> xr.Dataset:
    """Internal parameter draws for projections: PRMN posterior elasticity when its fit exists, else priors."""
    from climmig.migration.internal_climate import internal_draws_with_climate_posterior

    p = paths.get("internal_climate")
    fit = xr.load_dataset(p) if p is not None and p.exists() else None
    return internal_draws_with_climate_posterior(fit, samples, seed, paths.get("internal_priors") or None)


def fit_forced_for_run(ctx: Any, headline: list[str]) -> list[str]:
    """Fit the UNHCR forced-displacement model, or reuse the saved fit whose signature matches; write its coefficients.

    Through :class:`~climmig.migration.lifecycle_datasets.ForcedDisplacementModel`
    (``fits/forced_displacement.nc``); the coefficient table and the headline line come from the fit, new or
    reused.
    """
    from climmig.io.writers import atomic_path
    from climmig.migration.lifecycle_datasets import ForcedDisplacementModel

    model = ForcedDisplacementModel(ctx.cfg).calibrate(ctx.catalog, path=ctx.path("fits", "forced_displacement.nc"),
                                                       reuse=True)
    fit = model.idata
    q = fit["beta"].quantile([0.05, 0.5, 0.95], "sample").to_pandas().T
    with atomic_path(ctx.path("fits", "forced_displacement_coefficients.csv")) as tmp:
        q.to_csv(tmp, float_format="%.4g")
    d = q.loc["disaster_z"]
    headline.append(f"forced displacement abroad (UNHCR, {fit.attrs['n_rows']} origin-years): disaster-displacement "
                    f"coefficient {d[0.5]:+.3f} (90 % {d[0.05]:+.3f} to {d[0.95]:+.3f}) per sd; conflict not modelled"
                    + model.cache_note)
    return ["fits/forced_displacement.nc", "fits/forced_displacement_coefficients.csv"]


def write_forced_outputs(models: Any, ctx: Any, lines: list[str]) -> list[str]:
    """Project forced displacement abroad from the study area and split it over the UNHCR corridors."""
    from climmig.io.writers import atomic_path, write_netcdf
    from climmig.migration.corridors import DEFAULT_CORRIDORS
    from climmig.migration.forced import corridor_shares, predict_forced
    from climmig.provenance import stamp

    path = ctx.path("fits", "forced_displacement.nc")
    if not path.exists():
        return []
    cfg = ctx.cfg
    fit = xr.load_dataset(path)
    fd = models.flow_drivers
    regions = [str(r) for r in fd["population"]["region"].values]
    ev = ctx.catalog.open("idmc_gidd_weather_events")
    col = "Disaster Internal Displacements (Raw)"
    pop = ctx.catalog.open("wdi_population")
    yrs = sorted(int(y) for y in ev["year"].dropna().unique())
    tot = pd.to_numeric(ev[col], errors="coerce").groupby(ev["iso3"]).sum().reindex(regions).fillna(0.0)
    p = pop[pop["year"].isin(yrs)].groupby("iso3")["population"].mean().reindex(regions)
    base = 1000 * tot / len(yrs) / p
    out = predict_forced(fit, fd, base, samples=models.samples, seed=models.seed + 17)
    corr = {k: tuple(v) for k, v in cfg.mobility.migration.corridors.items()} or DEFAULT_CORRIDORS
    arrivals = ctx.catalog.open("unhcr_new_arrivals")
    shares = corridor_shares(arrivals, regions, range(2013, 2023), corr, regions)
    ds = xr.Dataset({"forced_displacement_abroad": out.astype("float32")},
                    attrs={"climmig_conflict": fit.attrs.get("conflict", ""),
                           "climmig_corridor_shares": "UNHCR new arrivals 2013-2022 by corridor (fixed)"})
    ds = stamp(ds, "projection: cross-border forced displacement (UNHCR-fitted, conflict at its 2009-2022 average)",
               ctx.cfg_hash, cfg.seed)
    write_netcdf(ds, ctx.path("projection", "forced_displacement_abroad.nc"))
    rows = []
    for h in cfg.horizons:
        m = out.sel(year=slice(h.start, h.end)).mean("year")
        for sc in m["scenario"].values:
            for r in regions + ["study area"]:
                v = m.sel(scenario=sc).sum("region") if r == "study area" else m.sel(scenario=sc, region=r)
                q = np.quantile(v.values, [0.05, 0.5, 0.95])
                row = {"scenario": str(sc), "horizon": h.name, "origin": r, "q0.05": q[0], "q0.5": q[1],
                       "q0.95": q[2]}
                if r != "study area":
                    row.update({f"median_to_{c}": q[1] * s for c, s in shares.loc[r].items()})
                rows.append(row)
    table = pd.DataFrame(rows)
    with atomic_path(ctx.path("projection", "forced_displacement_abroad.csv")) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4g")
    with atomic_path(ctx.path("projection", "forced_displacement_corridor_shares.csv")) as tmp:
        shares.to_csv(tmp, float_format="%.4f")
    last, sc = cfg.horizons[-1].name, cfg.scenarios[len(cfg.scenarios) // 2]
    r = table[(table["horizon"] == last) & (table["scenario"] == sc) & (table["origin"] == "study area")].iloc[0]
    lines.append(f"forced displacement abroad from the study area, {last}, {sc}: median {r['q0.5']:,.0f} people/yr "
                 f"(90 % {r['q0.05']:,.0f}-{r['q0.95']:,.0f}); conflict held at its 2009-2022 average")
    return ["projection/forced_displacement_abroad.nc", "projection/forced_displacement_abroad.csv",
            "projection/forced_displacement_corridor_shares.csv"]

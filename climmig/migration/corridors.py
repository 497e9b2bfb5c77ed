"""Cross-border flows from the study area to every destination, grouped into named corridors.

The all-country gravity fit (:mod:`climmig.migration.gravity`) predicts the flow from a study-area origin
:math:`o` to every country :math:`d` of the world. Its log mean splits into an origin part that changes with
scenario, climate model and year (population, income, climate stress), and a destination-pair part:

.. math::

    \\log\\mu_{od}(s, m, y) = A_o(s, m, y) + B_{od}(y)

For destinations outside the study area the covariates are held at their latest WDI values and the 2015
migrant stock, so :math:`B_{od}` is fixed and the flow to a corridor :math:`g` (a set of countries) is
:math:`e^{A_o} \\sum_{d \\in g} e^{B_{od}}` exactly, without building the (draw x scenario x model x year
x 200 destinations) array. Destinations inside the study area take their projected population and income
and the year's border regime. Counts are negative-binomial with shape :math:`\\alpha_0\\mu^k` (variance
:math:`\\mu + \\mu^{2-k}/\\alpha_0`); the sum over a corridor's independent destinations is drawn as one
negative binomial with the same mean and variance, and so is an origin's total when only totals are asked
for. A period's flow is drawn per year and divided by the period length (5 years).

No emigration cap: every draw is the model's. ``climmig_draws_above_observed_max`` (attrs) counts the
draws whose annual emigration rate exceeds the highest 5-year-average rate of any country in the fitted
flows, as a check, without changing them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.migration.gravity import COVARIATES, gravity_draws, period_step_sd
from climmig.mobility.crn_draws import MAX_COUNT, negbin_draws, poisson_quantile

__all__ = ["DEFAULT_CORRIDORS", "corridor_drivers", "corridor_of", "fixed_destinations", "predict_corridors"]

logger = logging.getLogger(__name__)

_EUROPE = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL",
           "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "GBR",
           "NOR", "ISL", "CHE", "LIE")
#: named corridors (everything else outside the study area is ``rest_of_world``)
DEFAULT_CORRIDORS: dict[str, tuple[str, ...]] = {
    "YEM": ("YEM",),
    "Gulf": ("SAU", "ARE", "KWT", "QAT", "BHR", "OMN"),
    "UGA": ("UGA",),
    "SDN": ("SDN",),
    "SSD": ("SSD",),
    "Europe": _EUROPE,
    "North America": ("USA", "CAN"),
    "South Africa": ("ZAF",),
}
REST = "rest_of_world"


def corridor_of(countries: Sequence[str], study: Sequence[str],
                corridors: Mapping[str, Sequence[str]] = DEFAULT_CORRIDORS) -> list[str]:
    """Corridor label of each destination: itself inside the study area, its named group, else rest of world."""
    where = {c: g for g, members in corridors.items() for c in members}
    s = set(study)
    return [c if c in s else where.get(c, REST) for c in countries]


def fixed_destinations(catalog: Any, panel_geo: xr.Dataset, regime_table: pd.DataFrame, study: Sequence[str],
                       countries: Sequence[str], *, year: int, stocks_id: str = "undesa_bilateral_stock"
                       ) -> xr.Dataset:
    """Covariates of every (study origin, world destination) pair, held at their latest observed values.

    Parameters
    ----------
    catalog : ResolvedCatalog
        For WDI population and GDP (latest value up to ``year``) and the UN DESA stocks (latest year).
    panel_geo : xr.Dataset
        Distances and contiguity (from :func:`climmig.migration.flows_panel.load_flow_panel`).
    regime_table : pandas.DataFrame
        Border-regime blocs (regimes in force in ``year``).
    study : sequence of str
        Study-area countries (origins).
    countries : sequence of str
        Destinations: the fitted countries.
    year : int
        Year of the covariates (the config's last historical year).
    stocks_id : str
        Catalog id of the bilateral stocks.

    Returns
    -------
    xr.Dataset
        ``dest_log_pop``, ``dest_log_gdp`` (world), ``pair_log_distance``, ``pair_contiguous``,
        ``pair_log_stock``, ``pair_regime`` (region, world); ``world`` is the destination coordinate.
    """
    from climmig.migration.flows_panel import CODE_ALIASES
    from climmig.migration.regimes import pair_regimes

    world = [c for c in countries if c in set(str(r) for r in panel_geo["region"].values)]
    pop = catalog.open("wdi_population")
    pop = pop[pop["year"] <= year].dropna(subset=["population"]).sort_values("year")
    p = pop.groupby("iso3")["population"].last().reindex(world)
    gdp = catalog.open("wdi_gdp_per_capita").drop_duplicates("iso3").set_index("iso3")
    cols = [str(y) for y in range(year - 15, year + 1) if str(y) in gdp.columns]
    g = gdp[cols].apply(pd.to_numeric, errors="coerce").ffill(axis=1).iloc[:, -1].reindex(world)
    ok = p.notna() & g.notna() & (p > 0)
    world = [c for c in world if ok[c]]
    st = catalog.open(stocks_id)
    st = st.assign(origin=st["origin"].replace(CODE_ALIASES), destination=st["destination"].replace(CODE_ALIASES))
    last = int(st["year"].max())
    st = st[st["year"] == last].groupby(["origin", "destination"])["stock"].sum()
    regions = list(study)
    idx = pd.MultiIndex.from_product([regions, world])
    stock = st.reindex(idx).fillna(0.0).to_numpy().reshape(len(regions), len(world))
    geo = panel_geo.sel(origin=regions, destination=world)
    reg = pair_regimes(regime_table, list(dict.fromkeys([*regions, *world])), [year]).isel(year=0, drop=True)
    reg = reg.sel(origin=regions, destination=world).rename(destination="world", origin="region")
    rw = ("region", "world")
    return xr.Dataset(
        {"dest_log_pop": ("world", np.log(p[world].to_numpy(float))),
         "dest_log_gdp": ("world", np.log(g[world].to_numpy(float))),
         "pair_log_distance": (rw, np.log(np.maximum(geo["distance_km"].to_numpy(), 1.0))),
         "pair_contiguous": (rw, geo["contiguous"].to_numpy().astype(float)),
         "pair_log_stock": (rw, np.log1p(stock)),
         "pair_regime": (rw, reg.to_numpy().astype(str))},
        coords={"region": regions, "world": world},
        attrs={"climmig_destination_year": str(year), "climmig_stock_year": str(last)},
    )


def corridor_drivers(exposure: xr.Dataset, fixed: xr.Dataset, flood_rate: pd.Series,
                     flood_hazard: str = "flood") -> xr.Dataset:
    """Drivers of :func:`predict_corridors`: the study area's projected covariates plus the fixed pairs.

    Parameters
    ----------
    exposure : xr.Dataset
        Exposure stage output (``population``, ``gdp_per_capita`` (scenario, year, region) and what
        :func:`climmig.exposure.ratio.exposure_ratio` needs).
    fixed : xr.Dataset
        From :func:`fixed_destinations`.
    flood_rate : pandas.Series
        Baseline flood-displacement rate of each study country [1000-1 yr-1] (DFO, latest 5 years).
    flood_hazard : str
        Hazard layer that scales the climate stress (the layer the stress term was fitted on).

    Returns
    -------
    xr.Dataset
        ``population``, ``gdp_per_capita``, ``exposure_ratio`` (of the flood layer), ``internal_exposure_ratio``
        (mean of the drought and flood layers: the internal model's driver), ``flood_rate``
        (region) and the variables of ``fixed``; attr ``climmig_stress_hazard``.
    """
    from climmig.exposure.ratio import exposure_ratio

    regions = [str(r) for r in exposure["region"].values]
    ratio = exposure_ratio(exposure)
    hz = [str(h) for h in ratio["hazard"].values] if "hazard" in ratio.dims else []
    if flood_hazard in hz:
        ratio = ratio.sel(hazard=flood_hazard, drop=True)
        used = flood_hazard
    else:
        logger.warning("no %r hazard layer: the migration climate-stress term is held at its baseline", flood_hazard)
        # ones on the exposure ratio's own dims, so the flows keep the climate-model dim
        ratio = xr.ones_like(exposure_ratio(exposure).isel(hazard=0, drop=True))
        used = "none (held at baseline)"
    full = exposure_ratio(exposure)
    slow = [h for h in ("drought", "flood") if h in hz]
    # internal moves for climate reasons were fitted on drought and flood displacement (PRMN)
    internal_ratio = full.sel(hazard=slow).mean("hazard") if slow else xr.ones_like(full.isel(hazard=0, drop=True))
    return xr.Dataset({
        "population": exposure["population"], "gdp_per_capita": exposure["gdp_per_capita"],
        "exposure_ratio": ratio, "internal_exposure_ratio": internal_ratio,
        "flood_rate": ("region", flood_rate.reindex(regions).fillna(0.0).to_numpy(float)),
        **{k: v.sel(region=regions) if "region" in v.dims else v for k, v in fixed.data_vars.items()},
    }, coords={"region": regions}, attrs={"climmig_stress_hazard": used})


def _negbin_crn(rng: np.random.Generator, mu: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Negative-binomial counts whose random numbers depend on the arrays' size only.

    Here the shape depends on the means (moment-matched corridor sums), so the gamma part is also drawn by
    inversion at a fixed uniform (:func:`scipy.special.gammaincinv`): an intervention that changes some
    means gets the same uniforms everywhere (common random numbers, as in :mod:`climmig.mobility.crn_draws`).
    """
    from scipy import special

    u_g, u_p = rng.random(mu.shape), rng.random(mu.shape)
    a = np.maximum(shape, 1e-6)
    g = special.gammaincinv(a, u_g) / a
    return poisson_quantile(u_p, np.minimum(mu * g, MAX_COUNT))


def _regime_term(beta: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Regime effect (samples, *names.shape) from the regime coefficient draws."""
    out = np.zeros((beta.shape[0], *names.shape))
    for r in ("bilateral", "regional", "multilateral"):
        k = COVARIATES.index(f"regime_{r}")
        out += beta[:, k].reshape(-1, *([1] * names.ndim)) * (names == r)
    return out


def predict_corridors(idata: Any, drivers: xr.Dataset, regimes: xr.DataArray, *, samples: int, seed: int,
                      corridors: Mapping[str, Sequence[str]] = DEFAULT_CORRIDORS, internal: xr.Dataset | None = None,
                      totals_only: bool = False) -> xr.Dataset:
    """Annual cross-border flows from each study-area country to every corridor (posterior predictive).

    Parameters
    ----------
    idata : az.InferenceData
        All-country gravity fit (:func:`climmig.migration.gravity.fit_gravity`).
    drivers : xr.Dataset
        From :func:`corridor_drivers` (selected to the wanted scenarios and years).
    regimes : xr.DataArray
        Regimes among the study countries (year, origin, destination).
    samples, seed : int
        Posterior draws and seed.
    corridors : mapping of str to sequence of str
        Named destination groups.
    internal : xr.Dataset, optional
        Internal-migration parameter draws (:func:`climmig.migration.internal.internal_parameter_draws`).
    totals_only : bool
        Only ``cross_border_migration`` and ``internal_migration`` (the total is then drawn directly from the
        moment-matched negative binomial of all destinations).

    Returns
    -------
    xr.Dataset
        ``cross_border_migration``, ``internal_migration`` [people yr-1] (sample, scenario, climate_model,
        year, region); unless ``totals_only``: ``corridor_flow`` and ``expected_corridor_flow`` (sample,
        scenario, climate_model, year, origin, corridor). Attrs: the check of draws above the observed
        maximum emigration rate, the stress hazard, the destination year.
    """
    from climmig.migration.internal import expected_internal_migration, internal_parameter_draws

    post = idata.posterior
    centering = json.loads(post.attrs["gravity_centering"])
    period = float(post.attrs.get("migration_period_years", 5.0))
    dr = gravity_draws(idata, samples, seed)
    rng = np.random.default_rng(seed)
    beta = dr["grav_beta"]
    b = {name: beta[:, k] for k, name in enumerate(COVARIATES)}
    countries = [str(c) for c in post["country"].values]
    cidx = {c: i for i, c in enumerate(countries)}
    regions = [str(r) for r in drivers["population"]["region"].values]
    missing = [r for r in regions if r not in cidx]
    if missing:
        raise DataError(f"the migration fit has no country effect for {', '.join(missing)}")
    # the next period's effect: the last fitted one plus the spread of the period-to-period changes
    tau = dr["grav_period_effect"][:, -1] + rng.normal(0.0, period_step_sd(idata), samples)
    sdim = ("sample",)

    def sx(a: np.ndarray) -> xr.DataArray:
        return xr.DataArray(a, dims=sdim)

    # ---- origin part A (sample, scenario, climate_model, year, origin)
    lp = np.log(drivers["population"]).rename(region="origin")
    lg = np.log(drivers["gdp_per_capita"]).rename(region="origin")
    lpc, lgc = lp - centering["log_pop_origin"], lg - centering["log_gdp_origin"]
    rate = (drivers["flood_rate"] * drivers["exposure_ratio"]).rename(region="origin")
    z = (np.log1p(rate) - centering["stress_mean"]) / centering["stress_sd"]
    u = xr.DataArray(dr["grav_origin_effect"][:, [cidx[r] for r in regions]], dims=("sample", "origin"),
                     coords={"origin": regions})
    a = (sx(tau) + u + sx(b["log_pop_origin"]) * lpc + sx(b["log_gdp_origin"]) * lgc
         + sx(b["log_gdp_origin_sq"]) * lgc**2 + sx(b["climate_stress"]) * z
         + sx(b["climate_stress_x_income"]) * z * lgc)
    # ---- destination-pair part for the world destinations outside the study area (fixed): B (sample, origin, world)
    world = [str(w) for w in drivers["world"].values]
    outside = [w for w in world if w not in set(regions)]
    wsel = [world.index(w) for w in outside]
    v_out = dr["grav_destination_effect"][:, [cidx[w] for w in outside]]
    bb = (v_out[:, None, :]
          + b["log_pop_destination"][:, None, None] * (drivers["dest_log_pop"].values[wsel] - centering["log_pop_destination"])
          + b["log_gdp_destination"][:, None, None] * (drivers["dest_log_gdp"].values[wsel] - centering["log_gdp_destination"])
          + b["log_distance"][:, None, None] * (drivers["pair_log_distance"].values[:, wsel] - centering["log_distance"])
          + b["contiguous"][:, None, None] * drivers["pair_contiguous"].values[:, wsel]
          + b["log_stock"][:, None, None] * (drivers["pair_log_stock"].values[:, wsel] - centering["log_stock"])
          + _regime_term(beta, drivers["pair_regime"].values[:, wsel]))
    labels = np.asarray(corridor_of(outside, regions, corridors))
    groups = [g for g in [*corridors, "rest_of_world"] if (labels == g).any()]
    # a pair's variance is mu + mu^(2-k) / alpha0 (shape alpha0 mu^k): the corridor sums of mu and mu^(2-k)
    # factorise into the origin part and sums over destinations
    k = dr.get("grav_alpha_power", np.zeros(samples))
    a0 = dr["grav_alpha"]
    s1 = np.stack([np.exp(bb[:, :, labels == g]).sum(-1) for g in groups], axis=-1)  # (sample, origin, group)
    s2 = np.stack([np.exp((2 - k)[:, None, None] * bb[:, :, labels == g]).sum(-1) for g in groups], axis=-1)
    # ---- study-area destinations: projected population and income, the year's regime
    v_in = xr.DataArray(dr["grav_destination_effect"][:, [cidx[r] for r in regions]], dims=("sample", "destination"),
                        coords={"destination": regions})
    wi = [world.index(r) for r in regions] if all(r in world for r in regions) else None
    if wi is None:
        raise DataError("the study-area countries lack fixed pair covariates (distance, stock)")
    pair = lambda var: xr.DataArray(drivers[var].values[:, wi], dims=("origin", "destination"),  # noqa: E731
                                    coords={"origin": regions, "destination": regions})
    codes = regimes.sel(origin=regions, destination=regions)
    reg_eff = sum(sx(b[f"regime_{r}"]) * (codes == r) for r in ("bilateral", "regional", "multilateral"))
    bin_ = (v_in + sx(b["log_pop_destination"]) * (lp.rename(origin="destination") - centering["log_pop_destination"])
            + sx(b["log_gdp_destination"]) * (lg.rename(origin="destination") - centering["log_gdp_destination"])
            + sx(b["log_distance"]) * (pair("pair_log_distance") - centering["log_distance"])
            + sx(b["contiguous"]) * pair("pair_contiguous")
            + sx(b["log_stock"]) * (pair("pair_log_stock") - centering["log_stock"]) + reg_eff)
    self_mask = xr.DataArray(np.equal.outer(regions, regions), dims=("origin", "destination"),
                             coords={"origin": regions, "destination": regions})
    dims5 = ("sample", "scenario", "climate_model", "year", "origin")
    ea = np.exp(a).transpose(*[d for d in dims5 if d in a.dims])
    # exp(A + B) is the expected flow over a whole (5-year) period: counts are drawn per period and divided
    mu_in = (ea * np.exp(bin_)).where(~self_mask, 0.0)
    g_coord = {"corridor": groups}
    kx, a0x = sx(k), sx(a0)
    mu_out = ea * xr.DataArray(s1, dims=("sample", "origin", "corridor"), coords={"origin": regions, **g_coord})
    # extra variance mu^(2-k) / alpha0 of each corridor (the Poisson part mu is added back in the shape below)
    ex_out = ea ** (2 - kx) * xr.DataArray(s2, dims=("sample", "origin", "corridor"),
                                            coords={"origin": regions, **g_coord}) / a0x
    full = [d for d in (*dims5, "corridor")]
    mu_in_c = mu_in.rename(destination="corridor")
    ex_in = mu_in_c ** (2 - kx) / a0x
    mu_all = xr.concat([mu_in_c, mu_out.transpose(*mu_in_c.dims)], dim="corridor")
    ex_all = xr.concat([ex_in.transpose(*mu_in_c.dims), ex_out.transpose(*mu_in_c.dims)], dim="corridor")
    mu_all = mu_all.transpose(*[d for d in full if d in mu_all.dims])
    ex_all = ex_all.transpose(*mu_all.dims)
    if totals_only:
        tot_mu = mu_all.sum("corridor")
        ex = ex_all.sum("corridor")
        shape = (tot_mu**2 / ex.where(ex > 0, 1.0)).transpose(*tot_mu.dims)
        cnt = _negbin_crn(rng, np.maximum(tot_mu.values, 1e-12), shape.values)
        cross = tot_mu.copy(data=cnt) / period
    else:
        shape = (mu_all**2 / ex_all.where(ex_all > 0, 1.0)).transpose(*mu_all.dims)
        cnt = _negbin_crn(rng, np.maximum(mu_all.values, 1e-12), shape.values)
        cnt[mu_all.values <= 0] = 0.0
        flow = mu_all.copy(data=cnt) / period
        cross = flow.sum("corridor")
    cross = cross.rename(origin="region").assign_attrs(
        units="1", long_name="people emigrating from the region to any other country in the year (all corridors)",
        cell_methods="time: sum (per year)")
    if internal is None:
        internal = internal_parameter_draws(None, samples, seed)
    internal = internal.assign_coords(sample=np.arange(samples))
    er = drivers["internal_exposure_ratio"] if "internal_exposure_ratio" in drivers else drivers["exposure_ratio"]
    inner = expected_internal_migration(internal, drivers["population"], er)
    # internal draws from their own stream: identical whenever their inputs are (whatever the cross-border part)
    inner = inner.transpose(*[d for d in dims5 if d != "origin" and d in inner.dims], "region")
    inner_cnt = negbin_draws(np.random.default_rng([seed, 2]), np.maximum(inner.values, 1e-12),
                             internal["alpha"].values.reshape(-1, *([1] * (inner.ndim - 1))))
    internal_mig = inner.copy(data=inner_cnt)
    internal_mig.attrs = {"units": "1", "long_name": "people moving between zones inside the region in the year"}
    max_rate = float(post.attrs.get("gravity_max_emigration_rate", np.nan))
    pop_r = drivers["population"]
    above = int((cross > max_rate * pop_r).sum()) if np.isfinite(max_rate) else 0
    attrs = {"climmig_model_name": str(post.attrs.get("model_name", "")), "climmig_seed": str(seed),
             "climmig_emigration_cap": "none",
             "climmig_max_observed_emigration_rate": f"{max_rate:.6g}",
             "climmig_draws_above_observed_max": str(above),
             "climmig_draws_total": str(int(np.prod(cross.shape))),
             "climmig_destination_year": str(drivers.attrs.get("climmig_destination_year", "")),
             "climmig_stress_hazard": str(drivers.attrs.get("climmig_stress_hazard", "")),
             "climmig_internal_source": str(internal.attrs.get("climmig_internal_source", ""))}
    out = xr.Dataset({"cross_border_migration": cross.assign_attrs(attrs), "internal_migration": internal_mig},
                     attrs=attrs)
    if totals_only:
        return out
    out["corridor_flow"] = flow.assign_attrs(units="1", long_name="people migrating from origin to the corridor "
                                             "in the year (posterior predictive)", cell_methods="time: sum (per year)")
    out["expected_corridor_flow"] = (mu_all / period).assign_attrs(
        units="1", long_name="expected people migrating from origin to the corridor in the year")
    out["corridor_members"] = xr.DataArray(
        [", ".join(corridors.get(g, [g] if g in regions else ["every other country"])) for g in out["corridor"].values],
        dims="corridor", attrs={"long_name": "countries of the corridor"})
    return out

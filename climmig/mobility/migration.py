"""Bayesian origin-destination (gravity) model of cross-border migration with border-regime frictions.

The model, for a cross-border pair :math:`(o, d)` observed over one period,

.. math::

    y_{od} \\sim \\mathrm{NegBin}(\\mu_{od}, \\alpha), \\quad
    \\log\\mu_{od} = c + u_o + v_d + \\beta_O \\log P_o + \\beta_D \\log P_d - \\delta \\log D_{od}
    + \\beta_I (\\log g_d - \\log g_o) + \\beta_G \\log g_o + \\beta_S S_o + \\beta_C C_{od} + \\rho_{r(o,d)}

with populations :math:`P`, centroid distance :math:`D`, GDP per capita :math:`g`, standardised climate
stress at the origin :math:`S`, contiguity :math:`C`, the border regime :math:`r(o,d)` of the pair
(:math:`\\rho_{unilateral} = 0`, the reference) and partially pooled origin and destination effects
:math:`u_o \\sim N(0, \\sigma_u)`, :math:`v_d \\sim N(0, \\sigma_v)` (non-centred). Log populations and log
distance are centred on the fitted sample's means (stored in the fit) so coefficients are elasticities.

:func:`build_migration_model` is a pure builder; :func:`predict_flows` projects flows from posterior draws in
xarray, vectorised over draws, scenarios, climate models, years and pairs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from climmig.config.schema import DistSpec
from climmig.errors import DataError
from climmig.exposure.ratio import exposure_ratio
from climmig.mobility.crn_draws import negbin_draws
from climmig.mobility.geography import FALLBACK_BOUNDARIES
from climmig.mobility.priors import DEFAULT_MIGRATION_PRIORS, resolve_prior_table
from climmig.mobility.priors import prior_rv as dist_from_spec
from climmig.mobility.regimes import REGIMES, regime_codes

__all__ = [
    "DEFAULT_MIGRATION_PRIORS",
    "MigrationInputs",
    "build_migration_model",
    "climate_stress_index",
    "country_covariates",
    "dist_from_spec",
    "flow_drivers",
    "max_emigration_rate",
    "migration_inputs",
    "posterior_draws",
    "predict_flows",
    "regime_change_effect",
    "regime_frictions",
    "regime_scenario_summary",
    "resolve_priors",
]

logger = logging.getLogger(__name__)

MODEL_NAME = "migration_gravity_negbin"
FREE_REGIMES: tuple[str, ...] = REGIMES[1:]  # unilateral is the reference (effect 0)

def resolve_priors(overrides: Mapping[str, DistSpec] | None,
                   defaults: Mapping[str, DistSpec] = DEFAULT_MIGRATION_PRIORS,
                   where: str = "mobility -> migration -> priors") -> dict[str, DistSpec]:
    """The cross-border model's priors with the config's overrides (:func:`climmig.mobility.priors.resolve_prior_table`)."""
    return resolve_prior_table(overrides, defaults, where)


# ------------------------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class MigrationInputs:
    """Pair-level data of the cross-border model (one row per observed origin-destination pair).

    Attributes
    ----------
    pairs : pandas.DataFrame
        Columns ``origin``, ``destination``, ``flow`` (people per period, rounded), ``log_pop_origin``,
        ``log_pop_destination``, ``log_distance`` (centred), ``income_diff``, ``log_gdp_origin`` (centred),
        ``climate_stress`` (z-score),
        ``contiguous`` (0/1), ``regime`` (name).
    countries : tuple of str
        Coordinates of the ``origin`` and ``destination`` effects.
    centering : dict of str to float
        Means/SDs used to centre covariates (needed to project).
    period_years : float
        Length of the flow period (5 for Abel & Cohen).
    country_table : pandas.DataFrame, optional
        Country-level covariates (index ``countries``; ``log_pop`` centred, ``log_gdp``,
        ``climate_stress`` z-score), used to make the country effects orthogonal to them.
    """

    pairs: pd.DataFrame
    countries: tuple[str, ...]
    centering: dict[str, float]
    period_years: float = 5.0
    country_table: pd.DataFrame | None = None

    @property
    def coords(self) -> dict[str, Any]:
        """Model coordinates."""
        return {
            "pair": [f"{o}-{d}" for o, d in zip(self.pairs["origin"], self.pairs["destination"], strict=True)],
            "origin": list(self.countries),
            "destination": list(self.countries),
            "regime": list(REGIMES),
            "regime_free": list(FREE_REGIMES),
        }

    def subset(self, mask: np.ndarray) -> MigrationInputs:
        """The same inputs restricted to some pairs (centering unchanged)."""
        return MigrationInputs(self.pairs.loc[np.asarray(mask)].reset_index(drop=True), self.countries,
                               self.centering, self.period_years, self.country_table)

    def without_countries(self, drop: Sequence[str]) -> MigrationInputs:
        """The inputs without some countries: their pairs and their effects are removed (centering unchanged).

        Parameters
        ----------
        drop : sequence of str
            Countries to remove.

        Returns
        -------
        MigrationInputs
        """
        gone = set(drop)
        keep = [c for c in self.countries if c not in gone]
        mask = ~(self.pairs["origin"].isin(gone) | self.pairs["destination"].isin(gone))
        table = None if self.country_table is None else self.country_table.loc[keep]
        return MigrationInputs(self.pairs.loc[mask.to_numpy()].reset_index(drop=True), tuple(keep),
                               self.centering, self.period_years, table)


def _wide_mean(df: pd.DataFrame, countries: Sequence[str], years: Sequence[int],
               lookback: int = 10) -> pd.Series:
    """Mean over ``years`` of a wide WDI table; countries with no value then take their latest value from
    the ``lookback`` years before (e.g. Venezuela's GDP, unpublished after 2014)."""
    wide = df.drop_duplicates("iso3").set_index("iso3").reindex(list(countries))
    cols = [str(y) for y in years if str(y) in wide.columns]
    out = wide[cols].apply(pd.to_numeric, errors="coerce").mean(axis=1)
    gap = out.isna()
    if gap.any():
        earlier = [str(y) for y in range(min(years) - lookback, min(years)) if str(y) in wide.columns]
        last = wide.loc[gap, earlier].apply(pd.to_numeric, errors="coerce").ffill(axis=1).iloc[:, -1]
        for iso, v in last.dropna().items():
            logger.warning("no WDI value for %s in %s-%s; using its latest earlier value", iso, min(years),
                           max(years))
            out[iso] = v
    return out


def climate_stress_index(events: pd.DataFrame, population: pd.Series, years: Sequence[int]) -> pd.Series:
    """Weather-related displacement per 1000 people per year, averaged over ``years`` (climate-stress proxy).

    Parameters
    ----------
    events : pandas.DataFrame
        IDMC GIDD weather events (``iso3``, ``year``, ``Disaster Internal Displacements (Raw)``).
    population : pandas.Series
        Population by ISO3 (people).
    years : sequence of int
        Years to average (e.g. 2008-2015, before the 2015-2020 flow period).

    Returns
    -------
    pandas.Series, [1000-1 yr-1]
        Indexed like ``population``; countries without any recorded event get 0 (IDMC records no
        displacement for them).
    """
    col = "Disaster Internal Displacements (Raw)"
    ev = events[events["year"].isin(list(years))]
    total = pd.to_numeric(ev[col], errors="coerce").groupby(ev["iso3"]).sum()
    total = total.reindex(population.index).fillna(0.0)
    return 1000.0 * total / len(list(years)) / population


def country_covariates(population: pd.DataFrame, gdp: pd.DataFrame, events: pd.DataFrame,
                       countries: Sequence[str], years: Sequence[int],
                       stress_years: Sequence[int]) -> xr.Dataset:
    """Country covariates of the gravity model from the bundled WDI and IDMC tables.

    Parameters
    ----------
    population : pandas.DataFrame
        WDI population, long format (``iso3``, ``year``, ``population``).
    gdp : pandas.DataFrame
        WDI GDP per capita, wide format (``iso3`` and one column per year).
    events : pandas.DataFrame
        IDMC weather displacement events.
    countries : sequence of str
        ISO3 codes.
    years : sequence of int
        Years averaged for population and GDP (missing years are skipped).
    stress_years : sequence of int
        Years averaged for the climate-stress index.

    Returns
    -------
    xr.Dataset
        ``population`` [1], ``gdp_per_capita`` [USD], ``climate_stress`` [1000-1 yr-1], dim ``region``.

    Raises
    ------
    DataError
        If a country has no population or GDP value in those years.
    """
    pop = population[population["year"].isin(list(years))].groupby("iso3")["population"].mean()
    pop = pop.reindex(list(countries))
    g = _wide_mean(gdp, countries, years)
    for what, s in (("population", pop), ("GDP per capita", g)):
        if s.isna().any():
            raise DataError(f"no WDI {what} for {', '.join(s.index[s.isna()])} in {min(years)}-{max(years)}")
    stress = climate_stress_index(events, pop, stress_years)
    return xr.Dataset(
        {
            "population": ("region", pop.to_numpy(float), {"units": "1", "long_name": "population (people)"}),
            "gdp_per_capita": ("region", g.to_numpy(float), {"units": "USD", "currency": "USD",
                                                              "long_name": "GDP per capita (current US$)"}),
            "climate_stress": ("region", stress.to_numpy(float), {
                "units": "1000-1 yr-1",
                "long_name": "weather-related new displacements per 1000 people per year (IDMC)"}),
        },
        coords={"region": list(countries)},
        attrs={"climmig_years": f"{min(years)}-{max(years)}",
               "climmig_stress_years": f"{min(stress_years)}-{max(stress_years)}"},
    )


def _stress_transform(rate: Any) -> Any:
    """log(1 + rate): the climate-stress index before standardisation."""
    return np.log1p(rate)


def migration_inputs(flows: pd.DataFrame, covariates: xr.Dataset, geography: xr.Dataset,
                     regimes: xr.DataArray, *, period_years: float = 5.0) -> MigrationInputs:
    """Assemble the pair table of the cross-border model.

    Parameters
    ----------
    flows : pandas.DataFrame
        Columns ``origin``, ``destination``, ``flow`` (people over the period); internal pairs are dropped.
    covariates : xr.Dataset
        From :func:`country_covariates` (dim ``region``).
    geography : xr.Dataset
        From :func:`climmig.mobility.geography.country_geography`.
    regimes : xr.DataArray
        Regime names (origin, destination) in force during the period.
    period_years : float
        Length of the flow period in years.

    Returns
    -------
    MigrationInputs

    Raises
    ------
    DataError
        On negative or missing flows, or countries without covariates.
    """
    f = flows[flows["origin"] != flows["destination"]].copy()
    if f["flow"].isna().any() or (f["flow"] < 0).any():
        raise DataError("the flow table has missing or negative flows; fix the file")
    countries = tuple(sorted(set(f["origin"]) | set(f["destination"])))
    missing = [c for c in countries if c not in covariates["region"].values]
    if missing:
        raise DataError(f"no covariates for {', '.join(missing)}")
    cov = covariates.sel(region=list(countries))
    lp = np.log(cov["population"].to_pandas())
    lg = np.log(cov["gdp_per_capita"].to_pandas())
    st = _stress_transform(cov["climate_stress"].to_pandas())
    o, d = f["origin"].to_numpy(), f["destination"].to_numpy()
    dist = geography["distance_km"].sel(origin=xr.DataArray(o), destination=xr.DataArray(d)).to_numpy()
    contig = geography["contiguous"].sel(origin=xr.DataArray(o), destination=xr.DataArray(d)).to_numpy()
    reg = regimes.sel(origin=xr.DataArray(o), destination=xr.DataArray(d)).to_numpy().astype(str)
    centering = {"log_pop": float(lp.mean()), "log_distance": float(np.log(dist).mean()),
                 "log_gdp": float(lg.mean()),
                 "stress_mean": float(st.mean()), "stress_sd": float(st.std()) or 1.0}
    pairs = pd.DataFrame({
        "origin": o, "destination": d,
        "flow": np.round(f["flow"].to_numpy(float)).astype(np.int64),
        "log_pop_origin": lp.loc[o].to_numpy() - centering["log_pop"],
        "log_pop_destination": lp.loc[d].to_numpy() - centering["log_pop"],
        "log_distance": np.log(dist) - centering["log_distance"],
        "income_diff": lg.loc[d].to_numpy() - lg.loc[o].to_numpy(),
        "log_gdp_origin": lg.loc[o].to_numpy() - centering["log_gdp"],
        "climate_stress": (st.loc[o].to_numpy() - centering["stress_mean"]) / centering["stress_sd"],
        "contiguous": contig.astype(float),
        "regime": reg,
    })
    table = pd.DataFrame({"log_pop": lp.to_numpy() - centering["log_pop"], "log_gdp": lg.to_numpy(),
                          "climate_stress": (st.to_numpy() - centering["stress_mean"]) / centering["stress_sd"]},
                         index=list(countries))
    return MigrationInputs(pairs, countries, centering, period_years, table)


# ------------------------------------------------------------------------------------------------ model
def _orthogonal_basis(inputs: MigrationInputs, columns: Sequence[str]) -> np.ndarray:
    """Orthonormal basis (countries x (n - k - 1)) of the complement of [1, covariates]."""
    n = len(inputs.countries)
    if inputs.country_table is None:
        raise DataError("orthogonal country effects need MigrationInputs.country_table")
    x = np.column_stack([np.ones(n), inputs.country_table.loc[list(inputs.countries), list(columns)]
                         .to_numpy(float)])
    u, sv, _ = np.linalg.svd(x, full_matrices=True)
    rank = int((sv > 1e-9 * sv.max()).sum())
    return u[:, rank:]


def build_migration_model(inputs: MigrationInputs, priors: Mapping[str, DistSpec] | None = None, *,
                          parameterization: str = "orthogonal", store_log_mu: bool = False) -> pm.Model:
    """Negative-binomial gravity model of cross-border flows with border-regime effects.

    Parameters
    ----------
    inputs : MigrationInputs
        Pair table and coordinates.
    priors : mapping of str to DistSpec, optional
        Overrides of :data:`DEFAULT_MIGRATION_PRIORS`.
    parameterization : {"orthogonal", "centered", "noncentered"}
        Of the origin/destination effects. ``orthogonal`` (default): the effects are restricted to the space
        orthogonal to the intercept and the country-level covariates (origin: log population, climate
        stress and log GDP per capita, whose net effect is ``mig_origin_income - mig_income``; destination:
        log population and log GDP per capita, which identifies the income coefficient), so the coefficients
        are identified by between-country variation and the effects carry only what the covariates do not
        explain. A country outside the fit therefore gets its covariates' prediction plus a residual effect
        drawn from :math:`N(0, \\sigma)`. Without the origin-income term the origin effects absorbed a slope
        of about 2.2 per log GDP (sigma_origin ~2.9 on the bundled flows), and an unseen poor origin was
        projected as if it were a typical fitted origin. This removes the ridge between country effects and origin/destination covariates that
        makes the ``centered`` (zero-sum) and ``noncentered`` forms mix slowly (R-hat 1.03 and bulk ESS
        ~100 for the income coefficient on the bundled flows with 4 x 1000 draws). The price: the
        coefficients' intervals do not include the part of the covariates' effect that country effects
        could absorb (as in restricted spatial regression).
    store_log_mu : bool
        Also record ``mig_log_mu`` (pair), the log expected flow (for consistency checks).

    Returns
    -------
    pm.Model
        Data containers (dim ``pair``): ``origin_idx``, ``destination_idx``, ``log_pop_origin``,
        ``log_pop_destination``, ``log_distance``, ``income_diff``, ``log_gdp_origin``, ``climate_stress``,
        ``contiguous``, ``regime_idx``; free variables prefixed ``mig_``; ``mig_origin_effect`` (origin),
        ``mig_destination_effect`` (destination), ``mig_regime_effect`` (regime; 0 for unilateral);
        observed ``flow`` (pair).
    """
    p = resolve_priors(priors)
    df = inputs.pairs
    idx = {c: i for i, c in enumerate(inputs.countries)}
    codes = regime_codes(df["regime"].to_numpy())
    if (codes < 0).any():
        raise DataError("internal pairs (origin == destination) cannot enter the cross-border model")
    with pm.Model(coords=inputs.coords) as model:
        data = {}
        data["origin_idx"] = pm.Data("origin_idx", df["origin"].map(idx).to_numpy(), dims="pair")
        data["destination_idx"] = pm.Data("destination_idx", df["destination"].map(idx).to_numpy(), dims="pair")
        for col in ("log_pop_origin", "log_pop_destination", "log_distance", "income_diff", "log_gdp_origin",
                    "climate_stress", "contiguous"):
            data[col] = pm.Data(col, df[col].to_numpy(float), dims="pair")
        data["regime_idx"] = pm.Data("regime_idx", codes, dims="pair")

        c = dist_from_spec("mig_intercept", p["intercept"])
        b_po = dist_from_spec("mig_pop_origin", p["pop_origin"])
        b_pd = dist_from_spec("mig_pop_destination", p["pop_destination"])
        decay = dist_from_spec("mig_distance_decay", p["distance_decay"])
        b_inc = dist_from_spec("mig_income", p["income"])
        b_go = dist_from_spec("mig_origin_income", p["origin_income"])
        b_st = dist_from_spec("mig_climate_stress", p["climate_stress"])
        b_con = dist_from_spec("mig_contiguity", p["contiguity"])
        free = [dist_from_spec(f"mig_regime_{r}", p[f"regime_{r}"]) for r in FREE_REGIMES]
        regime_eff = pm.Deterministic("mig_regime_effect", pm.math.stack([pm.math.constant(0.0), *free]),
                                      dims="regime")
        s_o = dist_from_spec("mig_sigma_origin", p["sigma_origin"])
        s_d = dist_from_spec("mig_sigma_destination", p["sigma_destination"])
        if parameterization == "orthogonal":
            q_o = _orthogonal_basis(inputs, ("log_pop", "climate_stress", "log_gdp"))
            q_d = _orthogonal_basis(inputs, ("log_pop", "log_gdp"))
            model.add_coord("origin_basis", np.arange(q_o.shape[1]))
            model.add_coord("destination_basis", np.arange(q_d.shape[1]))
            # centred in the orthonormal basis: each country has ~40 pairs per role, the data dominate
            z_o = pm.Normal("mig_origin_basis", 0.0, s_o, dims="origin_basis")
            z_d = pm.Normal("mig_destination_basis", 0.0, s_d, dims="destination_basis")
            eff_o = pm.Deterministic("mig_origin_effect", pt.dot(q_o, z_o), dims="origin")
            eff_d = pm.Deterministic("mig_destination_effect", pt.dot(q_d, z_d), dims="destination")
        elif parameterization == "centered":
            eff_o = pm.ZeroSumNormal("mig_origin_effect", sigma=s_o, dims="origin")
            eff_d = pm.ZeroSumNormal("mig_destination_effect", sigma=s_d, dims="destination")
        else:
            z_o = pm.Normal("mig_origin_z", 0.0, 1.0, dims="origin")
            z_d = pm.Normal("mig_destination_z", 0.0, 1.0, dims="destination")
            eff_o = pm.Deterministic("mig_origin_effect", s_o * z_o, dims="origin")
            eff_d = pm.Deterministic("mig_destination_effect", s_d * z_d, dims="destination")
        alpha = dist_from_spec("mig_alpha", p["alpha"])

        log_mu = (c + eff_o[data["origin_idx"]] + eff_d[data["destination_idx"]]
                  + b_po * data["log_pop_origin"] + b_pd * data["log_pop_destination"]
                  - decay * data["log_distance"] + b_inc * data["income_diff"]
                  + b_go * data["log_gdp_origin"]
                  + b_st * data["climate_stress"] + b_con * data["contiguous"]
                  + regime_eff[data["regime_idx"]])
        if store_log_mu:
            pm.Deterministic("mig_log_mu", log_mu, dims="pair")
        pm.NegativeBinomial("flow", mu=pm.math.exp(log_mu), alpha=alpha,
                            observed=df["flow"].to_numpy(), dims="pair")
    return model


def fit_attrs(inputs: MigrationInputs, priors: Mapping[str, DistSpec]) -> dict[str, str]:
    """Provenance attrs a migration fit must carry (centering constants, priors, period length).

    Parameters
    ----------
    inputs : MigrationInputs
        The fitted inputs.
    priors : mapping of str to DistSpec
        Resolved priors.

    Returns
    -------
    dict of str to str
    """
    return {
        "migration_centering": json.dumps(inputs.centering, sort_keys=True),
        "migration_period_years": str(inputs.period_years),
        "priors": json.dumps({k: v.model_dump(mode="json") for k, v in priors.items()}, sort_keys=True),
    }


# ------------------------------------------------------------------------------------------------ draws

def posterior_draws(idata: Any, samples: int, seed: int) -> xr.Dataset:
    """A seeded subset of posterior draws, stacked on ``sample``.

    Parameters
    ----------
    idata : az.InferenceData
        A migration fit.
    samples : int
        Number of draws (drawn with replacement only if the posterior has fewer).
    seed : int
        Seed of the selection.

    Returns
    -------
    xr.Dataset
        Posterior variables with a ``sample`` dim (0..samples-1).
    """
    post = idata.posterior.stack(sample=("chain", "draw"))
    n = post.sizes["sample"]
    rng = np.random.default_rng(seed)
    pick = rng.choice(n, size=samples, replace=samples > n)
    out = post.isel(sample=pick).drop_vars(["sample", "chain", "draw"], errors="ignore")
    out = out.assign_coords(sample=np.arange(samples))
    return out.transpose("sample", ...)


def _effects_for(draws: xr.Dataset, var: str, sigma: str, dim: str, regions: Sequence[str],
                 rng: np.random.Generator) -> xr.DataArray:
    """Fitted effects for seen regions; draws from N(0, sigma) (per posterior draw) for unseen ones."""
    eff = draws[var]
    seen = [str(r) for r in eff[dim].values]
    regions = [str(r) for r in regions]
    new = [r for r in regions if r not in seen]
    if new:
        z = rng.standard_normal((draws.sizes["sample"], len(new)))
        extra = xr.DataArray(z * draws[sigma].values[:, None], dims=("sample", dim), coords={dim: new})
        eff = xr.concat([eff.transpose("sample", dim), extra], dim=dim)
    return eff.sel({dim: regions})


def _stress_z(rate: xr.DataArray, centering: Mapping[str, float]) -> xr.DataArray:
    return (_stress_transform(rate) - centering["stress_mean"]) / centering["stress_sd"]


def _exposure_ratio(drivers: xr.Dataset) -> xr.DataArray:
    if "exposure_ratio" not in drivers:
        return xr.DataArray(1.0)
    er = drivers["exposure_ratio"]
    return er.mean("hazard") if "hazard" in er.dims else er


def flow_drivers(exposure: xr.Dataset, covariates: xr.Dataset, geography: xr.Dataset) -> xr.Dataset:
    """Drivers of :func:`predict_flows` from the exposure stage (``docs/interfaces.md`` section 1).

    Parameters
    ----------
    exposure : xr.Dataset
        With ``population`` and ``gdp_per_capita`` (scenario, year, region), ``exposed_population``
        (hazard, scenario, climate_model, year, region), ``exposed_population_baseline`` (hazard,
        climate_model, region) and ``population_baseline`` (region).
    covariates : xr.Dataset
        ``climate_stress`` (region), the baseline weather-displacement rate, and ``gdp_per_capita`` (region),
        the fit period's GDP per capita in the fit's units (:func:`country_covariates`).
    geography : xr.Dataset
        ``distance_km`` and ``contiguous`` (origin, destination).

    Returns
    -------
    xr.Dataset
        ``population``, ``gdp_per_capita``, ``exposure_ratio`` (hazard, scenario, climate_model, year,
        region; the share of people exposed relative to the baseline,
        :func:`climmig.exposure.ratio.exposure_ratio`; 1 where the baseline exposure is 0), ``climate_stress``, ``gdp_per_capita_baseline``,
        ``distance_km``, ``contiguous``.
    """
    regions = [str(r) for r in exposure["region"].values]
    ratio = exposure_ratio(exposure)
    return xr.Dataset({
        "population": exposure["population"],
        "gdp_per_capita": exposure["gdp_per_capita"],
        "exposure_ratio": ratio,
        "climate_stress": covariates["climate_stress"].sel(region=regions),
        "gdp_per_capita_baseline": covariates["gdp_per_capita"].sel(region=regions),
        "distance_km": geography["distance_km"].sel(origin=regions, destination=regions),
        "contiguous": geography["contiguous"].sel(origin=regions, destination=regions),
    })


def _as_od(da: xr.DataArray, which: str) -> xr.DataArray:
    return da.rename(region=which)


def _expected_log_flow(draws: xr.Dataset, drivers: xr.Dataset, regimes: xr.DataArray,
                       centering: Mapping[str, float], rng: np.random.Generator) -> xr.DataArray:
    regions = [str(r) for r in drivers["population"]["region"].values]
    eff_o = _effects_for(draws, "mig_origin_effect", "mig_sigma_origin", "origin", regions, rng)
    eff_d = _effects_for(draws, "mig_destination_effect", "mig_sigma_destination", "destination", regions, rng)
    lp = np.log(drivers["population"]) - centering["log_pop"]
    lg = np.log(drivers["gdp_per_capita"])
    rate = drivers["climate_stress"] * _exposure_ratio(drivers)
    stress = _stress_z(rate, centering)
    ldist = np.log(drivers["distance_km"].where(drivers["distance_km"] > 0, 1.0)) - centering["log_distance"]
    codes = xr.DataArray(regime_codes(regimes), dims=regimes.dims, coords=regimes.coords)
    reg_eff = draws["mig_regime_effect"].isel(regime=codes.clip(min=0))
    # The origin-income term is part of the (time-invariant) origin effect: it predicts an origin's
    # propensity to emigrate from its fit-period income, a cross-sectional association. Projected income
    # growth acts through the income differential only, as before (fits made before the term have none).
    origin_term = xr.DataArray(0.0)
    if "mig_origin_income" in draws:
        if "gdp_per_capita_baseline" not in drivers:
            raise DataError("the migration drivers lack gdp_per_capita_baseline (region), the fit period's GDP "
                            "per capita; build them with climmig.mobility.migration.flow_drivers")
        lg0 = np.log(drivers["gdp_per_capita_baseline"]) - centering["log_gdp"]
        origin_term = draws["mig_origin_income"] * _as_od(lg0, "origin")
    return (draws["mig_intercept"] + eff_o + eff_d
            + draws["mig_pop_origin"] * _as_od(lp, "origin")
            + draws["mig_pop_destination"] * _as_od(lp, "destination")
            - draws["mig_distance_decay"] * ldist
            + draws["mig_income"] * (_as_od(lg, "destination") - _as_od(lg, "origin"))
            + origin_term
            + draws["mig_climate_stress"] * _as_od(stress, "origin")
            + draws["mig_contiguity"] * drivers["contiguous"].astype(float)
            + reg_eff)


def _gamma_median_ratio(alpha: xr.DataArray) -> xr.DataArray:
    """Median / mean of a gamma distribution with shape ``alpha`` (the NB mixing distribution)."""
    from scipy import stats

    return xr.apply_ufunc(lambda a: stats.gamma.ppf(0.5, a) / a, alpha)


def max_emigration_rate(idata: Any) -> tuple[float, str]:
    """Highest annual cross-border emigration rate of any origin in the fitted flows (the physical bound).

    Parameters
    ----------
    idata : az.InferenceData
        A migration fit with ``constant_data`` (``origin_idx``, ``log_pop_origin``), ``observed_data``
        (``flow``) and the attrs ``migration_centering`` and ``migration_period_years``.

    Returns
    -------
    rate : float, [yr-1]
        Max over fitted origins of (people emigrating to the other fitted countries over the period) /
        (population x period length).
    origin : str
        The origin with that rate.

    Raises
    ------
    DataError
        If the fit lacks the observed flows or the data containers.
    """
    groups = set(idata.groups())
    if not {"constant_data", "observed_data"} <= groups or "flow" not in idata.observed_data:
        raise DataError("the migration fit has no observed flows/constant data to derive the emigration "
                        "bound from; refit it with `climmig fit-migration`")
    attrs = idata.posterior.attrs
    centering = json.loads(attrs["migration_centering"])
    period = float(attrs.get("migration_period_years", 5.0))
    cd = idata.constant_data
    frame = pd.DataFrame({"origin": cd["origin_idx"].values, "flow": idata.observed_data["flow"].values,
                          "pop": np.exp(cd["log_pop_origin"].values + centering["log_pop"])})
    by = frame.groupby("origin").agg(flow=("flow", "sum"), pop=("pop", "first"))
    rate = by["flow"] / by["pop"] / period
    k = int(rate.idxmax())
    names = idata.posterior["origin"].values if "origin" in idata.posterior.coords else None
    return float(rate.max()), str(names[k]) if names is not None else str(k)


def _cap_emigration(flow: xr.DataArray, cross: xr.DataArray, cap: xr.DataArray) -> tuple[xr.DataArray, int]:
    """Scale each origin's cross-border flows down so their total stays within ``cap``; count capped cells."""
    total = flow.where(cross, 0.0).sum("destination")
    factor = xr.where(total > cap, cap / total.where(total > 0, 1.0), 1.0)
    out = xr.where(cross, flow * factor, flow).transpose(*flow.dims)
    out.attrs = flow.attrs
    return out, int((factor < 1).sum())


def predict_flows(idata: Any, drivers: xr.Dataset, regimes: xr.DataArray, *, samples: int, seed: int,
                  internal: xr.Dataset | None = None, max_rate: float | None = None,
                  totals_only: bool = False, corridors: Mapping[str, Sequence[str]] | None = None) -> xr.Dataset:
    """Project annual migration flows between regions from posterior draws (vectorised).

    Parameters
    ----------
    idata : az.InferenceData
        A fit of :func:`build_migration_model` (attrs ``migration_centering``, ``migration_period_years``).
    drivers : xr.Dataset
        ``population`` and ``gdp_per_capita`` (scenario, year, region), ``climate_stress`` (region;
        baseline weather-displacement per 1000 people per year), optional ``exposure_ratio`` ([hazard,]
        scenario, climate_model, year, region; averaged over ``hazard``; scales the stress rate),
        ``gdp_per_capita_baseline`` (region; the fit period's GDP per capita, in the fit's units: it sets
        the origin-income part of the origin effect, held fixed over time), ``distance_km`` and
        ``contiguous`` (origin, destination). See :func:`flow_drivers`.
    regimes : xr.DataArray
        Regime names (year, origin, destination), e.g. after
        :func:`climmig.mobility.regimes.apply_regime_changes`.
    samples : int
        Posterior draws used.
    seed : int
        Seed of the draw selection, unseen-country effects and count noise.
    internal : xr.Dataset, optional
        Internal-migration parameter draws (``out_rate`` [yr-1], ``climate_elasticity``, ``alpha``; dim
        ``sample``), e.g. :func:`climmig.mobility.internal.internal_parameter_draws`. Default: drawn from the
        default internal priors.
    max_rate : float, optional
        Bound on an origin's annual cross-border emigration as a share of its population [yr-1]. Default:
        the highest rate of any origin in the fitted flows (:func:`max_emigration_rate`). Where a draw's
        total exceeds it, the origin's cross-border flows are scaled down to the bound.
    totals_only : bool
        Return only the per-region totals ``internal_migration`` and ``cross_border_migration`` (equal to
        those of a full call with the same arguments), skipping the pair matrices' expected and typical
        flows and their bounds; the comparison of interventions needs only the totals.
    corridors : mapping of str to sequence of str, optional
        Named destination corridors of the all-country model (default
        :data:`climmig.mobility.corridors.DEFAULT_CORRIDORS`).

    A fit of the all-country gravity model (:mod:`climmig.mobility.gravity`) is projected by
    :func:`climmig.mobility.corridors.predict_corridors` instead (flows to every destination, no cap;
    ``drivers`` from :func:`climmig.mobility.migration_run.projection_flow_drivers`).

    Returns
    -------
    xr.Dataset
        ``migration_flow`` and ``expected_migration_flow`` [people yr-1] (sample, scenario, climate_model,
        year, origin, destination), internal movement on the diagonal; ``internal`` (origin, destination);
        ``internal_migration`` and ``cross_border_migration`` (emigration) [people yr-1] (sample, scenario,
        climate_model, year, region); ``typical_migration_flow`` (as ``migration_flow``): the median of each
        pair's predictive distribution. Each period's flow (5 years for Abel & Cohen) is drawn once and
        spread evenly over its years. With the strongly over-dispersed fitted flows (shape ~0.24) the
        mean of a pair's flow is far above its median: report medians and intervals, not means.

    Notes
    -----
    Countries absent from the fit get their covariates' prediction plus residual origin/destination effects
    drawn from :math:`N(0, \\sigma)` with the posterior draw's :math:`\\sigma` (the hierarchical prior).
    The emigration bound applies to ``migration_flow``, ``expected_migration_flow`` and
    ``typical_migration_flow`` separately; the numbers of capped (sample, scenario, climate_model, year,
    origin) cells are in the attrs ``climmig_capped_draws``, ``climmig_capped_expected`` and
    ``climmig_capped_typical`` (also on ``cross_border_migration``), with ``climmig_capped_cells`` (the
    number of such cells), the bound ``climmig_emigration_cap_rate`` and its source.
    """
    from climmig.mobility.gravity import is_gravity_fit
    from climmig.mobility.internal import expected_internal_migration, internal_parameter_draws

    if is_gravity_fit(idata):
        # the all-country model: flows to every destination, grouped in corridors, no emigration cap
        from climmig.mobility.corridors import DEFAULT_CORRIDORS, predict_corridors

        return predict_corridors(idata, drivers, regimes, samples=samples, seed=seed, internal=internal,
                                 totals_only=totals_only, corridors=corridors or DEFAULT_CORRIDORS)
    rng = np.random.default_rng(seed)
    attrs = idata.posterior.attrs
    centering = json.loads(attrs["migration_centering"])
    period = float(attrs.get("migration_period_years", 5.0))
    draws = posterior_draws(idata, samples, seed)
    regions = [str(r) for r in drivers["population"]["region"].values]
    regimes = regimes.sel(origin=regions, destination=regions)
    log_mu = _expected_log_flow(draws, drivers, regimes, centering, rng)
    dims = ("sample", "scenario", "climate_model", "year", "origin", "destination")
    log_mu = log_mu.transpose(*[d for d in dims if d in log_mu.dims])
    cross = np.exp(log_mu) / period
    internal_mask = xr.DataArray(np.equal.outer(regions, regions), dims=("origin", "destination"),
                                 coords={"origin": regions, "destination": regions})
    cross = cross.where(~internal_mask, 0.0)
    if internal is None:
        internal = internal_parameter_draws(None, samples, seed)
    internal = internal.assign_coords(sample=np.arange(samples))
    inner = expected_internal_migration(internal, drivers["population"], _exposure_ratio(drivers))
    diag = inner.rename(region="origin") * internal_mask
    expected = (cross + diag).transpose(*[d for d in dims if d in cross.dims or d in diag.dims])
    # a period's flow is drawn once and spread evenly over its years (flows are persistent between years)
    scale = xr.where(internal_mask, 1.0, period)
    alpha_x = draws["mig_alpha"].broadcast_like(cross).transpose(*expected.dims)
    alpha_i = (internal["alpha"]).broadcast_like(expected).transpose(*expected.dims)
    alpha = xr.where(internal_mask, alpha_i, alpha_x).transpose(*expected.dims)
    mu = (expected * scale).transpose(*expected.dims).to_numpy()
    draws_np = negbin_draws(rng, np.maximum(mu, 1e-12), alpha.to_numpy())
    draws_np[mu <= 0] = 0.0
    flow = expected.copy(data=draws_np) / scale
    if max_rate is None:
        max_rate, cap_from = max_emigration_rate(idata)
        cap_source = (f"highest annual emigration rate in the fitted flows ({cap_from}: {max_rate:.4f} of the "
                      "population per year)")
    else:
        cap_source = "given by the caller"
    cap = (max_rate * drivers["population"]).rename(region="origin")
    cross_mask = ~internal_mask
    flow, n_flow = _cap_emigration(flow, cross_mask, cap)
    n_cells = int(np.prod([flow.sizes[d] for d in flow.dims if d != "destination"]))
    if n_flow:
        logger.info("emigration bound (%.4f of the population per year) capped %d of %d draws of origin totals",
                    max_rate, n_flow, n_cells)
    cap_attrs = {"climmig_emigration_cap_rate": f"{max_rate:.6g}", "climmig_emigration_cap_source": cap_source,
                 "climmig_capped_draws": str(n_flow), "climmig_capped_cells": str(n_cells)}
    ds_attrs = {"climmig_model_name": str(attrs.get("model_name", MODEL_NAME)), "climmig_seed": str(seed),
                "climmig_sampling_design": "posterior draws chosen by seeded choice; same draws for every "
                                           "scenario, climate model and year",
                "climmig_regime_changes": regimes.attrs.get("climmig_regime_changes", "")}
    totals = xr.Dataset({
        "internal_migration": flow.where(internal_mask).sum("destination").rename(origin="region").assign_attrs(
            units="1", long_name="people moving between zones inside the region in the year"),
        "cross_border_migration": flow.where(cross_mask).sum("destination").rename(origin="region").assign_attrs(
            units="1", long_name="people emigrating from the region to the other regions in the year")})
    if totals_only:
        totals["cross_border_migration"].attrs.update(cap_attrs)
        return totals.assign_attrs({**cap_attrs, **ds_attrs})
    # the ratio depends on the shapes only (one per sample and flow type): computed on those, then broadcast
    # (the gamma quantile over every cell took ~1.5 s per call in the demo's intervention comparison)
    ratio = xr.where(internal_mask, _gamma_median_ratio(internal["alpha"]), _gamma_median_ratio(draws["mig_alpha"]))
    typical = (expected * ratio).transpose(*expected.dims)
    expected, n_exp = _cap_emigration(expected, cross_mask, cap)
    typical, n_typ = _cap_emigration(typical, cross_mask, cap)
    cap_attrs.update({"climmig_capped_expected": str(n_exp), "climmig_capped_typical": str(n_typ)})
    typical.attrs = {"units": "1", "long_name": "median of the predictive distribution of people migrating "
                                               "from origin to destination in the year (gamma part)"}
    unit = {"units": "1", "cell_methods": "time: sum (per year)"}
    flow.attrs = {**unit, "long_name": "people migrating from origin to destination in the year"}
    expected.attrs = {**unit, "long_name": "expected people migrating from origin to destination in the year"}
    ds = xr.Dataset({"migration_flow": flow, "expected_migration_flow": expected,
                     "typical_migration_flow": typical})
    ds["internal"] = internal_mask.assign_attrs(long_name="origin and destination are the same region")
    ds["internal_migration"] = totals["internal_migration"]
    ds["cross_border_migration"] = totals["cross_border_migration"].assign_attrs(cap_attrs)
    ds.attrs = {**cap_attrs, **ds_attrs}
    return ds


def regime_change_effect(idata: Any, drivers: xr.Dataset, base: xr.DataArray, changed: xr.DataArray, *,
                         samples: int, seed: int, max_rate: float | None = None) -> xr.Dataset:
    """Change in expected cross-border flows caused by a border-regime change (same draws, same seed).

    Parameters
    ----------
    idata : az.InferenceData
        Migration fit.
    drivers : xr.Dataset
        As for :func:`predict_flows`.
    base, changed : xr.DataArray
        Regimes without and with the change (year, origin, destination).
    samples, seed : int
        As for :func:`predict_flows`.
    max_rate : float, optional
        Emigration bound, as for :func:`predict_flows` (default: from the fit). Draws at the bound with and
        without the change show no change.

    Returns
    -------
    xr.Dataset
        ``cross_border_change`` [people yr-1] (sample, scenario, climate_model, year, region): expected
        emigration with the change minus without; ``cross_border_change_quantiles`` along ``quantile``
        (0.05, 0.5, 0.95); ``cross_border_change_typical``: the same for the pairs' predictive medians
        (less dominated by the heavy right tail of over-dispersed flows).
    """
    a = predict_flows(idata, drivers, base, samples=samples, seed=seed, max_rate=max_rate)
    b = predict_flows(idata, drivers, changed, samples=samples, seed=seed, max_rate=max_rate)
    mask = ~a["internal"]
    diff = (b["expected_migration_flow"].where(mask).sum("destination")
            - a["expected_migration_flow"].where(mask).sum("destination")).rename(origin="region")
    diff.attrs = {"units": "1", "long_name": "change in expected cross-border emigration (people per year)"}
    q = diff.quantile([0.05, 0.5, 0.95], dim="sample")
    q.attrs = {**diff.attrs, "long_name": diff.attrs["long_name"] + ", posterior quantiles"}
    typ = (b["typical_migration_flow"].where(mask).sum("destination")
           - a["typical_migration_flow"].where(mask).sum("destination")).rename(origin="region")
    typ.attrs = {"units": "1", "long_name": "change in typical (predictive-median) cross-border emigration "
                                            "(people per year)"}
    return xr.Dataset({"cross_border_change": diff, "cross_border_change_quantiles": q,
                       "cross_border_change_typical": typ})


def regime_frictions(idata: Any, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Posterior of the border-regime effects (log flow relative to unilateral) and flow multipliers.

    Parameters
    ----------
    idata : az.InferenceData
        Migration fit.
    hdi_prob : float
        Interval probability.

    Returns
    -------
    pandas.DataFrame
        One row per regime: ``mean``, ``hdi_low``, ``hdi_high`` (log effect) and ``multiplier_*``
        (:math:`e^\\rho`, the factor on flows relative to unilateral control), ``n_pairs`` observed.
    """
    import arviz as az

    eff = idata.posterior["mig_regime_effect"]
    hdi = az.hdi(eff, hdi_prob=hdi_prob)["mig_regime_effect"]
    rows = []
    n_obs = {}
    if "constant_data" in idata.groups() and "regime_idx" in idata.constant_data:
        codes = idata.constant_data["regime_idx"].values
        n_obs = {r: int((codes == k).sum()) for k, r in enumerate(REGIMES)}
    for r in REGIMES:
        m = float(eff.sel(regime=r).mean())
        lo, hi = (float(v) for v in hdi.sel(regime=r).values)
        rows.append({"regime": r, "mean": m, "hdi_low": lo, "hdi_high": hi, "multiplier_mean": float(
            np.exp(eff.sel(regime=r)).mean()), "multiplier_low": np.exp(lo), "multiplier_high": np.exp(hi),
            "n_pairs": n_obs.get(r, 0)})
    return pd.DataFrame(rows).set_index("regime")


# ------------------------------------------------------------------------------------------------ loading
def load_flow_data(catalog: Any, *, flows: pd.DataFrame | None = None, flows_id: str = "abel_cohen_flows_40",
                   regimes_id: str = "border_regimes", boundaries_id: str = "natural_earth_110m_admin0",
                   extra_countries: Sequence[str] = (), period_years: float = 5.0,
                   stress_start: int = 2008) -> tuple[MigrationInputs, xr.Dataset, xr.Dataset, pd.DataFrame]:
    """Read flows, boundaries, WDI, IDMC and regime tables through the catalog and assemble the inputs.

    Parameters
    ----------
    catalog : ResolvedCatalog
        The run's catalog.
    flows : pandas.DataFrame, optional
        A flow table (``origin``, ``destination``, ``flow``, optional ``period_start``) replacing the
        catalog entry ``flows_id``.
    flows_id, regimes_id, boundaries_id : str
        Catalog ids. Countries missing from ``boundaries_id`` are taken from
        :data:`FALLBACK_BOUNDARIES` (e.g. Hong Kong, absent at 1:110m).
    extra_countries : sequence of str
        Countries to include in the covariates and geography besides those in the flows (e.g. the study
        area, for projections).
    period_years : float
        Length of the flow period.
    stress_start : int
        First year of the climate-stress average (which ends in the flow period's first year).

    Returns
    -------
    inputs : MigrationInputs
    covariates : xr.Dataset
        :func:`country_covariates` for flow and extra countries.
    geography : xr.Dataset
        :func:`climmig.mobility.geography.country_geography`.
    regime_table : pandas.DataFrame
        The bloc table.
    """
    from climmig.mobility.geography import country_geography
    from climmig.mobility.regimes import pair_regimes

    f = catalog.open(flows_id) if flows is None else flows
    missing = [c for c in ("origin", "destination", "flow") if c not in f.columns]
    if missing:
        raise DataError(f"the flow table lacks columns {missing}; it needs origin, destination, flow "
                        "(optional period_start)")
    start = int(f["period_start"].iloc[0]) if "period_start" in f.columns else 2015
    f = f[["origin", "destination", "flow"]].copy()
    countries = sorted(set(f["origin"]) | set(f["destination"]))
    allc = list(dict.fromkeys([*countries, *extra_countries]))
    bounds = [catalog.open(boundaries_id)]
    bounds += [catalog.open(b) for b in FALLBACK_BOUNDARIES if b in catalog.ids() and b != boundaries_id]
    geo = country_geography(bounds, allc)
    years = list(range(start, start + int(period_years)))
    cov = country_covariates(catalog.open("wdi_population"), catalog.open("wdi_gdp_per_capita"),
                             catalog.open("idmc_gidd_weather_events"), allc, years,
                             list(range(stress_start, max(start, stress_start + 1))))
    table = catalog.open(regimes_id)
    reg = pair_regimes(table, allc, [start]).isel(year=0, drop=True)
    inputs = migration_inputs(f, cov, geo, reg, period_years=period_years)
    return inputs, cov, geo, table


def regime_scenario_summary(idata: Any, covariates: xr.Dataset, geography: xr.Dataset,
                            regime_table: pd.DataFrame, countries: Sequence[str], changes: Sequence[Any], *,
                            samples: int, seed: int) -> pd.DataFrame:
    """Change in expected cross-border emigration from border-regime changes, at today's covariates.

    The drivers are held at the fitted period's population, GDP and climate stress (exposure ratio 1), so
    the table isolates the regime effect; full projections use :func:`regime_change_effect` with the
    exposure stage's drivers.

    Parameters
    ----------
    idata : az.InferenceData
        Migration fit.
    covariates, geography : xr.Dataset
        From :func:`load_flow_data`.
    regime_table : pandas.DataFrame
        The bloc table.
    countries : sequence of str
        Regions to report.
    changes : sequence of BorderRegimeChange
        The config's ``border_regimes``.
    samples, seed : int
        Posterior draws and seed.

    Returns
    -------
    pandas.DataFrame
        Per region (and ``total``): ``baseline`` (typical emigration to the other listed regions: sum of
        the pairs' predictive medians, people per year, posterior median), ``change_median``, ``change_q05``, ``change_q95`` (people per year) and
        ``relative_median`` (change / baseline), after the last change's ``from_year``.
    """
    from climmig.mobility.regimes import apply_regime_changes, pair_regimes

    regions = list(countries)
    year = max(int(c.from_year) for c in changes)
    base = pair_regimes(regime_table, regions, [year])
    changed = apply_regime_changes(base, changes)
    drivers = xr.Dataset({
        "population": covariates["population"].sel(region=regions),
        "gdp_per_capita": covariates["gdp_per_capita"].sel(region=regions),
        "gdp_per_capita_baseline": covariates["gdp_per_capita"].sel(region=regions),
        "climate_stress": covariates["climate_stress"].sel(region=regions),
        "distance_km": geography["distance_km"].sel(origin=regions, destination=regions),
        "contiguous": geography["contiguous"].sel(origin=regions, destination=regions),
    })
    a = predict_flows(idata, drivers, base, samples=samples, seed=seed)
    b = predict_flows(idata, drivers, changed, samples=samples, seed=seed)
    mask = ~a["internal"]
    ea = a["typical_migration_flow"].where(mask).sum("destination").isel(year=0).rename(origin="region")
    eb = b["typical_migration_flow"].where(mask).sum("destination").isel(year=0).rename(origin="region")
    ea = xr.concat([ea, ea.sum("region").expand_dims(region=["total"])], dim="region")
    eb = xr.concat([eb, eb.sum("region").expand_dims(region=["total"])], dim="region")
    diff = eb - ea
    q = diff.quantile([0.05, 0.5, 0.95], dim="sample")
    return pd.DataFrame({
        "baseline": ea.median("sample").to_pandas(),
        "change_median": q.sel(quantile=0.5).to_pandas(),
        "change_q05": q.sel(quantile=0.05).to_pandas(),
        "change_q95": q.sel(quantile=0.95).to_pandas(),
        "relative_median": (diff / ea).median("sample").to_pandas(),
    })

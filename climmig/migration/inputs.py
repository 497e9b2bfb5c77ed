"""Inputs of the single-period cross-border migration model: pair tables, country covariates, the climate
stress index, and the bundled flow data. The model is in :mod:`climmig.migration.model`, its projection in
:mod:`climmig.migration.predict`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.migration.geography import FALLBACK_BOUNDARIES
from climmig.migration.regimes import REGIMES

__all__ = ["FREE_REGIMES", "MODEL_NAME", "MigrationInputs", "climate_stress_index", "country_covariates",
           "load_flow_data", "migration_inputs"]

logger = logging.getLogger(__name__)

MODEL_NAME = "migration_gravity_negbin"
FREE_REGIMES: tuple[str, ...] = REGIMES[1:]  # unilateral is the reference (effect 0)


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
        From :func:`climmig.migration.geography.country_geography`.
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
        :func:`climmig.migration.geography.country_geography`.
    regime_table : pandas.DataFrame
        The bloc table.
    """
    from climmig.migration.geography import country_geography
    from climmig.migration.regimes import pair_regimes

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

"""The all-country flow panel of the cross-border gravity model: one row per ordered pair and 5-year period.

Assembles, for every ordered pair of countries (origin != destination) present in a period of the Abel &
Cohen table, the observed flow (0 where the table lists none) and the covariates of the gravity model:
populations and GDP per capita of both countries (WDI, mean over the period's years), great-circle distance
and contiguity (Natural Earth), the bilateral migrant stock at the start of the period (UN DESA: the
network term), the border regime in force in the period's first year, and the origin's flood-displacement
rate over the period (Dartmouth Flood Observatory archive: the climate-stress term).

Codes of the flow table that the covariate tables spell differently are mapped (:data:`CODE_ALIASES`:
former Sudan ``SUD`` -> ``SDN``, Serbia and Montenegro ``SCG`` -> ``SRB``); countries without population,
GDP or boundary are dropped and counted (``FlowPanel.dropped``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = ["CODE_ALIASES", "FlowPanel", "build_flow_panel", "flood_stress_rate", "period_covariates"]

logger = logging.getLogger(__name__)

#: flow-table codes spelled differently in WDI and Natural Earth (the covariates of the successor are used)
CODE_ALIASES: dict[str, str] = {"SUD": "SDN", "SCG": "SRB"}
PERIOD_YEARS = 5


@dataclass(frozen=True)
class FlowPanel:
    """Rows of the gravity model with their (uncentred) covariates.

    Attributes
    ----------
    rows : pandas.DataFrame
        ``period`` (first year), ``origin``, ``destination``, ``flow`` (people over the period),
        ``log_pop_origin``, ``log_pop_destination``, ``log_gdp_origin``, ``log_gdp_destination``,
        ``log_distance``, ``contiguous``, ``log_stock`` (log1p of the bilateral stock at the period's start),
        ``flood_stress`` (log1p of the origin's flood displacement per 1000 people per year), ``regime``.
    countries : tuple of str
        Every country of the rows (sorted).
    dropped : dict of str to float
        Countries dropped for lack of covariates, and the share of the table's flows they carried.
    measure : str
        The flow estimate used (e.g. ``da_pb_closed``).
    """

    rows: pd.DataFrame
    countries: tuple[str, ...]
    dropped: dict[str, Any] = field(default_factory=dict)
    measure: str = "da_pb_closed"

    @property
    def periods(self) -> list[int]:
        """Sorted first years of the periods."""
        return sorted(int(p) for p in self.rows["period"].unique())


def flood_stress_rate(floods: pd.DataFrame, boundaries: Any, population: pd.Series,
                      years: Sequence[int]) -> pd.Series:
    """People displaced by large floods per 1000 inhabitants per year, by country (DFO archive).

    Each event is placed in the country containing its centroid (nearest country for centroids at sea).

    Parameters
    ----------
    floods : pandas.DataFrame
        DFO archive (``long``, ``lat``, ``Began``, ``Displaced``).
    boundaries : geopandas.GeoDataFrame
        Countries with an ISO3 column (``ISO_A3``, ``ADM0_A3`` or ``iso3``).
    population : pandas.Series
        Mean population over ``years`` by ISO3.
    years : sequence of int
        Years averaged.

    Returns
    -------
    pandas.Series, [1000-1 yr-1]
        Indexed like ``population``; 0 where no event is recorded.
    """
    import geopandas as gpd

    from climmig.migration.geography import _iso_codes

    f = floods.copy()
    f["year"] = pd.to_datetime(f["Began"], errors="coerce").dt.year
    f = f[f["year"].isin(list(years))]
    f["Displaced"] = pd.to_numeric(f["Displaced"], errors="coerce").fillna(0.0)
    if f.empty:
        return pd.Series(0.0, index=population.index)
    pts = gpd.GeoDataFrame(f[["Displaced"]], geometry=gpd.points_from_xy(f["long"], f["lat"]), crs="EPSG:4326")
    b = boundaries.to_crs("EPSG:4326").copy()
    b["iso3"] = _iso_codes(b, None).to_numpy()
    hit = gpd.sjoin_nearest(pts.to_crs("EPSG:8857"), b[["iso3", "geometry"]].to_crs("EPSG:8857"), how="left")
    hit = hit[~hit.index.duplicated(keep="first")]
    total = hit.groupby("iso3")["Displaced"].sum().reindex(population.index).fillna(0.0)
    return 1000.0 * total / len(list(years)) / population


def period_covariates(population: pd.DataFrame, gdp: pd.DataFrame, countries: Sequence[str],
                      start: int) -> pd.DataFrame:
    """Mean WDI population and GDP per capita of a 5-year period (countries without values are NaN).

    Parameters
    ----------
    population : pandas.DataFrame
        WDI population, long (``iso3``, ``year``, ``population``).
    gdp : pandas.DataFrame
        WDI GDP per capita, wide (``iso3``, one column per year).
    countries : sequence of str
        ISO3 codes (already mapped through :data:`CODE_ALIASES`).
    start : int
        First year of the period.

    Returns
    -------
    pandas.DataFrame
        ``population`` [1] and ``gdp_per_capita`` [USD], index ``countries``.
    """
    years = list(range(start, start + PERIOD_YEARS))
    pop = population[population["year"].isin(years)].groupby("iso3")["population"].mean()
    wide = gdp.drop_duplicates("iso3").set_index("iso3")
    cols = [str(y) for y in years if str(y) in wide.columns]
    g = wide[cols].apply(pd.to_numeric, errors="coerce").mean(axis=1)
    # a country with no GDP in the period takes its nearest earlier value within 10 years
    earlier = [str(y) for y in range(start - 10, start) if str(y) in wide.columns]
    back = wide[earlier].apply(pd.to_numeric, errors="coerce").ffill(axis=1).iloc[:, -1] if earlier else None
    if back is not None:
        g = g.fillna(back)
    return pd.DataFrame({"population": pop.reindex(list(countries)), "gdp_per_capita": g.reindex(list(countries))})


def build_flow_panel(flows: pd.DataFrame, stocks: pd.DataFrame, population: pd.DataFrame, gdp: pd.DataFrame,
                     floods: pd.DataFrame, geography: xr.Dataset, regime_table: pd.DataFrame,
                     flood_boundaries: Any, *, measure: str = "flow",
                     aliases: Mapping[str, str] = CODE_ALIASES) -> FlowPanel:
    """Assemble the complete pair x period panel (zeros included) with the gravity covariates.

    Parameters
    ----------
    flows : pandas.DataFrame
        Abel & Cohen table (``period_start``, ``origin``, ``destination`` and the column ``measure``).
    stocks : pandas.DataFrame
        UN DESA bilateral stocks (``year``, ``origin``, ``destination``, ``stock``).
    population, gdp : pandas.DataFrame
        WDI tables (see :func:`period_covariates`).
    floods : pandas.DataFrame
        DFO flood archive.
    geography : xr.Dataset
        :func:`climmig.migration.geography.country_geography` of (at least) every country with covariates.
    regime_table : pandas.DataFrame
        Border-regime bloc table.
    flood_boundaries : geopandas.GeoDataFrame
        Boundaries used to place flood events in countries.
    measure : str
        Column of ``flows`` modelled (the catalog renames ``da_pb_closed`` to ``flow``; the outward part is
        ``da_pb_closed_outward``).
    aliases : mapping of str to str
        Flow-table code -> covariate code.

    Returns
    -------
    FlowPanel

    Raises
    ------
    DataError
        If a required column is missing.
    """
    from climmig.migration.regimes import pair_regimes

    need = {"period_start", "origin", "destination", measure}
    if missing := sorted(need - set(flows.columns)):
        raise DataError(f"the flow table lacks columns {missing}")
    f = flows.assign(origin=flows["origin"].replace(dict(aliases)),
                     destination=flows["destination"].replace(dict(aliases)))
    f = f[f["origin"] != f["destination"]]
    s = stocks.assign(origin=stocks["origin"].replace(dict(aliases)),
                      destination=stocks["destination"].replace(dict(aliases)))
    s = s.groupby(["year", "origin", "destination"], as_index=False)["stock"].sum()
    geo_c = set(str(c) for c in geography["region"].values)
    frames, dropped, total_flow, lost_flow = [], {}, 0.0, 0.0
    for start in sorted(int(p) for p in f["period_start"].unique()):
        fp = f[f["period_start"] == start].groupby(["origin", "destination"])[measure].sum()
        total_flow += float(fp.sum())
        present = sorted(set(fp.index.get_level_values(0)) | set(fp.index.get_level_values(1)))
        cov = period_covariates(population, gdp, present, start)
        ok = cov.notna().all(axis=1) & cov.index.isin(list(geo_c)) & (cov["population"] > 0)
        gone = [c for c in present if not ok.get(c, False)]
        for c in gone:
            dropped.setdefault(c, []).append(start)
        keep = [c for c in present if ok.get(c, False)]
        lost_flow += float(fp[~(fp.index.get_level_values(0).isin(keep)
                                & fp.index.get_level_values(1).isin(keep))].sum())
        n = len(keep)
        oi, di = np.where(~np.eye(n, dtype=bool))
        o, d = np.asarray(keep)[oi], np.asarray(keep)[di]
        idx = pd.MultiIndex.from_arrays([o, d])
        y = fp.reindex(idx).fillna(0.0).to_numpy(float)
        st = s[s["year"] == start].set_index(["origin", "destination"])["stock"].reindex(idx).fillna(0.0)
        cv = cov.loc[keep]
        lp, lg = np.log(cv["population"]), np.log(cv["gdp_per_capita"])
        rate = flood_stress_rate(floods, flood_boundaries, cv["population"], range(start, start + PERIOD_YEARS))
        geo = geography.sel(origin=keep, destination=keep)
        reg = pair_regimes(regime_table, keep, [start]).isel(year=0, drop=True)
        frames.append(pd.DataFrame({
            "period": start, "origin": o, "destination": d, "flow": np.round(y).astype(np.int64),
            "log_pop_origin": lp.to_numpy()[oi], "log_pop_destination": lp.to_numpy()[di],
            "log_gdp_origin": lg.to_numpy()[oi], "log_gdp_destination": lg.to_numpy()[di],
            "log_distance": np.log(np.maximum(geo["distance_km"].to_numpy()[oi, di], 1.0)),
            "contiguous": geo["contiguous"].to_numpy()[oi, di].astype(float),
            "log_stock": np.log1p(st.to_numpy(float)),
            "flood_stress": np.log1p(rate.to_numpy(float))[oi],
            "regime": reg.to_numpy()[oi, di].astype(str),
        }))
    rows = pd.concat(frames, ignore_index=True)
    info = {"countries": {c: ps for c, ps in sorted(dropped.items())},
            "share_of_flows": lost_flow / total_flow if total_flow else 0.0}
    if dropped:
        logger.info("flow panel: %d countries without covariates dropped (%.2f %% of the flows): %s",
                    len(dropped), 100 * info["share_of_flows"], ", ".join(sorted(dropped)))
    countries = tuple(sorted(set(rows["origin"]) | set(rows["destination"])))
    return FlowPanel(rows, countries, info, measure)


def available_boundaries(boundaries: Sequence[Any], countries: Sequence[str]) -> list[str]:
    """The countries (of ``countries``) found in at least one boundary set."""
    from climmig.migration.geography import _iso_codes

    have: set[str] = set()
    for gdf in boundaries:
        have |= set(_iso_codes(gdf, None))
    return [c for c in countries if c in have]


def load_flow_panel(catalog: Any, *, flows_id: str = "abel_cohen_flows_2022",
                    stocks_id: str = "undesa_bilateral_stock", regimes_id: str = "border_regimes",
                    boundaries_id: str = "natural_earth_110m_admin0", measure: str = "flow",
                    extra_countries: Sequence[str] = ()) -> tuple[FlowPanel, xr.Dataset, pd.DataFrame]:
    """Read every table through the catalog and build the panel (the only I/O of the all-country fit).

    Parameters
    ----------
    catalog : ResolvedCatalog
        The run's catalog.
    flows_id, stocks_id, regimes_id, boundaries_id : str
        Catalog ids (Natural Earth 1:50m fills countries missing at ``boundaries_id``).
    measure : str
        Flow column modelled: ``flow`` (= ``da_pb_closed``, the total) or ``da_pb_closed_outward``.
    extra_countries : sequence of str
        Countries whose geography is needed besides the panel's (e.g. the study area).

    Returns
    -------
    panel : FlowPanel
    geography : xr.Dataset
        Distances and contiguity of every country with a boundary.
    regime_table : pandas.DataFrame
    """
    from climmig.migration.geography import FALLBACK_BOUNDARIES, country_geography

    flows = catalog.open(flows_id)
    bounds = [catalog.open(boundaries_id)]
    bounds += [catalog.open(b) for b in FALLBACK_BOUNDARIES if b in catalog.ids() and b != boundaries_id]
    codes = sorted({CODE_ALIASES.get(c, c) for c in set(flows["origin"]) | set(flows["destination"])}
                   | set(extra_countries))
    geo = country_geography(bounds, available_boundaries(bounds, codes))
    table = catalog.open(regimes_id)
    panel = build_flow_panel(flows, catalog.open(stocks_id), catalog.open("wdi_population"),
                             catalog.open("wdi_gdp_per_capita"), catalog.open("dfo_flood_archive"), geo, table,
                             bounds[-1], measure=measure)
    return panel, geo, table

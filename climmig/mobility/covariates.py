"""Country-year covariates of the displacement model (bundled World Bank WDI) and world regions for pooling.

* population (``wdi_population``, people), the model's offset;
* GDP per capita (``wdi_gdp_per_capita``, current USD);
* employment in agriculture (``wdi_agri_employment``, % -> fraction);
* rural population share (``wdi_rural_share``, % -> fraction).

WDI files list aggregates (``WLD``, ``SSF``, ...) next to countries; only the requested countries are kept
(and the known WDI aggregate codes are always dropped). Gaps inside a country's series are interpolated
linearly and the ends carried forward/backward (the bundled rural-share file stops in 2016). The bundled ``wdi_rural_share`` file actually holds
``SP.RUR.TOTL`` (rural population in people, despite its title); it is recognised from its ``Indicator
Code`` column and divided by total population. A country
without any figure for an indicator gets its world region's median for that year (flagged in
``imputed_<name>``). Countries without population cannot carry the offset and are dropped, and listed.

World regions come from the Natural Earth boundaries (``REGION_WB``, joined on ``ISO_A3_EH`` then
``ADM0_A3``), then the 1:50m file, then :data:`REGION_FALLBACK` for territories missing from both.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from climmig.countries import natural_earth_code
from climmig.errors import DataError

__all__ = [
    "COVARIATES",
    "REGION_FALLBACK",
    "WDI_AGGREGATES",
    "build_covariates",
    "load_covariates",
    "load_world_regions",
    "wdi_long",
    "world_regions",
]

logger = logging.getLogger(__name__)

#: covariate name -> (catalog id, scale factor to the stored unit, units)
COVARIATES: dict[str, tuple[str, float, str]] = {
    "population": ("wdi_population", 1.0, "1"),
    "gdp_per_capita": ("wdi_gdp_per_capita", 1.0, "USD"),
    "agricultural_share": ("wdi_agri_employment", 0.01, "1"),
    "rural_share": ("wdi_rural_share", 0.01, "1"),
}

#: World Bank WDI aggregate codes (regions, income groups, lending groups, world).
WDI_AGGREGATES = frozenset(
    "AFE AFW ARB CEB CSS EAP EAR EAS ECA ECS EMU EUU FCS HIC HPC IBD IBT IDA IDB IDX INX LAC LCN LDC LIC LMC "
    "LMY LTE MEA MIC MNA NAC OED OSS PRE PSS PST SAS SSA SSF SST TEA TEC TLA TMN TSA TSS UMC WLD".split()
)

#: World Bank regions of IDMC codes and territories absent from both Natural Earth files (by geography).
REGION_FALLBACK: dict[str, str] = {
    "AB9": "Sub-Saharan Africa",  # Abyei Area, between Sudan and South Sudan
    "XKX": "Europe & Central Asia",  # Kosovo (Natural Earth codes it KOS)
    "GLP": "Latin America & Caribbean",  # Guadeloupe
    "MTQ": "Latin America & Caribbean",  # Martinique
    "GUF": "Latin America & Caribbean",  # French Guiana
    "MYT": "Sub-Saharan Africa",  # Mayotte
    "REU": "Sub-Saharan Africa",  # Reunion
    "TUV": "East Asia & Pacific",  # Tuvalu
}


def wdi_long(df: pd.DataFrame, name: str, countries: Sequence[str] | None = None) -> pd.Series:
    """A WDI table (wide, one column per year; or long with ``year`` and a value column) as a long series.

    Parameters
    ----------
    df : pandas.DataFrame
        Catalog table with an ``iso3`` column.
    name : str
        Name of the returned series (and of the value column in a long table).
    countries : sequence of str, optional
        Keep only these codes (aggregates are dropped in any case).

    Returns
    -------
    pandas.Series
        Float values indexed by (``iso3``, ``year``); missing values dropped.
    """
    if "iso3" not in df.columns:
        raise DataError(f"the WDI table for {name} has no iso3 column (has {list(df.columns)[:6]}...)")
    if "year" in df.columns:
        value = name if name in df.columns else next(c for c in df.columns if c not in ("iso3", "year",
                                                                                      "country_name"))
        long = df[["iso3", "year", value]].rename(columns={value: name})
    else:
        years = [c for c in df.columns if str(c).strip().isdigit() and len(str(c).strip()) == 4]
        long = df.melt(id_vars=["iso3"], value_vars=years, var_name="year", value_name=name)
    long = long.assign(iso3=long["iso3"].astype(str).str.strip().str.upper(),
                       year=pd.to_numeric(long["year"], errors="coerce"),
                       **{name: pd.to_numeric(long[name], errors="coerce")})
    long = long[~long["iso3"].isin(WDI_AGGREGATES)].dropna()
    if countries is not None:
        long = long[long["iso3"].isin(set(countries))]
    long["year"] = long["year"].astype(int)
    dup = long[long.duplicated(["iso3", "year"], keep=False)]
    if not dup.empty:
        first = dup.iloc[0]
        raise DataError(f"the WDI table for {name} has {len(dup)} rows for duplicated country-years (e.g. "
                        f"{first['iso3']} {first['year']}); keep one row per country")
    return long.set_index(["iso3", "year"])[name].sort_index()


def world_regions(iso3: Sequence[str], boundaries: Sequence[Any] = (), column: str = "REGION_WB") -> pd.Series:
    """World region of each country, for partial pooling.

    Parameters
    ----------
    iso3 : sequence of str
        Country codes.
    boundaries : sequence of GeoDataFrame or DataFrame
        Natural Earth admin-0 tables, tried in order (columns matched case-insensitively: ``ISO_A3_EH``,
        ``ISO_A3``, ``ADM0_A3`` and ``column``).
    column : str
        Region column (``REGION_WB`` or ``SUBREGION``).

    Returns
    -------
    pandas.Series
        Region name indexed by ``iso3``; ``"Unknown"`` where no source has the country (logged).
    """
    out: dict[str, str] = {}
    for table in boundaries:
        cols = {c.lower(): c for c in table.columns}
        if column.lower() not in cols:
            continue
        reg = table[cols[column.lower()]].astype(str)
        for key in ("iso_a3_eh", "iso_a3", "adm0_a3"):
            if key not in cols:
                continue
            lookup = dict(zip(table[cols[key]].astype(str), reg, strict=True))
            for code in iso3:
                if code in out:
                    continue
                hit = lookup.get(natural_earth_code(code))
                if hit is not None and hit not in ("-99", "nan", "Antarctica"):
                    out[code] = hit
    missing = []
    for code in iso3:
        if code not in out:
            if code in REGION_FALLBACK and column.upper() == "REGION_WB":
                out[code] = REGION_FALLBACK[code]
            else:
                out[code] = "Unknown"
                missing.append(code)
    if missing:
        logger.warning("no world region for %s; pooled in region 'Unknown'", ", ".join(missing))
    s = pd.Series({c: out[c] for c in iso3}, name="world_region", dtype=str)
    s.index.name = "iso3"
    return s


def _fill_years(s: pd.Series, countries: Sequence[str], years: Sequence[int]) -> pd.DataFrame:
    wide = s.unstack("year")
    all_years = sorted(set(wide.columns) | set(years))
    wide = wide.reindex(index=list(countries), columns=all_years)
    wide = wide.interpolate(axis=1, limit_area="inside").ffill(axis=1).bfill(axis=1)
    return wide[list(years)]


def _indicator(df: pd.DataFrame) -> str | None:
    """The WDI indicator code of a wide table (``Indicator Code`` column), if it has one."""
    if "Indicator Code" not in df.columns:
        return None
    codes = df["Indicator Code"].dropna().astype(str).unique()
    return str(codes[0]) if len(codes) == 1 else None


def build_covariates(tables: dict[str, pd.DataFrame], countries: Sequence[str], years: Sequence[int],
                     regions: pd.Series) -> pd.DataFrame:
    """Assemble the covariate panel for the given countries and years.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        ``population``, ``gdp_per_capita``, ``agricultural_share``, ``rural_share`` WDI tables.
    countries : sequence of str
        Codes wanted.
    years : sequence of int
        Years wanted.
    regions : pandas.Series
        World region per code (for imputing missing indicators).

    Returns
    -------
    pandas.DataFrame
        Indexed by (``iso3``, ``year``) with the four covariates (shares as fractions), ``imputed_<name>``
        flags and ``world_region``; countries without population are dropped (``attrs["dropped"]``).
    """
    years = sorted(int(y) for y in years)
    frames = {}
    flags = {}
    for name, (_, scale, _) in COVARIATES.items():
        series = wdi_long(tables[name], name, countries) * scale
        if name == "rural_share" and _indicator(tables[name]) == "SP.RUR.TOTL":
            # the file holds rural population counts, not the share: divide by total population
            logger.warning("the rural-share table holds SP.RUR.TOTL (rural population, people); "
                           "using rural population / total population")
            pop = wdi_long(tables["population"], "population", countries)
            series = (series / scale / pop.reindex(series.index)).dropna().clip(0.0, 1.0).rename(name)
        wide = _fill_years(series, countries, years)
        flags[name] = wide.isna()
        if name != "population":
            reg = regions.reindex(wide.index)
            med = wide.groupby(reg).transform("median")
            wide = wide.fillna(med).fillna(wide.median())
        frames[name] = wide
    pop = frames["population"]
    dropped = sorted(pop.index[pop.isna().any(axis=1)])
    if dropped:
        logger.warning("no WDI population for %s; these cannot be modelled", ", ".join(dropped))
    keep = [c for c in countries if c not in set(dropped)]
    if not keep:
        raise DataError("none of the observed countries has WDI population data")
    cols = {}
    for name in COVARIATES:
        cols[name] = frames[name].loc[keep].stack()
        cols[f"imputed_{name}"] = flags[name].loc[keep].stack()
    out = pd.DataFrame(cols)
    out.index = out.index.set_names(["iso3", "year"])
    out["world_region"] = regions.reindex(out.index.get_level_values("iso3")).to_numpy()
    if (out["population"] <= 0).any():
        raise DataError("WDI population has non-positive values")
    out.attrs["dropped"] = dropped
    return out


def load_world_regions(catalog: Any, iso3: Sequence[str], column: str = "REGION_WB") -> pd.Series:
    """World regions from the bundled Natural Earth boundaries (110m, then 50m, then the fallback table).

    Parameters
    ----------
    catalog : climmig.catalog.ResolvedCatalog
        The run's catalog.
    iso3 : sequence of str
        Country codes.
    column : str
        ``REGION_WB`` or ``SUBREGION``.

    Returns
    -------
    pandas.Series
    """
    tables = []
    for cid in ("natural_earth_110m_admin0", "natural_earth_50m_admin0"):
        if cid in catalog.ids():
            tables.append(pd.DataFrame(catalog.open(cid).drop(columns="geometry")))
    return world_regions(list(iso3), tables, column)


def load_covariates(catalog: Any, countries: Sequence[str], years: Sequence[int]) -> pd.DataFrame:
    """Open the WDI entries through the catalog and build the covariate panel.

    Parameters
    ----------
    catalog : climmig.catalog.ResolvedCatalog
        The run's catalog (entries of :data:`COVARIATES`).
    countries : sequence of str
        Codes wanted.
    years : sequence of int
        Years wanted.

    Returns
    -------
    pandas.DataFrame
        See :func:`build_covariates`; ``attrs["sha256"]`` maps catalog ids to their checksums.
    """
    tables = {}
    sha = {}
    for name, (cid, _, _) in COVARIATES.items():
        df = catalog.open(cid)
        tables[name] = df
        sha[cid] = df.attrs.get("climmig_sha256", "")
    regions = load_world_regions(catalog, countries)
    out = build_covariates(tables, countries, years, regions)
    out.attrs["sha256"] = sha
    return out

"""Observed new disaster displacements (IDMC) as a tidy country x year x hazard table.

Three public IDMC formats are understood:

``gidd-country-year``
    The GIDD country-year table (``ISO3, Name, Year, ..., Disaster Internal Displacements (Raw), ...``). It
    has one all-hazards disaster figure per country-year, so its tidy rows carry ``hazard = "all"``.
``gidd-events``
    The GIDD disaster-event table (``ISO3, Year, Hazard Type, Disaster Internal Displacements (Raw), ...``),
    one row per event and year, as CSV or xlsx.
``hdx-events``
    IDMC's event export as published on HDX: a CSV whose second row is an HXL hashtag row
    (``#country+code``), with columns ``iso3, year, hazard_type_name, new_displacement``.

"Not reported" versus "no event recorded"
-----------------------------------------
IDMC never writes zeros for quiet years: a country-year-hazard without any event row simply has no row.
Every tidy row therefore carries a ``status``:

* ``"reported"``: at least one figure was given; ``displacements`` is the sum of the given figures.
* ``"no_event"``: the country appears in the table (IDMC monitors it) but no event of this hazard was
  recorded in this year; ``displacements`` is ``0``. These zeros are observations and enter the fit.
* ``"not_reported"``: rows exist but every figure is blank; ``displacements`` is NaN and the cell is left
  out of fitting and scoring (it is neither zero nor known).

``reported`` is the boolean ``status == "reported"``. Countries never mentioned in the table get no rows at
all (nothing is known about them).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from climmig.errors import DataError

__all__ = [
    "FORMATS",
    "HAZARD_NAMES",
    "detect_format",
    "normalise_iso3",
    "read_idmc",
    "tidy_idmc",
]

logger = logging.getLogger(__name__)

Format = Literal["gidd-country-year", "gidd-events", "hdx-events"]
FORMATS: tuple[str, ...] = ("gidd-country-year", "gidd-events", "hdx-events")

#: IDMC hazard-type names (lower case) mapped to climmig's hazards; other hazards are ignored.
HAZARD_NAMES: dict[str, str] = {
    "flood": "flood",
    "flooding": "flood",
    "storm": "storm",
    "drought": "drought",
}

_ISO3 = ("iso3", "ISO3", "#country+code")
_YEAR = ("year", "Year", "#date+year")
_HAZARD = ("hazard_type", "Hazard Type", "hazard_type_name")
_VALUE_EVENTS = ("Disaster Internal Displacements (Raw)", "Disaster Internal Displacements", "new_displacement",
                 "new_displacement_rounded")
_VALUE_CY = ("Disaster Internal Displacements (Raw)", "Disaster Internal Displacements")
#: IDMC codes that are not ISO 3166-1 but are kept as they are: Abyei Area, Kosovo.
IDMC_SPECIAL_CODES: dict[str, str] = {"AB9": "Abyei Area (IDMC code)", "XKX": "Kosovo (user-assigned code)"}


def _first(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def detect_format(df: pd.DataFrame) -> Format:
    """Detect which IDMC format a table is in, from its columns.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read (catalog-renamed columns such as ``iso3``/``hazard_type`` are understood).

    Returns
    -------
    {"gidd-country-year", "gidd-events", "hdx-events"}

    Raises
    ------
    DataError
        If the columns match none of the formats.
    """
    cols = set(map(str, df.columns))
    if "hazard_type_name" in cols and ("new_displacement" in cols or "new_displacement_rounded" in cols):
        return "hdx-events"
    if _first(df, _HAZARD) and _first(df, _VALUE_EVENTS):
        return "gidd-events"
    if _first(df, _VALUE_CY) and _first(df, _ISO3) and _first(df, _YEAR):
        return "gidd-country-year"
    raise DataError(
        "cannot tell which IDMC format this table is in (columns: "
        f"{sorted(cols)[:10]}...); expected GIDD country-year (ISO3, Year, Disaster Internal Displacements), "
        "GIDD events (+ Hazard Type) or HDX events (iso3, year, hazard_type_name, new_displacement); "
        "name it with --format"
    )


def normalise_iso3(codes: pd.Series) -> pd.Series:
    """Upper-case, strip and validate country codes; IDMC's ``AB9`` (Abyei) and ``XKX`` (Kosovo) are kept.

    Parameters
    ----------
    codes : pandas.Series
        Raw codes.

    Returns
    -------
    pandas.Series
        Three-character codes; anything else becomes ``<NA>``.
    """
    out = codes.astype("string").str.strip().str.upper()
    ok = out.str.fullmatch(r"[A-Z][A-Z0-9]{2}").fillna(False).astype(bool)
    return out.where(ok)


def _events(df: pd.DataFrame, fmt: Format) -> pd.DataFrame:
    iso = _first(df, _ISO3)
    year = _first(df, _YEAR)
    if fmt == "hdx-events":
        hz = "hazard_type_name"
        val = _first(df, ("new_displacement", "new_displacement_rounded"))
    elif fmt == "gidd-events":
        hz = _first(df, _HAZARD)
        val = _first(df, _VALUE_EVENTS)
    else:
        hz = None
        val = _first(df, _VALUE_CY)
    if iso is None or year is None or val is None or (fmt != "gidd-country-year" and hz is None):
        raise DataError(f"the table lacks the columns of the {fmt} format (has {list(df.columns)[:10]}...); "
                        "check --format (or leave it out to detect the format)")
    out = pd.DataFrame({
        "iso3": normalise_iso3(df[iso]),
        "year": pd.to_numeric(df[year], errors="coerce"),
        "value": pd.to_numeric(df[val], errors="coerce"),
    })
    if hz is None:
        out["hazard"] = "all"
    else:
        out["hazard"] = df[hz].astype("string").str.strip().str.lower().map(HAZARD_NAMES)
    bad = out["iso3"].isna() | out["year"].isna()
    if bad.any():
        logger.warning("dropping %d IDMC rows without a valid country code or year", int(bad.sum()))
    out = out[~bad].copy()
    out["year"] = out["year"].astype(int)
    if (out["value"] < 0).any():
        raise DataError("the IDMC table has negative displacement figures; it is corrupted")
    return out


def tidy_idmc(df: pd.DataFrame, fmt: Format | Literal["auto"] = "auto",
              hazards: Sequence[str] = ("flood", "storm", "drought"),
              years: Sequence[int] | None = None) -> pd.DataFrame:
    """Turn an IDMC table (any supported format) into the tidy country x year x hazard table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read (from the catalog or :func:`read_idmc`).
    fmt : {"auto", "gidd-country-year", "gidd-events", "hdx-events"}
        Format, or ``"auto"`` to detect it.
    hazards : sequence of str
        Hazards to keep (event formats). The country-year format always gives ``"all"``.
    years : sequence of int, optional
        Years to cover (default: every year from the first to the last in the table).

    Returns
    -------
    pandas.DataFrame
        Columns ``iso3``, ``year``, ``hazard``, ``displacements`` (float, people; NaN when not reported),
        ``status`` (``reported``/``no_event``/``not_reported``) and ``reported`` (bool); one row per
        country in the table x year x hazard. ``attrs`` hold ``format`` and ``special_codes`` found.
    """
    fmt = detect_format(df) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise DataError(f"unknown IDMC format {fmt!r}; use one of {', '.join(FORMATS)}")
    ev = _events(df, fmt)
    countries = sorted(ev["iso3"].unique())
    if not countries:
        raise DataError("the IDMC table has no rows with a country code and year")
    if years is None:
        years = range(int(ev["year"].min()), int(ev["year"].max()) + 1)
    years = sorted(int(y) for y in years)
    hz = ["all"] if fmt == "gidd-country-year" else list(hazards)
    ev = ev[ev["hazard"].isin(hz) & ev["year"].isin(years)]
    agg = ev.groupby(["iso3", "year", "hazard"]).agg(
        n_rows=("value", "size"), n_given=("value", "count"), total=("value", "sum"))
    grid = pd.MultiIndex.from_product([countries, years, hz], names=["iso3", "year", "hazard"])
    agg = agg.reindex(grid)
    status = np.where(agg["n_rows"].isna(), "no_event", np.where(agg["n_given"] > 0, "reported", "not_reported"))
    disp = np.where(status == "no_event", 0.0, np.where(status == "reported", agg["total"], np.nan))
    out = pd.DataFrame({"displacements": disp.astype(float), "status": status}, index=grid).reset_index()
    out["reported"] = out["status"] == "reported"
    out.attrs["format"] = fmt
    out.attrs["special_codes"] = sorted(set(countries) & set(IDMC_SPECIAL_CODES))
    logger.info("IDMC %s: %d countries, %d years, %d reported / %d no-event / %d not-reported cells", fmt,
                len(countries), len(years), int((status == "reported").sum()),
                int((status == "no_event").sum()), int((status == "not_reported").sum()))
    return out


def read_idmc(source: str | Path | pd.DataFrame, fmt: Format | Literal["auto"] = "auto",
              hazards: Sequence[str] = ("flood", "storm", "drought"),
              years: Sequence[int] | None = None) -> pd.DataFrame:
    """Read IDMC displacement data from a file or a table into the tidy table of :func:`tidy_idmc`.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A CSV/xlsx file in one of the supported formats (an HXL hashtag second row is detected and
        dropped), or a table already opened through the catalog.
    fmt : {"auto", "gidd-country-year", "gidd-events", "hdx-events"}
        Format, or ``"auto"`` to detect it.
    hazards : sequence of str
        Hazards to keep.
    years : sequence of int, optional
        Years to cover.

    Returns
    -------
    pandas.DataFrame
        See :func:`tidy_idmc`.
    """
    if isinstance(source, pd.DataFrame):
        df = source
    else:
        from climmig.io.readers import read_table

        path = Path(source)
        if not path.is_file():
            raise DataError(f"observations file not found: {path.resolve()}")
        try:
            df = read_table(path, header_rows=2)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read observations {path}: {exc}") from None
    return tidy_idmc(df, fmt, hazards=hazards, years=years)

"""Which SSP model's series each country takes, when the chosen model lacks a country.

The SSP Database v2 holds each variable under several models, and no model covers every country: the
bundled ``IIASA GDP`` GDP|PPP has no Myanmar, Afghanistan or Angola, ``IIASA-WiC POP`` has no Taiwan. A
config names one model per variable (``livelihoods[*].ssp_model``); a country that model lacks takes the
first model of a fallback order that has it. The default order (:data:`DEFAULT_FALLBACK_ORDER`) is

1. ``IIASA-WiC POP`` - the official SSP population (KC & Lutz 2017),
2. ``OECD Env-Growth`` - the SSP marker GDP (Dellink et al. 2017), with its own population,
3. ``IIASA GDP`` - the second GDP model (Crespo Cuaresma 2017), with its own population,

followed by any other model of the table in alphabetical order; models the table does not hold for the
variable are skipped. A config can name its own order (``ssp_fallback: [...]``) or none (``[]``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from climmig.errors import DataError

__all__ = ["DEFAULT_FALLBACK_ORDER", "POPULATION_INCOME_TOLERANCE", "SspChoice", "choose_ssp_models",
           "population_income_mismatch"]

logger = logging.getLogger(__name__)

#: Documented order in which SSP models are tried when the configured one lacks a country.
DEFAULT_FALLBACK_ORDER: tuple[str, ...] = ("IIASA-WiC POP", "OECD Env-Growth", "IIASA GDP")

#: Largest relative gap, in the base year, between the population series used and the population that the
#: income series' model assumes, before GDP per head is flagged as mixing inconsistent models (5 %).
POPULATION_INCOME_TOLERANCE = 0.05

Fallback = Sequence[str] | Literal["auto"]


@dataclass(frozen=True)
class SspChoice:
    """The SSP model each country's series comes from.

    Attributes
    ----------
    requested : str or None
        The configured model (None: the table has one model).
    models : dict of str to str
        Country (ISO3) -> model used.
    """

    requested: str | None
    models: dict[str, str]

    @property
    def fallbacks(self) -> dict[str, str]:
        """Countries whose series comes from another model than the requested one -> that model."""
        if self.requested is None:
            return {}
        return {c: m for c, m in self.models.items() if m != self.requested}

    def describe(self, variable: str) -> str:
        """One line for logs, provenance attributes and the report (empty if there is no fallback).

        Parameters
        ----------
        variable : str
            What the series is (``population``, ``GDP|PPP``).

        Returns
        -------
        str
        """
        fb = self.fallbacks
        if not fb:
            return ""
        return f"{variable}: " + ", ".join(f"{c} {self.requested} -> {m}" for c, m in sorted(fb.items()))


def _fallback_order(models: Sequence[str], requested: str | None, fallback: Fallback) -> list[str]:
    """The models tried after ``requested``, in order, restricted to those in the table."""
    if isinstance(fallback, str):
        if fallback != "auto":
            raise DataError(f"ssp_fallback: {fallback!r} is not 'auto' or a list of SSP models; write "
                            "ssp_fallback: auto, a list such as [OECD Env-Growth], or [] for no fallback")
        order = [m for m in DEFAULT_FALLBACK_ORDER if m in models]
        order += sorted(m for m in models if m not in DEFAULT_FALLBACK_ORDER)
    else:
        unknown = [m for m in fallback if m not in models]
        if unknown:
            raise DataError(f"ssp_fallback names {unknown}, which the SSP table does not hold; it has "
                            f"{sorted(models)}")
        order = list(fallback)
    return [m for m in order if m != requested]


def _has(table: pd.DataFrame, model: str, family: str, country: str) -> bool:
    """Whether ``model`` has a row with at least one value for ``family`` x ``country``."""
    rows = table[(table["model"] == model) & (table["scenario"] == family) & (table["iso3"] == country)]
    if rows.empty:
        return False
    years = [c for c in rows.columns if str(c).isdigit()]
    return bool(np.isfinite(rows[years].to_numpy(dtype=float)).any())


def choose_ssp_models(table: pd.DataFrame, model: str | None, families: Sequence[str], countries: Sequence[str],
                      fallback: Fallback = ()) -> SspChoice:
    """The model each country's series is read from: ``model`` where it has every SSP needed, else a fallback.

    Parameters
    ----------
    table : pandas.DataFrame
        SSP table (columns ``model``, ``scenario``, ``iso3`` and one per year).
    model : str, optional
        The configured model; None if the table holds one model.
    families : sequence of str
        SSP narratives needed (``SSP1``...).
    countries : sequence of str
        ISO3 codes.
    fallback : "auto" or sequence of str
        Models to try, in order, when ``model`` lacks a country: ``"auto"`` for
        :data:`DEFAULT_FALLBACK_ORDER` then the table's other models; a list for the user's own order;
        empty (the default) for none.

    Returns
    -------
    SspChoice

    Raises
    ------
    DataError
        If ``model`` is not in the table, or a country has no series for some SSP under ``model`` or any
        fallback; the message names the models that do have that country.
    """
    models = sorted(str(m) for m in table["model"].unique())
    if model is not None and model not in models:
        raise DataError(f"SSP table has no model {model!r}; it has {models}")
    if model is None and len(models) > 1:
        raise DataError(f"SSP table has several models {models}; set ssp_model")
    order = ([model] if model is not None else models) + _fallback_order(models, model, fallback)
    chosen: dict[str, str] = {}
    for c in countries:
        found = next((m for m in order if all(_has(table, m, f, c) for f in families)), None)
        if found is None:
            having = [m for m in models if all(_has(table, m, f, c) for f in families)]
            missing_fam = next(f for f in families if not _has(table, order[0], f, c))
            tried = f"model {order[0]!r}" + (f" or its fallbacks {order[1:]}" if len(order) > 1 else "")
            hint = (f"the models that have {c} are {having}: set ssp_model to one of them, or ssp_fallback to a "
                    "list that includes one (ssp_fallback: auto tries every model)" if having
                    else f"no model of the table has {', '.join(families)} for {c}: remove {c} from "
                    "study_area.countries or point the livelihood's projection at a table that has it")
            raise DataError(f"the SSP table has no {missing_fam} projection for {c} under {tried}; {hint}")
        chosen[c] = found
    return SspChoice(requested=model, models=chosen)


def population_income_mismatch(population: pd.DataFrame, pop_models: Mapping[str, str],
                               income_models: Mapping[str, str], families: Sequence[str], year: int,
                               tolerance: float = POPULATION_INCOME_TOLERANCE) -> dict[str, float]:
    """Countries whose population series and income series come from models that disagree on population.

    GDP per head is the income model's GDP divided by the population model's people. Where the two are
    different models, the income model's own population (in the population table) is compared with the
    population series used, in ``year``; a relative gap above ``tolerance`` in any SSP is returned.

    Parameters
    ----------
    population : pandas.DataFrame
        SSP population table (all models).
    pop_models, income_models : mapping of str to str
        Country -> model of the population and of the income series (:attr:`SspChoice.models`).
    families : sequence of str
        SSPs compared.
    year : int
        Base year (a 5-year step of the table, or interpolated between steps).
    tolerance : float
        Largest relative gap accepted.

    Returns
    -------
    dict of str to float
        Country -> largest relative gap over ``families``, for the countries above ``tolerance`` (NaN where the
        income model has no population series for the country, so the two cannot be compared).
    """
    years = sorted(int(c) for c in population.columns if str(c).isdigit())

    def value(model: str, fam: str, c: str) -> float:
        row = population[(population["model"] == model) & (population["scenario"] == fam) & (population["iso3"] == c)]
        if row.empty:
            return float("nan")
        vals = row[[str(y) for y in years]].to_numpy(dtype=float)[0]
        ok = np.isfinite(vals)
        return float(np.interp(year, np.array(years)[ok], vals[ok])) if ok.any() else float("nan")

    out: dict[str, float] = {}
    for c, pm in pop_models.items():
        im = income_models.get(c)
        if im is None or im == pm:
            continue
        gaps = [abs(value(im, f, c) / value(pm, f, c) - 1.0) for f in families]
        gap = float(np.nanmax(gaps)) if np.isfinite(gaps).any() else float("nan")
        if not gap <= tolerance:
            out[c] = gap
    return out

"""Border regimes between country pairs: from the bloc table, and changed by policy scenarios.

A regime is one of ``unilateral`` (each state controls entry alone), ``bilateral`` (labour-mobility or
mutual-recognition agreements), ``regional`` (free movement of persons within a bloc) or ``multilateral``
(protection regimes), ordered from weakest to strongest. A pair of countries gets the strongest regime of
any bloc both belong to, in force from the later of the two members' ``since`` years (and, where the
optional ``until`` column is filled, up to the earlier ``until`` year, e.g. the United Kingdom leaving EU
free movement after 2020); every other pair is ``unilateral``. Internal pairs (origin == destination) are labelled ``internal``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = ["INTERNAL", "REGIMES", "apply_regime_changes", "pair_regimes", "regime_codes"]

logger = logging.getLogger(__name__)

REGIMES: tuple[str, ...] = ("unilateral", "bilateral", "regional", "multilateral")
INTERNAL = "internal"

_TABLE_COLUMNS = ("bloc", "regime", "iso3", "since")


def pair_regimes(table: pd.DataFrame, countries: Sequence[str], years: Sequence[int]) -> xr.DataArray:
    """Regime of every ordered country pair in every year.

    Parameters
    ----------
    table : pandas.DataFrame
        Bloc membership with columns ``bloc``, ``regime``, ``iso3``, ``since`` and optionally ``until``
        (last year the membership applies; blank = still in force) (catalog entry ``border_regimes``).
    countries : sequence of str
        ISO3 codes (the ``origin`` and ``destination`` coords).
    years : sequence of int
        Years.

    Returns
    -------
    xr.DataArray
        Regime names, dims (year, origin, destination); ``internal`` on the diagonal.

    Raises
    ------
    DataError
        If the table lacks a column or names an unknown regime.
    """
    missing = [c for c in _TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"the border-regime table lacks columns {missing}; it needs {list(_TABLE_COLUMNS)}")
    bad = sorted(set(table["regime"]) - set(REGIMES))
    if bad:
        raise DataError(f"unknown border regime(s) {bad} in the regime table; use {', '.join(REGIMES)}")
    iso = list(countries)
    yrs = np.asarray(years, dtype=int)
    idx = {c: i for i, c in enumerate(iso)}
    n = len(iso)
    # strength[year, o, d] = max over blocs of the rank of the bloc's regime where both are members
    strength = np.zeros((yrs.size, n, n), dtype=int)
    rank = {r: k for k, r in enumerate(REGIMES)}
    for _bloc, grp in table[table["iso3"].isin(idx)].groupby("bloc"):
        members = grp.drop_duplicates("iso3")
        pos = members["iso3"].map(idx).to_numpy()
        since = members["since"].astype(int).to_numpy()
        until = (pd.to_numeric(members["until"], errors="coerce").fillna(10_000).to_numpy()
                 if "until" in members.columns else np.full(len(members), 10_000.0))
        level = members["regime"].map(rank).to_numpy()
        start = np.maximum(since[:, None], since[None, :])  # (m, m) later `since` of the pair
        end = np.minimum(until[:, None], until[None, :])  # earlier `until` (a member leaving the bloc)
        lvl = np.minimum(level[:, None], level[None, :])  # a bloc's regime is the same for all members
        active = (yrs[:, None, None] >= start[None, :, :]) & (yrs[:, None, None] <= end[None, :, :])
        cand = np.where(active, lvl[None, :, :], 0)
        sub = strength[:, pos[:, None], pos[None, :]]
        strength[:, pos[:, None], pos[None, :]] = np.maximum(sub, cand)
    names = np.asarray(REGIMES, dtype=object)[strength]
    diag = np.arange(n)
    names[:, diag, diag] = INTERNAL
    return xr.DataArray(
        names.astype(str), dims=("year", "origin", "destination"),
        coords={"year": yrs, "origin": iso, "destination": iso},
        name="border_regime", attrs={"long_name": "border regime between origin and destination",
                                     "flag_values": " ".join((*REGIMES, INTERNAL))},
    )


def apply_regime_changes(regimes: xr.DataArray, changes: Sequence[Any]) -> xr.DataArray:
    """Change the regime of all pairs among a set of countries from a given year on.

    Parameters
    ----------
    regimes : xr.DataArray
        Regime names, dims (year, origin, destination), e.g. from :func:`pair_regimes`.
    changes : sequence of BorderRegimeChange
        Objects with ``regime``, ``from_year`` and ``countries`` (the config's ``border_regimes`` list),
        applied in order (a later change overrides an earlier one).

    Returns
    -------
    xr.DataArray
        A new array; internal pairs keep ``internal``; countries not in the array are ignored (logged).

    Raises
    ------
    DataError
        If a change names an unknown regime.
    """
    out = regimes.copy(data=regimes.values.astype(object))
    origins = [str(o) for o in regimes["origin"].values]
    dests = [str(d) for d in regimes["destination"].values]
    years = regimes["year"].values
    for ch in changes:
        if ch.regime not in REGIMES:
            raise DataError(f"unknown border regime {ch.regime!r}; use {', '.join(REGIMES)}")
        members = set(ch.countries)
        absent = sorted(members - set(origins) - set(dests))
        if absent:
            logger.info("border-regime change %s: %s not in the projection, ignored", getattr(ch, "id", ""),
                        ", ".join(absent))
        o_mask = np.isin(origins, list(members))
        d_mask = np.isin(dests, list(members))
        pair = o_mask[:, None] & d_mask[None, :]
        pair &= np.asarray(origins)[:, None] != np.asarray(dests)[None, :]
        when = years >= ch.from_year
        sel = when[:, None, None] & pair[None, :, :]
        out.values[sel] = ch.regime
    out = out.copy(data=out.values.astype(str))
    out.attrs = {**regimes.attrs, "climmig_regime_changes": ", ".join(
        f"{getattr(c, 'id', '?')}: {c.regime} from {c.from_year}" for c in changes)}
    return out


def regime_codes(regimes: xr.DataArray | np.ndarray) -> np.ndarray:
    """Integer code of each regime name (position in :data:`REGIMES`; ``internal`` is -1).

    Parameters
    ----------
    regimes : xr.DataArray or numpy.ndarray
        Regime names.

    Returns
    -------
    numpy.ndarray of int

    Raises
    ------
    DataError
        On an unknown name.
    """
    arr = np.asarray(regimes.values if isinstance(regimes, xr.DataArray) else regimes).astype(str)
    lookup = {r: k for k, r in enumerate(REGIMES)} | {INTERNAL: -1}
    uniq, inv = np.unique(arr, return_inverse=True)
    bad = [u for u in uniq if u not in lookup]
    if bad:
        raise DataError(f"unknown border regime(s) {bad}; use {', '.join((*REGIMES, INTERNAL))}")
    return np.asarray([lookup[u] for u in uniq], dtype=int)[inv].reshape(arr.shape)

"""Pair border regimes from the bloc table, and regime changes (scenario levers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from climmig.catalog import load_catalog
from climmig.config.schema import BorderRegimeChange
from climmig.errors import DataError
from climmig.migration.regimes import INTERNAL, apply_regime_changes, pair_regimes, regime_codes
from tests.conftest import CATALOG


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        [("EU", "regional", "AAA", 1993), ("EU", "regional", "BBB", 2004),
         ("LAB", "bilateral", "AAA", 1990), ("LAB", "bilateral", "BBB", 1990), ("LAB", "bilateral", "CCC", 2000),
         ("REF", "multilateral", "CCC", 2010), ("REF", "multilateral", "DDD", 2012)],
        columns=["bloc", "regime", "iso3", "since"])


def test_strongest_regime_from_later_since() -> None:
    r = pair_regimes(_table(), ["AAA", "BBB", "CCC", "DDD"], [1995, 2003, 2004, 2012])
    assert r.dims == ("year", "origin", "destination")
    at = lambda y, o, d: str(r.sel(year=y, origin=o, destination=d).item())  # noqa: E731
    assert at(1995, "AAA", "BBB") == "bilateral"  # EU applies only from BBB's 2004
    assert at(2003, "AAA", "BBB") == "bilateral"
    assert at(2004, "AAA", "BBB") == "regional" == at(2004, "BBB", "AAA")  # strongest bloc both are in
    assert at(1995, "AAA", "CCC") == "unilateral" and at(2003, "AAA", "CCC") == "bilateral"
    assert at(2012, "CCC", "DDD") == "multilateral"
    assert at(2012, "AAA", "DDD") == "unilateral"
    assert at(2012, "AAA", "AAA") == INTERNAL
    np.testing.assert_array_equal(r.values, np.swapaxes(r.values, 1, 2))


def test_apply_changes_from_year_only_among_members() -> None:
    r = pair_regimes(_table(), ["AAA", "BBB", "CCC", "DDD"], [2020, 2030, 2040])
    ch = [BorderRegimeChange(id="open", regime="regional", from_year=2030, countries=["CCC", "DDD", "AAA"]),
          BorderRegimeChange(id="close", regime="unilateral", from_year=2040, countries=["AAA", "CCC"])]
    out = apply_regime_changes(r, ch)
    at = lambda y, o, d: str(out.sel(year=y, origin=o, destination=d).item())  # noqa: E731
    assert at(2020, "CCC", "DDD") == "multilateral"  # before the change: untouched
    assert at(2030, "CCC", "DDD") == "regional"  # a change can also lower the regime
    assert at(2030, "AAA", "DDD") == "regional" and at(2030, "BBB", "DDD") == "unilateral"
    assert at(2040, "AAA", "CCC") == "unilateral" and at(2040, "AAA", "DDD") == "regional"  # later wins
    assert at(2040, "AAA", "AAA") == INTERNAL
    assert "open: regional from 2030" in out.attrs["climmig_regime_changes"]
    assert str(r.sel(year=2030, origin="CCC", destination="DDD").item()) == "multilateral"  # input unchanged


def test_codes_and_errors() -> None:
    np.testing.assert_array_equal(regime_codes(np.array(["unilateral", "regional", INTERNAL])), [0, 2, -1])
    with pytest.raises(DataError, match="open"):
        regime_codes(np.array(["open"]))
    bad = _table().assign(regime="free")
    with pytest.raises(DataError, match="free"):
        pair_regimes(bad, ["AAA"], [2000])
    with pytest.raises(DataError, match="since"):
        pair_regimes(_table().drop(columns="since"), ["AAA"], [2000])


def test_bundled_table_rules() -> None:
    t = load_catalog(CATALOG).open("border_regimes")
    assert t["source"].notna().all() and (t["source"].str.len() > 10).all()
    r = pair_regimes(t, ["DEU", "FRA", "ROU", "KEN", "UGA", "SOM", "ETH", "USA", "MEX"], [2015, 2025])
    at = lambda y, o, d: str(r.sel(year=y, origin=o, destination=d).item())  # noqa: E731
    assert at(2015, "DEU", "FRA") == "regional"
    assert at(2015, "DEU", "ROU") == "regional"  # Romania's transitional restrictions ended in 2014
    assert at(2015, "KEN", "UGA") == "regional"  # EAC common market
    assert at(2015, "KEN", "SOM") == "unilateral" and at(2025, "KEN", "SOM") == "regional"  # EAC 2024
    assert at(2025, "SOM", "ETH") == "unilateral"  # IGAD protocol not in force
    assert at(2015, "USA", "MEX") == "bilateral"
    r2 = pair_regimes(t, ["GBR", "FRA"], [2015, 2020, 2021])
    assert [str(v) for v in r2.sel(origin="GBR", destination="FRA").values] == ["regional", "regional",
                                                                                "unilateral"]

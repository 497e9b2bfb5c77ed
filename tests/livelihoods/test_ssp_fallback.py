"""SSP series fallback (issue 34): another model's series for a country the chosen model lacks."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.catalog import load_catalog
from climmig.errors import DataError
from climmig.exposure.build import ssp_provenance
from climmig.livelihoods import ssp_series
from climmig.livelihoods.ssp_fallback import DEFAULT_FALLBACK_ORDER, population_income_mismatch

from ..conftest import CATALOG


def _table() -> pd.DataFrame:
    """Three models; "IIASA GDP" lacks BBB, "OECD Env-Growth" lacks CCC, only "Z" has DDD."""
    rows = []
    for model, have in [("IIASA GDP", ["AAA", "CCC"]), ("OECD Env-Growth", ["AAA", "BBB"]),
                        ("IIASA-WiC POP", ["AAA", "BBB", "CCC"]), ("Z", ["DDD"])]:
        for c in have:
            for fam in ("SSP1", "SSP2"):
                base = {"IIASA GDP": 10.0, "OECD Env-Growth": 20.0, "IIASA-WiC POP": 30.0, "Z": 40.0}[model]
                rows.append({"model": model, "scenario": fam, "iso3": c, "variable": "GDP|PPP", "2020": base,
                             "2030": base * 2})
    return pd.DataFrame(rows)


def test_country_missing_from_the_chosen_model_takes_the_documented_fallback() -> None:
    out = ssp_series(_table(), "IIASA GDP", ["ssp126", "ssp245"], ["AAA", "BBB"], [2020, 2025], fallback="auto")
    # AAA keeps the requested model; BBB falls back in DEFAULT_FALLBACK_ORDER: IIASA-WiC POP comes first
    assert DEFAULT_FALLBACK_ORDER[0] == "IIASA-WiC POP"
    np.testing.assert_allclose(out.sel(region="AAA", scenario="ssp245").values, [10.0, 15.0])
    np.testing.assert_allclose(out.sel(region="BBB", scenario="ssp245").values, [30.0, 45.0])
    assert out.attrs["climmig_ssp_models"] == "AAA: IIASA GDP, BBB: IIASA-WiC POP"
    assert out.attrs["climmig_ssp_fallback"] == "GDP|PPP: BBB IIASA GDP -> IIASA-WiC POP"
    assert out.attrs["climmig_ssp_model"] == "IIASA GDP"


def test_user_named_fallback_order_is_followed_and_checked() -> None:
    out = ssp_series(_table(), "IIASA GDP", ["ssp245"], ["BBB"], [2020], fallback=["OECD Env-Growth"])
    assert float(out.item()) == 20.0
    assert out.attrs["climmig_ssp_models"] == "BBB: OECD Env-Growth"
    with pytest.raises(DataError, match=r"ssp_fallback names \['NCAR'\], which the SSP table does not hold"):
        ssp_series(_table(), "IIASA GDP", ["ssp245"], ["BBB"], [2020], fallback=["NCAR"])


def test_no_series_anywhere_names_the_models_that_have_the_country() -> None:
    # no fallback: the message says which models do have the country and how to use one
    with pytest.raises(DataError, match=r"no SSP1 projection for BBB under model 'IIASA GDP'; the models that have "
                                        r"BBB are \['IIASA-WiC POP', 'OECD Env-Growth'\]: set ssp_model"):
        ssp_series(_table(), "IIASA GDP", ["ssp126"], ["BBB"], [2020])
    # a fallback list that misses it: same hint, and the models tried
    with pytest.raises(DataError, match=r"no SSP1 projection for BBB under model 'IIASA GDP' or its fallbacks "
                                        r"\['Z'\]; the models that have BBB are"):
        ssp_series(_table(), "IIASA GDP", ["ssp126"], ["BBB", "CCC"], [2020], fallback=["Z"])
    # a country no model has: the message says so and names the fix
    with pytest.raises(DataError, match=r"no model of the table has SSP1 for EEE: remove EEE from "
                                        r"study_area.countries"):
        ssp_series(_table(), "IIASA GDP", ["ssp126"], ["EEE"], [2020], fallback="auto")


def test_population_income_mismatch_flags_models_that_disagree_in_the_base_year() -> None:
    pop = pd.DataFrame({"model": ["A", "B", "A", "B"], "scenario": ["SSP2"] * 4, "iso3": ["X", "X", "Y", "Y"],
                        "2015": [100.0, 100.0, 50.0, 50.0], "2025": [100.0, 120.0, 50.0, 51.0]})
    # X: B's population is 10 % above A's in 2020 (beyond the 5 % tolerance); Y: 1 %, within it
    gaps = population_income_mismatch(pop, {"X": "A", "Y": "A"}, {"X": "B", "Y": "B"}, ["SSP2"], 2020)
    assert list(gaps) == ["X"]
    assert gaps["X"] == pytest.approx(0.10)
    # the same model on both sides is never flagged; an income model without a population series cannot be
    # compared and is flagged as such (NaN)
    assert population_income_mismatch(pop, {"X": "B"}, {"X": "B"}, ["SSP2"], 2020) == {}
    assert np.isnan(population_income_mismatch(pop, {"X": "A"}, {"X": "C"}, ["SSP2"], 2020)["X"])


def test_fallback_is_recorded_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    cat = load_catalog(CATALOG)
    pop_t, gdp_t = cat.open("ssp_population"), cat.open("ssp_gdp_ppp")
    scen = ["ssp245"]
    # the demo's choices for a Bay of Bengal study area: IIASA GDP has no GDP|PPP for Myanmar
    pop = ssp_series(pop_t, "IIASA-WiC POP", scen, ["BGD", "MMR"], [2020, 2030], fallback="auto")
    gdp = ssp_series(gdp_t, "IIASA GDP", scen, ["BGD", "MMR"], [2020, 2030], scale=1e9, fallback="auto")
    assert gdp.attrs["climmig_ssp_models"] == "BGD: IIASA GDP, MMR: OECD Env-Growth"
    with caplog.at_level(logging.WARNING, logger="climmig.exposure.build"):
        attrs = ssp_provenance(pop, gdp, pop_t, scen, 2020)
    assert attrs["climmig_ssp_fallback"] == "GDP|PPP: MMR IIASA GDP -> OECD Env-Growth"
    assert attrs["climmig_ssp_income_models"] == "BGD: IIASA GDP, MMR: OECD Env-Growth"
    # OECD's population for Myanmar equals IIASA-WiC's in 2020: no mixing warning
    assert attrs["climmig_ssp_population_income_gap"] == ""
    fallback_lines = [r for r in caplog.records if "SSP series fallback" in r.getMessage()]
    assert len(fallback_lines) == 1 and "MMR" in fallback_lines[0].getMessage()
    # strict mode reproduces the stop, now naming the models that have Myanmar
    with pytest.raises(DataError, match=r"the models that have MMR are \['OECD Env-Growth'\]"):
        ssp_series(gdp_t, "IIASA GDP", scen, ["MMR"], [2020], scale=1e9, fallback=[])


def test_ssp_section_shows_the_fallback() -> None:
    from climmig.report.sections import ssp_section

    ex = xr.Dataset(attrs={"climmig_ssp_population_model": "IIASA-WiC POP",
                           "climmig_ssp_population_models": "BGD: IIASA-WiC POP, MMR: IIASA-WiC POP",
                           "climmig_ssp_income_model": "IIASA GDP",
                           "climmig_ssp_income_models": "BGD: IIASA GDP, MMR: OECD Env-Growth",
                           "climmig_ssp_fallback": "GDP|PPP: MMR IIASA GDP -> OECD Env-Growth",
                           "climmig_ssp_population_income_gap": ""})
    sec = ssp_section(ex)
    assert "MMR IIASA GDP -> OECD Env-Growth" in sec.text
    table = sec.tables[0].table
    assert table.set_index("country").loc["MMR", "fallback"] == "income"
    assert table.set_index("country").loc["BGD", "fallback"] == "none"

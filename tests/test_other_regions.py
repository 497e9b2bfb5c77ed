"""Horn-of-Africa assumptions removed (issue 34): each fix checked on a case from another region."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.catalog import load_catalog
from climmig.config.schema import InterventionSpec
from climmig.errors import ConfigError, DataError
from climmig.hazards.warming_levels import climate_drivers
from climmig.interventions.library import target_hazards
from climmig.livelihoods import rural_share, wdi_share
from climmig.report.sections import hazards_section

from .conftest import CATALOG


def _spec(**kw) -> InterventionSpec:
    return InterventionSpec(id="x", kind="flood_protection", timescale="medium", start_year=2030, **kw)


def test_flood_and_drought_hazards_are_found_by_indicator_not_by_substring() -> None:
    # layers named freely: "inundation" is a flood by its indicator, "no_flood_index" (a heat layer) is not
    hz = xr.DataArray(["inundation", "no_flood_index", "dry_spell"], dims="hazard", name="hazard")
    hz = hz.assign_coords(hazard_indicator=("hazard", ["river_flood_depth", "heat_days", "rainfall_deficit"]))
    hz = hz.assign_coords(hazard=hz.values)["hazard"]
    assert target_hazards(_spec(), hz, "flood") == ["inundation"]
    assert target_hazards(_spec(), hz, "drought") == ["no_flood_index", "dry_spell"]
    # without indicators the names must match exactly: "flash_flood" is not silently taken for "flood"
    assert target_hazards(_spec(), ["flood", "flash_flood", "storm", "drought"], "flood") == ["flood"]
    assert target_hazards(_spec(), ["flood", "storm", "drought"], "drought") == ["drought"]
    # a target the drivers lack is an error naming what there is, not an intervention acting on nothing
    with pytest.raises(ConfigError, match=r"target_hazards \['riverine'\] are not hazards of the displacement "
                                          r"model \(flood, storm, drought\)"):
        target_hazards(_spec(target_hazards=["riverine"]), ["flood", "storm", "drought"], "flood")


def test_config_rejects_target_hazards_that_are_not_displacement_types(demo_dict: dict) -> None:
    from climmig.config.schema import RunConfig

    demo_dict["interventions"][2]["target_hazards"] = ["heat"]   # flood_defences, a layer name
    with pytest.raises(ValueError, match=r"target_hazards -> 0: 'heat' is not a displacement hazard type"):
        RunConfig.model_validate(demo_dict)


@pytest.mark.slow
def test_models_are_placed_by_global_warming_where_the_table_has_no_region_for_the_study_area() -> None:
    table = load_catalog(CATALOG).open("cmip6_regional_tas")
    models = ["MIROC6", "CNRM-CM6-1-HR", "NESM3"]
    # the bundled table has African regions only: South Asia (SAS) is not in it, nor is None a region
    assert "SAS" not in table.columns
    for region in ("SAS", None):
        drv = climate_drivers(table, ["ssp245"], models, [2090], 1, region)
        late = drv.warming.sel(scenario="ssp245", year=2090)
        # positions follow the models' warming (a hotter model sits higher), not their names
        order_warm = [str(m) for m in late.sortby(late)["climate_model"].values]
        order_pos = [str(m) for m in drv.position.sortby(drv.position)["climate_model"].values]
        assert order_pos == order_warm
        assert drv.position.attrs["climmig_position_rule"].startswith("global warming in 2081-2100")
    assert climate_drivers(table, ["ssp245"], models, [2090], 1, "NEAF").position.attrs[
        "climmig_position_rule"] == "regional warming per K of global warming over AR6 NEAF"


def test_countries_without_any_wdi_value_take_the_calibrations_stand_in() -> None:
    cat = load_catalog(CATALOG)
    # Micronesia (FSM) has no WDI agricultural employment share in any year; Bangladesh has one
    agri = cat.open("wdi_agri_employment")
    with pytest.raises(DataError, match="no value for FSM"):
        wdi_share(agri, ["BGD", "FSM"], "agri", "WDI")
    out = wdi_share(agri, ["BGD", "FSM"], "agri", "WDI", stand_in={"FSM": 0.3})
    assert float(out.sel(region="FSM")) == pytest.approx(0.3)
    assert int(out["source_year"].sel(region="FSM")) == -1 and out.attrs["climmig_stand_in"] == "FSM"
    assert 0 < float(out.sel(region="BGD")) < 1 and int(out["source_year"].sel(region="BGD")) > 2000
    # the rural share (stored as counts) and a stand-in for Guadeloupe, which WDI lacks entirely
    rural = rural_share(cat.open("wdi_rural_share"), cat.open("wdi_population"), ["BGD", "GLP"], stand_in={"GLP": 0.1})
    assert float(rural.sel(region="GLP")) == pytest.approx(0.1) and rural.attrs["climmig_stand_in"] == "GLP"


def test_calibration_record_carries_the_imputed_values_for_the_gaps() -> None:
    from climmig.exposure.build import calibration_record

    rec = calibration_record(load_catalog(CATALOG), ["BGD", "FSM", "PRK"], 2022)
    # FSM: no WDI agricultural share, PRK: no WDI GDP per head; the calibration imputes both
    assert np.isnan(rec.loc["FSM", "agricultural_share"]) and 0 < rec.loc["FSM", "imputed_agricultural_share"] < 1
    assert np.isnan(rec.loc["PRK", "gdp_per_capita"]) and rec.loc["PRK", "imputed_gdp_per_capita"] > 0
    assert np.isnan(rec.loc["BGD", "imputed_agricultural_share"])


def test_hazards_section_says_which_displacement_types_have_no_layer() -> None:
    years = [2030, 2090]
    ex = xr.Dataset(
        {"exposed_population": (("hazard", "scenario", "climate_model", "year", "region"), np.ones((1, 1, 1, 2, 1))),
         "population": (("scenario", "year", "region"), np.full((1, 2, 1), 10.0)),
         "exposed_population_baseline": (("hazard", "climate_model", "region"), np.ones((1, 1, 1))),
         "population_baseline": (("region",), [10.0])},
        coords={"hazard": ["heat"], "scenario": ["ssp245"], "climate_model": ["MIROC6"], "year": years,
                "region": ["BGD"], "hazard_indicator": ("hazard", ["heat_days"]),
                "hazard_threshold": ("hazard", ["35 degC"]), "hazard_source": ("hazard", ["AR6"])})
    sec = hazards_section(ex, None, period="2081-2100", scenarios=["ssp245"], layer_map={},
                          displacement_hazards=["flood", "storm", "drought"])
    assert "Which layer drives each kind of displacement: none." in sec.text
    assert "Displacement by flood, storm, drought keeps today's exposure" in sec.text
    sec = hazards_section(ex, None, period="2081-2100", scenarios=["ssp245"], layer_map={"drought": "heat"},
                          displacement_hazards=["flood", "drought"])
    assert "drought: the heat layer" in sec.text and "Displacement by flood keeps" in sec.text
    pd.testing.assert_index_equal(sec.tables[0].table.columns[:1], pd.Index(["hazard"]))


def test_scenario_files_continue_each_scenario_with_the_models_historical_run() -> None:
    from climmig.hazards.layers import _join_historical

    annual = xr.DataArray(np.array([[[1.0, 1.0, np.nan, np.nan]], [[np.nan, np.nan, 5.0, 6.0]],
                                    [[np.nan, np.nan, 7.0, 8.0]]]),
                          dims=("scenario", "climate_model", "year"),
                          coords={"scenario": ["historical", "ssp126", "ssp585"], "climate_model": ["M"],
                                  "year": [2013, 2014, 2015, 2016]}, attrs={"units": "d"})
    out = _join_historical(annual)
    # a baseline window across 2014/2015 has data in every scenario: historical years, then the scenario's
    assert list(out["scenario"].values) == ["ssp126", "ssp585"]
    np.testing.assert_array_equal(out.sel(scenario="ssp585", climate_model="M").values, [1.0, 1.0, 7.0, 8.0])
    assert out.attrs["units"] == "d"

"""Warming-level hazard layers against the real data they come from (IPCC AR6 ch. 12, CMIP6, Li et al. 2025).

The AR6 numbers are read here from the chapter's own files (JSON and text), not from climmig's tidy table, so a
swapped table, index, region or method fails these tests.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from climmig.catalog import load_catalog
from climmig.hazards.check import layer_at_levels
from climmig.hazards.cmip6_warming import (
    model_positions,
    select_climate_models,
    warming_level_years,
    warming_trajectories,
)
from climmig.hazards.warming_levels import (
    ClimateDrivers,
    crop_layer,
    gumbel_return_period,
    observed_year_draws,
    short_rains_spi,
)

from ..conftest import CATALOG, DEMO

CH12 = CATALOG.parent / "data" / "ipcc_ar6_ch12"
LEVELS = [1.5, 2.0, 3.0, 4.0]


def _demo_models() -> list[str]:
    return list(yaml.safe_load(DEMO.read_text())["climate_models"])


def _ar6(index: str, region: str) -> np.ndarray:
    """p10/p50/p90 at 1.5, 2, 3, 4 degC from the chapter's files: array (level, 3)."""
    if index == "Q100":
        rows = []
        for lv in ("1.5", "2.0", "3.0", "4.0"):
            tok = (CH12 / "q100" / f"{lv}_AFR.txt").read_text().split()
            i = tok.index(region)
            rows.append(sorted(float(x) for x in tok[i + 1:i + 4]))
        return np.array(rows)
    files = {"tx35": ("CMIP6_tx35isimip_AR6_regional_averages.json", ["1.5", "2", "3", "4"]),
             "DF6": ("CMIP6_DF6_AR6_regional_averages.json", ["GWL1.5", "GWL2.0", "GWL3.0", "GWL4.0"])}
    fname, keys = files[index]
    data = json.loads((CH12 / "regional_averages" / fname).read_text())
    return np.array([sorted(data[k][region]) for k in keys])


@pytest.fixture(scope="module")
def cat():
    return load_catalog(CATALOG)


def test_tidy_ar6_table_equals_the_chapter_files(cat) -> None:
    table = cat.open("ar6_ch12_regional_changes")
    for index in ("tx35", "DF6", "Q100"):
        for region in ("NEAF", "SEAF", "CAF", "WAF"):
            rows = table[(table["index"] == index) & (table["region"] == region) & table["gwl"].notna()]
            got = rows.sort_values("gwl")[["p10", "p50", "p90"]].to_numpy(float)
            np.testing.assert_allclose(got, _ar6(index, region), rtol=1e-12)


def test_per_model_warming_reaches_levels_in_the_ar6_atlas_years(cat) -> None:
    """AR6 convention (1850-1900 reference, 20-year means) reproduces the Atlas warming-level table."""
    table = cat.open("cmip6_regional_tas")
    atlas = cat.open("ar6_warming_level_years")
    atlas = atlas.set_index(atlas.columns[0])
    runs = table.groupby("model")["scenario"].apply(set)
    models = sorted(m for m, s in runs.items() if {"historical", "ssp126", "ssp245", "ssp585"} <= s)
    years = warming_level_years(warming_trajectories(table, ["ssp126", "ssp245", "ssp585"], models), LEVELS)
    diffs = []
    for key, row in atlas.iterrows():
        m = str(key).split("_")[0]
        if m not in models:
            continue
        for lv in LEVELS:
            for s in ("ssp126", "ssp245", "ssp585"):
                ar6_year = row[f"{lv:g}_{s}"]
                ours = float(years.sel(level=lv, scenario=s, climate_model=m))
                if np.isnan(ar6_year) or ar6_year > 2100:  # not reached, or the Atlas's 9999 marker
                    continue
                diffs.append(ours - ar6_year)
    diffs = np.abs(np.array(diffs))
    assert len(diffs) > 150
    assert (diffs <= 1).mean() >= 0.98 and diffs.max() <= 2


def test_demo_models_are_the_documented_rule_and_span_the_ensemble(cat) -> None:
    table = cat.open("cmip6_regional_tas")
    chosen = select_climate_models(table, n=5)
    assert sorted(chosen) == sorted(_demo_models())
    w = warming_trajectories(table, ["ssp245"], chosen).sel(year=slice(2081, 2100)).mean("year")
    assert float(w.max() - w.min()) > 1.2  # 2.2 to 3.8 K: the 10-90 % of the ensemble


def test_positions_sample_the_range_evenly() -> None:
    score = xr.DataArray([3.0, 1.0, 2.0, 5.0, 4.0], dims="climate_model", coords={"climate_model": list("abcde")})
    q = model_positions(score)
    np.testing.assert_allclose(q.values, [0.5, 0.18, 0.34, 0.82, 0.66])
    assert float(q.median()) == pytest.approx(0.5)
    assert float(model_positions(score.isel(climate_model=[0])).squeeze()) == pytest.approx(0.5)


@pytest.mark.parametrize("indicator,index", [("heat_days", "tx35"), ("rainfall_deficit", "DF6"),
                                             ("flood_return_period", "Q100")])
@pytest.mark.slow
@pytest.mark.parametrize("region", ["NEAF", "SEAF"])
def test_demo_layers_lie_in_the_ar6_range_per_warming_level(cat, indicator, index, region) -> None:
    value = layer_at_levels(indicator, cat, _demo_models(), LEVELS, region)
    ar6 = _ar6(index, region)
    lo, med, hi = ar6[:, 0], ar6[:, 1], ar6[:, 2]
    tol = 1e-3 * np.abs(hi)
    assert bool(((value >= lo - tol) & (value <= hi + tol)).all()), value.values
    np.testing.assert_array_less(np.abs(value.median("climate_model").values - med), 0.25 * np.abs(med))


def test_crop_layer_matches_li2025_per_country_ssp_and_period(cat) -> None:
    src = cat.open("crop_yield_change_li2025")
    models = _demo_models()
    pos = model_positions(xr.DataArray(np.arange(5.0), dims="climate_model", coords={"climate_model": models}))
    years = [2030, 2031, 2050, 2051, 2070, 2071, 2090, 2091]
    w = xr.DataArray(np.zeros((2, 5, len(years))), dims=("scenario", "climate_model", "year"),
                     coords={"scenario": ["ssp245", "ssp585"], "climate_model": models, "year": years})
    drivers = ClimateDrivers(warming=w, anomaly=w, position=pos, baseline_gwl=0.85, map_gwl=4.6, seed=1)
    grid = xr.Dataset(coords={"lat": [5.0, 9.0], "lon": [45.0, 38.0]})
    countries = xr.DataArray([["SO", "ET"], ["KE", "DJ"]], dims=("lat", "lon"), coords=grid.coords)
    loss = crop_layer(cat, grid, drivers, {}, countries).compute()
    li = {"ssp245": "SSP2-RCP4.5", "ssp585": "SSP5-RCP8.5"}
    for a2, (i, j) in {"SO": (0, 0), "ET": (0, 1), "KE": (1, 0), "DJ": (1, 1)}.items():
        for s in ("ssp245", "ssp585"):
            rows = src[(src["crop"] == "Maize") & (src["ISO_A2"] == a2) & (src["scenario"] == li[s])]
            for period, y0 in zip(["2021-2040", "2041-2060", "2061-2080", "2081-2100"], [2030, 2050, 2070, 2090],
                                  strict=True):
                r = rows[rows["period"] == period].iloc[0]
                # mid-point of the period = mean of its two central years
                cell = loss.sel(scenario=s, year=[y0, y0 + 1]).isel(lat=i, lon=j).mean("year")
                lo, hi = max(0.0, -r["upr"] / 100), max(0.0, -r["lwr"] / 100)
                assert bool(((cell >= lo - 1e-6) & (cell <= hi + 1e-6)).all()), (a2, s, period)
                assert float(cell.median()) == pytest.approx(max(0.0, -r["med"] / 100), abs=2e-3)  # kink at the mid-point


def test_observed_years_are_permutation_cycles_shared_by_all_scenarios() -> None:
    pool = list(range(1981, 2021))
    years = list(range(2000, 2080))
    a = observed_year_draws(years, pool, 7, "drought")
    assert sorted(a[:40]) == pool and sorted(a[40:80]) == pool  # every observed year once per cycle
    np.testing.assert_array_equal(a[25:60], observed_year_draws(years[25:60], pool, 7, "drought"))
    assert not np.array_equal(a, observed_year_draws(years, pool, 8, "drought"))
    assert not np.array_equal(a, observed_year_draws(years, pool, 7, "flood"))


def test_gumbel_shift_is_identity_without_change_and_monotone() -> None:
    t = np.array([2.0, 10.0, 20.0, 100.0])
    np.testing.assert_allclose(gumbel_return_period(t, 1.0, 0.7), t, rtol=1e-9)
    more = gumbel_return_period(t, 1.2, 0.7)
    assert (more > t).all() and (gumbel_return_period(t, 0.8, 0.7) < t).all()
    assert (np.diff(more) > 0).all()


def test_spi_is_standard_normal_per_cell() -> None:
    rng = np.random.default_rng(0)
    time = pd.to_datetime([f"{y}-{m}-15" for y in range(1981, 2021) for m in (10, 11, 12)])
    prec = xr.DataArray(rng.gamma(0.8, 2.0, (len(time), 2, 3)), dims=("time", "lat", "lon"),
                        coords={"time": time, "lat": [0.0, 1.0], "lon": [40.0, 41.0, 42.0]})
    spi = short_rains_spi(prec)
    assert spi.sizes["obs_year"] == 40
    np.testing.assert_allclose(spi.mean("obs_year"), 0.0, atol=1e-9)
    assert 0.9 < float(spi.std("obs_year").mean()) < 1.05
    assert float((spi < -1).mean()) == pytest.approx(6 / 40, abs=0.03)

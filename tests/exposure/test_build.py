"""build_exposure against the interface contract (section 1 of docs/interfaces.md), and the demo CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from climmig.catalog import load_catalog
from climmig.config import parse_config
from climmig.exposure import build_exposure
from climmig.exposure.output import finalise_exposure
from climmig.livelihoods import ssp_series
from climmig.mobility.covariates import load_covariates

from ..conftest import CATALOG, DEMO, REPO

CONTRACT = {
    "population": ("scenario", "year", "region"),
    "exposed_population": ("hazard", "scenario", "climate_model", "year", "region"),
    "livelihood_weighted_exposure": ("hazard", "scenario", "climate_model", "year", "region"),
    "hazard_intensity": ("hazard", "scenario", "climate_model", "year", "region"),
    "exposed_population_baseline": ("hazard", "climate_model", "region"),
    "population_baseline": ("region",),
    "gdp_per_capita": ("scenario", "year", "region"),
    "agricultural_share": ("region",),
    "rural_share": ("region",),
}


@pytest.fixture
def small_cfg(demo_dict):
    d = dict(demo_dict)
    d.update(scenarios=["ssp245", "ssp585"], climate_models=["GFDL-ESM4"], grid={"resolution": 0.5},
             period={"historical": {"start": 2008, "end": 2022}, "projection": {"start": 2025, "end": 2030},
                     "baseline_year": 2020},
             horizons=[{"name": "near", "start": 2025, "end": 2030}], interventions=[], portfolios=[],
             border_regimes=[])
    return parse_config(d)


def _ssp_totals(cfg, years):
    """SSP country totals grown from the WDI population of the last calibration year (the anchor)."""
    cat = load_catalog(CATALOG)
    spec = next(lv for lv in cfg.livelihoods if lv.name == "population")
    anchor = cfg.period.historical.end
    countries = ["DJI", "ETH", "KEN", "SOM"]
    ssp = ssp_series(cat.open(spec.projection), spec.ssp_model, list(cfg.scenarios), countries,
                     sorted(set(years) | {anchor}), scale=1e6)
    wdi = load_covariates(cat, countries, [anchor]).xs(anchor, level="year")["population"]
    ratio = xr.DataArray(wdi.reindex(countries).to_numpy(), dims="region", coords={"region": countries}) \
        / ssp.sel(year=anchor)
    return (ssp * ratio).sel(year=list(years))


def _check_cf(ds: xr.Dataset) -> None:
    assert ds.attrs["Conventions"].startswith("CF-")
    for name, var in ds.data_vars.items():
        assert "long_name" in var.attrs, name
        if name == "hazard_intensity" and "hazard_units" in ds.coords:
            continue  # units per hazard, in the hazard_units coordinate
        assert "units" in var.attrs, name
    for k in ("history", "climmig_config_sha256", "climmig_inputs", "climmig_package_versions"):
        assert k in ds.attrs, k


@pytest.mark.slow
def test_build_exposure_is_lazy_and_meets_the_contract(small_cfg, assert_lazy) -> None:
    cat = load_catalog(CATALOG)
    with assert_lazy():
        ds = build_exposure(small_cfg, cat)
    for name, dims in CONTRACT.items():
        assert ds[name].dims == dims, name
    assert list(ds.hazard.values) == ["flood", "heat", "drought", "crop"]
    # the demo reads no synthetic field: every hazard comes from real data, and says which
    assert ds.attrs["climmig_emulated"] == "false"
    assert list(ds.hazard_emulated.values) == ["false"] * 4
    for name, words in {"flood": "DFO", "heat": "tx35", "drought": "CHIRPS", "crop": "Li et al"}.items():
        assert words in str(ds.hazard_source.sel(hazard=name).values), name
    assert set(ds.region.values) == {"DJI", "ETH", "KEN", "SOM"}
    ds = finalise_exposure(ds, small_cfg, cat).compute()
    _check_cf(ds)
    # regional totals = SSP country totals grown from the WDI level of 2022 (within 1 %)
    ssp = _ssp_totals(small_cfg, small_cfg.years()).sel(region=ds.region.values)
    np.testing.assert_allclose(ds.population.values, ssp.values, rtol=0.01)
    # exposure never exceeds the population (up to the exposure kernel's float32 weights: where every cell
    # of a region exceeds, the two differ by ~1e-8); livelihood weighting never exceeds exposure
    assert bool((ds.exposed_population <= ds.population * (1 + 1e-6)).all())
    assert bool((ds.livelihood_weighted_exposure <= ds.exposed_population + 1e-6).all())
    assert bool((ds.exposed_population >= 0).all()) and bool(np.isfinite(ds.exposed_population).all())
    assert bool((ds.exposed_population_baseline > 0).any("region").all())
    # the baseline exposure's people: the baseline year's SSP totals (mean over scenarios)
    ssp0 = _ssp_totals(small_cfg, [2020]).sel(region=ds.region.values, year=2020).mean("scenario")
    np.testing.assert_allclose(ds.population_baseline.values, ssp0.values, rtol=0.01)
    assert bool((ds.exposed_population_baseline <= ds.population_baseline * (1 + 1e-6)).all())
    assert list(ds.population_source.values) == [1, 1, 1, 0]  # SOM from WorldPop, others from GPW
    assert bool((ds.gdp_per_capita > 0).all()) and ds.gdp_per_capita.attrs["currency"] == "USD"


@pytest.mark.slow
def test_demo_cli_writes_cf_exposure_matching_ssp_totals(tmp_path) -> None:
    out = tmp_path / "exposure"
    proc = subprocess.run([sys.executable, "-m", "climmig", "exposure", str(DEMO), "--output", str(out),
                           "--no-progress"], capture_output=True, text=True, cwd=REPO, timeout=170)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ds = xr.load_dataset(out / "exposure.nc")
    _check_cf(ds)
    z = xr.open_zarr(out / "exposure.zarr")
    xr.testing.assert_allclose(z.population.load(), ds.population)
    cfg = parse_config({**__import__("yaml").safe_load(DEMO.read_text()), "catalog": str(CATALOG)})
    ssp = _ssp_totals(cfg, cfg.years()).sel(region=ds.region.values)
    np.testing.assert_allclose(ds.population.values, ssp.values, rtol=0.01)
    assert ds.sizes["hazard"] >= 3 and ds.attrs["climmig_emulated"] == "false"
    assert all(src for src in ds.hazard_source.values)

"""A second example region on another continent runs end to end (issue 34): Bay of Bengal, configs/bay_of_bengal.yaml.

The reduced run keeps the demo's SSP model choices (``IIASA-WiC POP``, ``IIASA GDP``). The bundled IIASA GDP
series has no Myanmar, so the run exercises the SSP fallback. A change that only works for the Horn of Africa
(extents, country codes, hazard data, SSP coverage) fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import xarray as xr
import yaml

from tests.conftest import CATALOG, reduced_demo_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "bay_of_bengal.yaml"
SMALL_SAMPLER = {"backend": "nutpie", "draws": 60, "tune": 60, "chains": 2}


def reduced_region_config(run_dir: Path) -> dict:
    """The region config made cheap: 1 scenario x 2 climate models, a 1-degree grid, very short chains."""
    data = reduced_demo_config(yaml.safe_load(CONFIG.read_text()), run_dir)
    data.update(scenarios=["ssp245"], climate_models=["MIROC6", "CESM2-WACCM"], grid={"resolution": 1.0},
                catalog=str(CATALOG))
    data["mobility"]["sampler"] = SMALL_SAMPLER
    data["mobility"]["migration"] = {**data["mobility"]["migration"], "sampler": SMALL_SAMPLER}
    return data


@pytest.mark.slow
def test_bay_of_bengal_runs_to_a_report_with_the_ssp_fallback_recorded(tmp_path: Path) -> None:
    from climmig.pipeline.run import run_pipeline

    cfg_file = tmp_path / "bay_of_bengal_small.yaml"
    cfg = reduced_region_config(tmp_path / "run")
    # the demo's SSP model choices, unchanged
    models = {lv["name"]: lv.get("ssp_model") for lv in cfg["livelihoods"]}
    assert models["population"] == "IIASA-WiC POP" and models["income"] == "IIASA GDP"
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run_pipeline(cfg_file, progress=False)
    run = tmp_path / "run"

    # the fallback, in the exposure's and the projection's provenance and in the manifest
    fallback = "GDP|PPP: MMR IIASA GDP -> OECD Env-Growth"
    with xr.open_dataset(run / "exposure" / "exposure.nc") as ex:
        assert ex.attrs["climmig_ssp_fallback"] == fallback
        assert "MMR: OECD Env-Growth" in ex["gdp_per_capita"].attrs["climmig_ssp_models"]
        assert sorted(str(r) for r in ex["region"].values) == ["BGD", "BTN", "MMR", "NPL"]
        assert {str(n) for n in ex["region_name"].values} == {"Bangladesh", "Bhutan", "Myanmar", "Nepal"}
        # real data only: no emulated hazard; heat and crop from the AR6 and Li et al. tables
        assert ex.attrs["climmig_emulated"] == "false"
        assert float(ex["population"].sel(region="BGD", year=2025).mean()) > 1e8
    with xr.open_dataset(run / "projection" / "projection.nc") as pr:
        assert pr.attrs["climmig_ssp_fallback"] == fallback
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["flags"]["ssp_fallback"] == fallback

    # the report names the region's countries and shows the fallback
    html = (run / "report.html").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    assert "BGD, MMR, NPL, BTN" in text
    assert "Population and income futures: SSP series used" in text
    assert "MMR IIASA GDP -&gt; OECD Env-Growth" in html
    assert "Displacement by flood, storm, drought keeps today" in text
    assert "Horn" not in text and "SOM" not in text
    # the map is drawn over the study area (its figure exists and the report links it)
    maps = sorted((run / "figures").glob("projected_people_displaced_by_weather_related_disasters_*.png"))
    assert len(maps) >= 2

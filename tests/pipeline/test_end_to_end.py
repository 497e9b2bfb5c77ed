"""`climmig run` end to end on a reduced demo (short chains, flagged as unconverged), then resumed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from tests.cf_check import cf_problems

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_run_end_to_end_and_resume(small_demo_run: Path) -> None:
    # the reduced demo (2 scenarios x 2 climate models, short chains flagged as unconverged) that the session
    # fixture ran once through the library; the CLI run below must reuse every stage of it
    p = small_demo_run
    cfg = yaml.safe_load(p.read_text())
    run = Path(cfg["outputs"]["run_dir"])
    for f in ["exposure/exposure.nc", "projection/projection.nc", "projection/summary.nc",
              "projection/displacement_by_region_scenario_horizon.csv", "interventions/comparison.nc",
              "interventions/comparison.csv", "report.html", "manifest.json", "config.yaml",
              "report_plausibility.csv", "report_scenario_attribution.nc"]:
        assert (run / f).exists(), f
    # the attribution reruns every scenario with the reference scenario's people and incomes, with the same
    # draws: for the reference scenario itself both variants are the same projection
    # every NetCDF the run wrote meets the CF essentials (fits are ArviZ groups, checked by ArviZ's reader)
    problems = []
    for f in sorted(run.rglob("*.nc")):
        if f.parent.name == "fits" and not f.name.endswith("_diagnostics.nc"):
            continue
        with xr.open_dataset(f, decode_cf=False) as ds:
            problems += cf_problems(ds, str(f.relative_to(run)))
            assert ds.attrs.get("climmig_config_sha256") and ds.attrs.get("history"), f
    assert not problems, problems
    att = xr.load_dataset(run / "report_scenario_attribution.nc")
    ref = att.attrs["climmig_reference_society"]
    xr.testing.assert_allclose(att["projected"].sel(scenario=ref), att["reference_society"].sel(scenario=ref))
    assert att.attrs["Conventions"].startswith("CF-") and att["projected"].attrs["units"] == "1"
    proj = xr.load_dataset(run / "projection" / "projection.nc")
    assert set(proj["displaced_persons"].dims) == {"sample", "scenario", "climate_model", "year", "region",
                                                   "hazard"}
    assert proj["displaced_persons"].attrs["units"] == "1" and "long_name" in proj["displaced_persons"].attrs
    assert proj.attrs["Conventions"].startswith("CF-") and proj.attrs["climmig_config_sha256"]
    # recorded displacement = pre-emptive evacuations + displacement without warning
    np.testing.assert_allclose((proj["preemptive_evacuations"] + proj["unwarned_displacement"]).values,
                               proj["expected_displacement"].values, rtol=1e-4)
    assert proj.attrs["climmig_unconverged_fit"] in ("true", "false")
    assert "climmig_sampling_design" in proj.attrs
    summ = xr.load_dataset(run / "projection" / "summary.nc")
    parts = summ["variance"]
    total = parts.sel(uncertainty="total")
    comps = parts.sel(uncertainty=["scenario", "climate_model", "parameter", "residual"]).sum("uncertainty")
    assert float(abs(comps - total).max()) <= 1e-6 * float(total.max())
    html = (run / "report.html").read_text()
    assert html.count("<img") >= 5
    cmp = xr.load_dataset(run / "interventions" / "comparison.nc")
    # exposure-reducing options reach slow-onset migration too (through the climate stress of the origin);
    # options acting only on event displacement (cash, early warning) leave migration unchanged
    moved = abs(cmp["migration_change_internal"]).sum(["sample", "region"])
    assert float(moved.sel(intervention="paris_pathway").max()) > 0
    assert float(moved.sel(intervention="early_warning").max()) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["flags"].get("unconverged_fit") in (True, None)
    # second run: every stage is reused
    r2 = subprocess.run([sys.executable, "-m", "climmig", "run", str(p), "--no-progress"], cwd=REPO,
                        capture_output=True, text=True, timeout=600)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert r2.stdout.count("skipped") == 7, r2.stdout
    # the comparison on its own: reuses the run, prints the ranking per horizon, writes its figures
    r3 = subprocess.run([sys.executable, "-m", "climmig", "compare", str(p), "--no-progress", "--scenario",
                         "ssp585", "--horizon", "late"], cwd=REPO, capture_output=True, text=True, timeout=600,
                        env={**os.environ, "COLUMNS": "200"})  # a wide terminal: rich wraps headers at 80
    assert r3.returncode == 0, r3.stderr[-3000:]
    assert "P(best)" in r3.stdout and "paris_pathway" in r3.stdout, r3.stdout
    assert (run / "interventions" / "ranked_ssp585.png").exists()
    assert (run / "interventions" / "averted_vs_cost_ssp585_late.png").exists()
    assert (run / "interventions" / "frontier_ssp585_late.png").exists()
    # the figures are outputs of a recorded stage (with digests in the manifest), not loose files
    record = json.loads((run / "stages" / "comparison_figures.json").read_text())
    assert "interventions/ranked_ssp585.png" in record["outputs"]
    digests = json.loads((run / "manifest.json").read_text())["output_digests"]
    assert "interventions/frontier_ssp585_late.png" in digests
    # and a whole run neither makes nor needs them
    r4 = subprocess.run([sys.executable, "-m", "climmig", "run", str(p), "--no-progress"], cwd=REPO,
                        capture_output=True, text=True, timeout=600)
    assert r4.returncode == 0 and r4.stdout.count("skipped") == 7, r4.stdout

"""Report sections of the migration outcomes, built from small summary tables."""

from __future__ import annotations

import pandas as pd

from climmig.report.migration_sections import migration_sections


def test_sections_say_what_each_outcome_is_and_leaves_out(tmp_path) -> None:
    (tmp_path / "projection").mkdir()
    (tmp_path / "fits").mkdir()
    rows = []
    for origin in ("SOM", "ETH", "study area"):
        for corr, m in (("YEM", 100.0), ("Gulf", 300.0), ("rest_of_world", 50.0)):
            rows.append({"scenario": "ssp245", "horizon": "late", "origin": origin, "corridor": corr,
                         "q0.05": m / 3, "q0.5": m, "q0.95": 3 * m, "share_of_emigration": m / 450})
    pd.DataFrame(rows).to_csv(tmp_path / "projection" / "migration_corridors.csv", index=False)
    pd.DataFrame([{"scenario": "ssp245", "horizon": "late", "origin": "SOM", "q0.05": 10.0, "q0.5": 50.0,
                   "q0.95": 200.0, "median_to_KEN": 30.0, "median_to_ETH": 20.0},
                  {"scenario": "ssp245", "horizon": "late", "origin": "study area", "q0.05": 10.0, "q0.5": 50.0,
                   "q0.95": 200.0, "median_to_KEN": float("nan"), "median_to_ETH": float("nan")}]).to_csv(
        tmp_path / "projection" / "forced_displacement_abroad.csv", index=False)
    pd.DataFrame({"parameter": ["climate_elasticity"] * 2, "distribution": ["prior", "posterior"],
                  "q05": [-1.6, -0.5], "q50": [0.0, 0.55], "q95": [1.6, 1.5]}).to_csv(
        tmp_path / "fits" / "internal_climate_prior_posterior.csv", index=False)
    secs = migration_sections(tmp_path, scenario="ssp245", horizon="late", period="2081-2100, ssp245")
    titles = [s.title for s in secs]
    assert len(secs) == 3 and titles[0].startswith("Where emigrants go")
    corridors = secs[0].tables[0].table
    assert list(corridors["corridor"]) == ["Gulf", "YEM", "rest_of_world"]  # largest first
    assert "leaves out" in secs[0].text and "No cap" in secs[0].text
    assert "conflict" in secs[1].text and "KEN 30" in secs[1].tables[0].table["main corridors (median)"].iloc[0]
    assert "informed prior" in secs[2].text
    assert set(secs[2].tables[0].table["distribution"]) == {"prior", "posterior"}

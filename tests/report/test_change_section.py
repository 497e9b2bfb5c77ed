"""The report's "What drives the change from today" section: parts, variants and the income slopes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from climmig.report.sections import change_section


def _attribution(rng: np.random.Generator, with_trend: bool) -> xr.Dataset:
    dims = ("sample", "scenario", "climate_model")
    coords = {"scenario": ["ssp126", "ssp585"], "climate_model": ["A", "B"]}
    lv = xr.DataArray(rng.uniform(1e5, 2e5, (20, 2, 2, 4)), dims=(*dims, "step"),
                      coords={**coords, "step": ["today", "+population", "+vulnerability", "+climate"]})
    parts = lv.diff("step", label="upper").assign_coords(step=["population", "vulnerability", "climate"])
    ds = xr.Dataset({"level": lv, "part": parts.rename(step="component"),
                     "vulnerability_held": lv.sel(step="+climate", drop=True) * 1.5},
                    attrs={"climmig_today": 2025, "climmig_period": "2081-2100"})
    if with_trend:
        ds["shares_on_trend"] = lv.sel(step="+climate", drop=True) * 0.9
    return ds


def test_shares_sensitivity_and_income_slopes_are_shown(rng) -> None:
    income = pd.DataFrame({"covariate": ["gdp_per_capita", "gdp_per_capita", "rural_share"],
                           "hazard": ["flood", "flood", "flood"], "part": ["size", "occurrence", "size"],
                           "between_mean": [-0.82, -0.35, 0.1], "between_sd": [0.19, 0.17, 0.1],
                           "within_mean": [-0.74, -0.02, 0.1], "within_sd": [0.27, 0.35, 0.1],
                           "p_within_below_between": [0.37, 0.16, 0.5]})
    sec = change_section(_attribution(rng, True), income=income)
    assert "-10%" in sec.text  # shares on their trend: 0.9 x the full projection
    assert "livelihood shares on their recorded trend" in sec.tables[0].table.columns
    slopes = sec.tables[1].table
    assert list(slopes["part"]) == ["size", "occurrence"]  # GDP rows only
    assert slopes["between countries"].iloc[0] == "-0.82 ± 0.19"
    assert slopes["within countries (used over time)"].iloc[1] == "-0.02 ± 0.35"
    # without the variant and the slopes: one table, no shares sentence
    plain = change_section(_attribution(rng, False))
    assert len(plain.tables) == 1 and "recorded trend" not in plain.text

"""The projection beside IDMC's record: monitored years, means, the factor-of-2 flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.projection.fidelity import monitored_years, record_comparison


def _obs() -> pd.DataFrame:
    rows = []
    for y in range(2008, 2023):
        # drought recorded anywhere only from 2017 (as in IDMC's event data); flood every year
        rows.append(("AAA", y, "drought", 100.0 if y >= 2017 else 0.0, "reported" if y >= 2017 else "no_event"))
        rows.append(("AAA", y, "flood", 30.0 if y % 2 else 0.0, "reported" if y % 2 else "no_event"))
        rows.append(("BBB", y, "flood", 10.0, "reported"))
    return pd.DataFrame(rows, columns=["iso3", "year", "hazard", "displacements", "status"])


def test_monitored_years_start_when_the_hazard_is_first_recorded() -> None:
    assert monitored_years(_obs(), "drought", range(2008, 2023)) == list(range(2017, 2023))
    assert monitored_years(_obs(), "flood", range(2008, 2023)) == list(range(2008, 2023))


def test_record_comparison_means_ratio_and_flag() -> None:
    years = [2025, 2026]
    draws = np.ones((4, 1, 2, 2, 1, 2))  # sample, scenario, climate_model, year, region, hazard
    draws[..., 0] = 150.0  # drought: 1.5 x the monitored-period record (100)
    draws[..., 1] = 10.0  # flood: 10 against a record mean of 14 (7 of 15 years with 30)
    da = xr.DataArray(draws, dims=("sample", "scenario", "climate_model", "year", "region", "hazard"),
                      coords={"scenario": ["mid"], "year": years, "region": ["AAA"], "hazard": ["drought", "flood"]})
    t = record_comparison(da, _obs(), scenario="mid", years=years, record_years=range(2008, 2023)).set_index("hazard")
    assert t.loc["drought", "record_mean"] == pytest.approx(600 / 15)
    assert t.loc["drought", "record_mean_monitored"] == pytest.approx(100.0)
    assert t.loc["drought", "monitored_years"] == "2017-2022"
    assert t.loc["drought", "ratio"] == pytest.approx(1.5) and bool(t.loc["drought", "within_factor_2"])
    assert t.loc["flood", "record_mean"] == pytest.approx(7 * 30 / 15)
    assert bool(t.loc["flood", "within_factor_2"]) and t.loc["flood", "recorded_years"] == 7
    # fewer recorded years than min_years: no verdict
    t3 = record_comparison(da, _obs(), scenario="mid", years=years, record_years=range(2008, 2023), min_years=8)
    assert pd.isna(t3.set_index("hazard").loc["drought", "within_factor_2"])
    # far from the record: flagged
    far = record_comparison(da * 10, _obs(), scenario="mid", years=years, record_years=range(2008, 2023))
    flag = far.set_index("hazard").loc["drought", "within_factor_2"]
    assert not pd.isna(flag) and not bool(flag)


def test_in_sample_columns_join_the_comparison() -> None:
    years = [2025, 2026]
    da = xr.DataArray(np.full((4, 1, 2, 2, 1, 2), 50.0),
                      dims=("sample", "scenario", "climate_model", "year", "region", "hazard"),
                      coords={"scenario": ["mid"], "year": years, "region": ["AAA"], "hazard": ["drought", "flood"]})
    ins = pd.DataFrame({"region": ["AAA"], "hazard": ["flood"], "in_sample_mean": [20.0], "in_sample_median": [12.0],
                        "record_percentile": [0.4]})
    t = record_comparison(da, _obs(), scenario="mid", years=years, record_years=range(2008, 2023),
                          in_sample=ins).set_index("hazard")
    assert t.loc["flood", "record_percentile"] == pytest.approx(0.4)
    assert t.loc["flood", "in_sample_median"] == pytest.approx(12.0)
    assert pd.isna(t.loc["drought", "in_sample_mean"])


def test_model_median_beside_the_mean_of_a_heavy_tailed_projection() -> None:
    """One large draw in four lifts the mean, not the median: the table shows both."""
    years = [2025, 2026]
    draws = np.ones((4, 1, 1, 2, 1, 1))
    draws[3] = 100.0
    da = xr.DataArray(draws, dims=("sample", "scenario", "climate_model", "year", "region", "hazard"),
                      coords={"scenario": ["mid"], "year": years, "region": ["AAA"], "hazard": ["flood"]})
    t = record_comparison(da, _obs(), scenario="mid", years=years, record_years=range(2008, 2023)).iloc[0]
    assert t["model_mean"] == pytest.approx(103 / 4) and t["model_median"] == pytest.approx(1.0)
    assert t["model_lower"] <= t["model_median"] <= t["model_upper"]

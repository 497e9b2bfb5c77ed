"""Livelihood shares continued on their recorded logit-linear trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.livelihoods.share_trend import share_trend_paths


def _history(slope: float, start: float = 0.6, years=range(2000, 2023), iso3: str = "AAA") -> pd.DataFrame:
    t = np.asarray(list(years), float) - 2022
    logit = np.log(start / (1 - start)) + slope * t
    s = 1 / (1 + np.exp(-logit))
    idx = pd.MultiIndex.from_arrays([[iso3] * len(t), list(years)], names=["iso3", "year"])
    return pd.DataFrame({"agricultural_share": s, "rural_share": s}, index=idx)


def test_an_exact_logit_trend_is_continued_from_the_anchor_year() -> None:
    h = _history(-0.03)
    p = share_trend_paths(h, [2022, 2050, 2100], anchor_year=2022)
    want = 1 / (1 + np.exp(-(np.log(0.6 / 0.4) - 0.03 * np.array([0, 28, 78]))))
    np.testing.assert_allclose(p["agricultural_share"].sel(region="AAA").values, want, rtol=1e-6)
    assert p["rural_share"].attrs["climmig_trend_per_decade"]["AAA"] == pytest.approx(-0.3, abs=1e-4)


def test_a_short_record_holds_the_share_and_a_missing_anchor_is_an_error() -> None:
    h = pd.concat([_history(-0.05, years=range(2020, 2023), iso3="BBB"), _history(0.02)])
    p = share_trend_paths(h, [2022, 2060], anchor_year=2022)
    np.testing.assert_allclose(p["rural_share"].sel(region="BBB").values, 0.6)
    assert p["rural_share"].sel(region="AAA", year=2060) > 0.6
    with pytest.raises(ValueError, match="anchor year 2030"):
        share_trend_paths(h, [2030], anchor_year=2030)


@settings(max_examples=40, deadline=None)
@given(slope=st.floats(-0.5, 0.5), start=st.floats(0.001, 0.999))
def test_paths_stay_inside_zero_one_and_follow_the_trend_sign(slope: float, start: float) -> None:
    p = share_trend_paths(_history(slope, start), list(range(2022, 2101, 13)), anchor_year=2022)
    v = p["agricultural_share"].sel(region="AAA").values
    assert np.all((v >= 0) & (v <= 1))
    d = np.diff(v)
    assert np.all(d <= 1e-12) if slope < 0 else np.all(d >= -1e-12)

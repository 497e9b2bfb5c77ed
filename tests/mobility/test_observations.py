"""IDMC readers: the three formats, format detection, IDMC codes and the blank-versus-zero rule."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from climmig.displacement.observations import detect_format, read_idmc, tidy_idmc
from climmig.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "data"
HDX = DATA / "idmc_hdx_events_fixture.csv"


def test_fixture_checksum() -> None:
    want = dict(line.split()[::-1] for line in (DATA / "SHA256SUMS").read_text().splitlines())
    assert hashlib.sha256(HDX.read_bytes()).hexdigest() == want[HDX.name]


def _cell(t: pd.DataFrame, iso3: str, year: int, hazard: str) -> pd.Series:
    row = t[(t.iso3 == iso3) & (t.year == year) & (t.hazard == hazard)]
    assert len(row) == 1
    return row.iloc[0]


def test_gidd_country_year_blank_is_not_reported_and_missing_row_is_no_event(tmp_path) -> None:
    p = tmp_path / "cy.csv"
    p.write_text(
        "ISO3,Name,Year,Conflict Internal Displacements (Raw),Disaster Internal Displacements,"
        "Disaster Internal Displacements (Raw)\n"
        "SOM,Somalia,2020,1000,1200000,1203412\n"
        "SOM,Somalia,2021,2000,,\n"          # conflict only: disaster figure blank
        "KEN,Kenya,2020,,5000,4987\n"
        "KEN,Kenya,2022,,0,0\n"              # an explicit zero stays a reported zero
        "XKX,Kosovo,2021,,30,31\n"
    )
    t = read_idmc(p)
    assert t.attrs["format"] == "gidd-country-year"
    assert set(t.hazard) == {"all"}
    assert len(t) == 3 * 3  # 3 countries x 2020-2022
    r = _cell(t, "SOM", 2020, "all")
    assert r.status == "reported" and r.displacements == 1203412 and r.reported
    r = _cell(t, "SOM", 2021, "all")
    assert r.status == "not_reported" and pd.isna(r.displacements) and not r.reported
    r = _cell(t, "SOM", 2022, "all")  # no row at all for a covered country
    assert r.status == "no_event" and r.displacements == 0 and not r.reported
    r = _cell(t, "KEN", 2022, "all")
    assert r.status == "reported" and r.displacements == 0
    assert t.attrs["special_codes"] == ["XKX"]


def test_gidd_events_sums_events_and_maps_hazards(tmp_path) -> None:
    p = tmp_path / "ev.csv"
    p.write_text(
        "ISO3,Country / Territory,Year,Event Name,Disaster Internal Displacements,"
        "Disaster Internal Displacements (Raw),Hazard Category,Hazard Type,Hazard Sub Type\n"
        "PHL,Philippines,2019,a,100,101,Weather related,Storm,Typhoon\n"
        "PHL,Philippines,2019,b,200,199,Weather related,Storm,Tornado\n"
        "PHL,Philippines,2019,c,50,49,Weather related,Flood,Flood\n"
        "PHL,Philippines,2020,d,,,Weather related,Flood,Flood\n"
        "PHL,Philippines,2020,e,70,70,Weather related,Wildfire,Wildfire\n"
        "ab9,Abyei Area,2020,f,10,12,Weather related,Drought,Drought\n"
    )
    t = read_idmc(p)
    assert t.attrs["format"] == "gidd-events"
    assert set(t.hazard) == {"flood", "storm", "drought"}
    assert _cell(t, "PHL", 2019, "storm").displacements == 300  # raw figures summed
    assert _cell(t, "PHL", 2020, "flood").status == "not_reported"
    assert _cell(t, "PHL", 2020, "storm").status == "no_event"  # wildfire is not a storm
    assert _cell(t, "AB9", 2020, "drought").displacements == 12  # code upper-cased, kept
    assert _cell(t, "AB9", 2019, "drought").status == "no_event"


def test_gidd_events_from_catalog_columns() -> None:
    # the catalog renames ISO3/Year/Hazard Type to iso3/year/hazard_type
    df = pd.DataFrame({"iso3": ["SOM", "SOM"], "year": [2017, 2018], "hazard_type": ["Drought", "Flood"],
                       "Disaster Internal Displacements (Raw)": [892000, 289000]})
    assert detect_format(df) == "gidd-events"
    t = tidy_idmc(df)
    assert _cell(t, "SOM", 2017, "drought").displacements == 892000
    assert _cell(t, "SOM", 2017, "flood").status == "no_event"


def test_hdx_events_fixture() -> None:
    t = read_idmc(HDX)
    assert t.attrs["format"] == "hdx-events"
    assert {"XKX", "AB9", "SOM", "KEN"} <= set(t.iso3)
    assert t.year.min() == 2008 and t.year.max() == 2022
    # the HXL row is gone and numbers are numbers
    assert t.displacements.dtype.kind == "f"
    assert _cell(t, "DJI", 2016, "flood").status == "not_reported"  # the only DJI 2016 flood row is blank
    raw = pd.read_csv(HDX, skiprows=[1])
    som17 = raw[(raw.iso3 == "SOM") & (raw.year == 2017) & (raw.hazard_type_name == "Drought")]
    assert _cell(t, "SOM", 2017, "drought").displacements == som17.new_displacement.sum() > 0
    assert "wildfire" not in set(t.hazard)
    counts = t.status.value_counts()
    assert counts["reported"] > 50 and counts["no_event"] > 50


def test_named_format_must_match(tmp_path) -> None:
    with pytest.raises(DataError, match="lacks the columns"):
        read_idmc(HDX, "gidd-country-year")
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="--format"):
        read_idmc(p)
    with pytest.raises(DataError, match="not found"):
        read_idmc(tmp_path / "missing.csv")


def test_a_file_given_on_the_command_line_is_detected_not_read_as_the_configs_format() -> None:
    from climmig.config.load import load_config
    from climmig.displacement.calibration import load_observations

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "demo.yaml")
    assert cfg.mobility.displacement.observation_format == "gidd-events"  # the catalog entry's format
    t, sha = load_observations(cfg, None, path=HDX)
    assert t.attrs["format"] == "hdx-events" and len(sha) == 64
    with pytest.raises(DataError, match="lacks the columns of the gidd-country-year format"):
        load_observations(cfg, None, path=HDX, fmt="gidd-country-year")  # a named format is obeyed

"""extend_catalog: bundled entries plus a user's files in one validated catalog, checksums recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from climmig.catalog import extend_catalog, load_catalog
from climmig.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "data_catalog" / "catalog.yaml"


def _netcdf(path: Path) -> Path:
    xr.Dataset({"drying_per_degC": (("lat", "lon"), np.full((3, 4), -0.1, "float32"), {"units": "K-1"})},
               coords={"lat": [0.0, 0.5, 1.0], "lon": [40.0, 40.5, 41.0, 41.5]}).to_netcdf(path)
    return path


def _entry(**kw) -> dict:
    return {"id": "my_field", "title": "my field", "format": "netcdf", "path": "my.nc", "license": "CC0",
            "citation": "me", "source": "test", "variables": {"drying_per_degC": {"units": "K-1"}}, **kw}


def test_user_catalog_keeps_bundled_entries_and_adds_checksummed_ones(tmp_path: Path) -> None:
    _netcdf(tmp_path / "my.nc")
    cat = extend_catalog(BUNDLED, [_entry()], tmp_path / "user" / ".." / "catalog.yaml")
    base = load_catalog(BUNDLED)
    assert cat.ids() == [*base.ids(), "my_field"]
    assert set(cat.get("my_field").sha256) == {"my.nc"}
    cat.verify("my_field")
    assert float(cat.open("my_field")["drying_per_degC"].mean()) == pytest.approx(-0.1)
    # bundled entries still open (their paths now absolute), checksums included
    assert cat.verify("natural_earth_110m_admin0") == base.verify("natural_earth_110m_admin0")
    written = yaml.safe_load((tmp_path / "catalog.yaml").read_text())
    assert Path(written["entries"][0]["path"]).is_absolute()
    # changing the file afterwards is caught
    _netcdf(tmp_path / "my.nc").write_bytes((tmp_path / "my.nc").read_bytes() + b"\0")
    with pytest.raises(CatalogError, match="checksum mismatch"):
        cat.verify("my_field")


def test_bad_new_entries_get_clear_errors(tmp_path: Path) -> None:
    _netcdf(tmp_path / "my.nc")
    with pytest.raises(CatalogError, match="already in"):
        extend_catalog(BUNDLED, [_entry(id="worldpop_somalia_2020")], tmp_path / "c.yaml")
    with pytest.raises(CatalogError, match=r"new catalog entry my_field: format"):
        extend_catalog(BUNDLED, [_entry(format="hdf9")], tmp_path / "c.yaml")
    with pytest.raises(CatalogError, match="file not found"):
        extend_catalog(BUNDLED, [_entry(path="missing.nc")], tmp_path / "c.yaml")
    assert not (tmp_path / "c.yaml").exists()

"""Catalog: every bundled entry opens lazily; corrupted files, missing CRS and unit mismatches are errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import xarray as xr
import yaml

from climmig.catalog import load_catalog, units_equal
from climmig.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "data_catalog" / "catalog.yaml"
CAT = load_catalog(CATALOG) if CATALOG.exists() else None


@pytest.mark.parametrize("entry_id", CAT.ids() if CAT else [])
def test_every_bundled_entry_opens(entry_id: str) -> None:
    obj = CAT.open(entry_id)
    assert obj.attrs["climmig_catalog_id"] == entry_id
    assert obj.attrs["license"]
    entry = CAT.get(entry_id)
    if entry.kind == "grid":
        assert all(isinstance(v.data, da.Array) for v in obj.data_vars.values()), "gridded data must be lazy"
        for name, spec in entry.variables.items():
            assert units_equal(obj[name].attrs["units"], spec.units)
    else:
        assert len(obj) > 0
    # every file has a checksum and a provenance note
    assert entry.sha256 and entry.provenance and (CAT.root / entry.provenance).exists()


def test_bundled_data_stay_small() -> None:
    total = sum(p.stat().st_size for p in (REPO / "data_catalog").rglob("*") if p.is_file())
    assert total < 25 * 2**20


def _copy_catalog(tmp_path: Path, entry_id: str) -> tuple[Path, Path]:
    """Copy one entry's files and a one-entry catalog into tmp_path."""
    entry = CAT.get(entry_id)
    data = yaml.safe_load(CATALOG.read_text())
    e = next(x for x in data["entries"] if x["id"] == entry_id)
    src = CAT.paths(entry)[0]
    for name in entry.sha256:
        shutil.copy(src.parent / name, tmp_path / name)
    e["path"] = src.name
    e["provenance"] = None
    data["entries"] = [e]
    cat = tmp_path / "catalog.yaml"
    cat.write_text(yaml.safe_dump(data))
    return cat, tmp_path / src.name


def test_corrupted_file_fails_checksum(tmp_path: Path) -> None:
    cat, f = _copy_catalog(tmp_path, "abel_cohen_flows_40")
    with open(f, "ab") as fh:
        fh.write(b"2015,XXX,YYY,1\n")
    with pytest.raises(CatalogError, match="checksum mismatch"):
        load_catalog(cat).open("abel_cohen_flows_40")


def test_missing_file_shows_resolved_path(tmp_path: Path) -> None:
    cat, f = _copy_catalog(tmp_path, "abel_cohen_flows_40")
    f.unlink()
    with pytest.raises(CatalogError, match=f"file not found: {f}"):
        load_catalog(cat).open("abel_cohen_flows_40")


def _grid_catalog(tmp_path: Path, units: str, file_units: str | None, crs: str | None, dims=("y", "x")) -> Path:
    ds = xr.Dataset({"tas": (dims, np.full((2, 3), 300.0, dtype="float32"))},
                    coords={dims[0]: [1.0, 0.0], dims[1]: [0.0, 1.0, 2.0]})
    if file_units:
        ds["tas"].attrs["units"] = file_units
    ds.to_netcdf(tmp_path / "t.nc")
    entry = {"id": "t", "title": "t", "format": "netcdf", "path": "t.nc", "license": "CC0", "citation": "test",
             "source": "test", "variables": {"tas": {"units": units}}}
    if crs:
        entry["crs"] = crs
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    return tmp_path / "c.yaml"


def test_unit_mismatch_is_an_error(tmp_path: Path) -> None:
    cat = _grid_catalog(tmp_path, units="degC", file_units="K", crs="EPSG:4326")
    with pytest.raises(CatalogError, match="units 'K' in the file but the catalog expects 'degC'"):
        load_catalog(cat).open("t")


def test_equivalent_unit_spellings_pass(tmp_path: Path) -> None:
    cat = _grid_catalog(tmp_path, units="K", file_units="degK", crs="EPSG:4326")
    assert load_catalog(cat).open("t")["tas"].attrs["units"] == "degK"


def test_missing_units_taken_from_catalog(tmp_path: Path) -> None:
    cat = _grid_catalog(tmp_path, units="K", file_units=None, crs="EPSG:4326")
    ds = load_catalog(cat).open("t")
    assert ds["tas"].attrs["units"] == "K" and "catalog" in ds["tas"].attrs["climmig_units_source"]


def test_missing_crs_is_an_error(tmp_path: Path) -> None:
    cat = _grid_catalog(tmp_path, units="K", file_units="K", crs=None)
    with pytest.raises(CatalogError, match="no CRS"):
        load_catalog(cat).open("t")


def test_invalid_catalog_names_entry(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"entries": [{"id": "a b", "format": "tiff"}]}))
    with pytest.raises(CatalogError, match=r"entries -> 0 \(a b\)"):
        load_catalog(tmp_path / "c.yaml")


def test_units_equal() -> None:
    assert units_equal("K", "kelvin") and units_equal("1", "") and not units_equal("K", "degC")
    assert not units_equal("m", "mm")

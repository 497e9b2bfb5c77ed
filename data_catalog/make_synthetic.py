"""Write climmig's deterministic *synthetic* baseline fields (where no real data are bundled).

Run from the repository root::

    python data_catalog/make_synthetic.py

It writes, under ``data_catalog/data/synthetic/``:

* ``east_africa_drying_sensitivity.nc``: ``drying_per_degC`` [1/K], the shift of a standardised
  water-balance (SPEI-like) index per K of global warming, 0.5 degree, 30E-55E x 8S-20N.
* ``east_africa_crop_yield_sensitivity.nc``: ``yield_loss_per_degC`` [1/K], relative cereal-yield loss
  per K of local warming on the same grid.

Both are **synthetic**: smooth seeded random fields around literature-informed central values (CMIP6
projects mixed precipitation change over East Africa, so the drying field changes sign; Zhao et al. 2017
PNAS 114:9326 give a few % yield loss per K for maize). They exist so the demo can run the drought and crop
layers end to end; a real study replaces them with model output through the catalog. The catalog entries
are marked ``synthetic: true`` and the script prints their sha256 for ``catalog.yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "synthetic"
SEED = 20261122


def _grid() -> tuple[np.ndarray, np.ndarray]:
    lat = np.arange(-8.0, 20.0, 0.5) + 0.25
    lon = np.arange(30.0, 55.0, 0.5) + 0.25
    return lat, lon


def _smooth(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    f = gaussian_filter(rng.standard_normal(shape), sigma)
    return (f - f.mean()) / f.std()


def _dataset(name: str, values: np.ndarray, units: str, long_name: str, comment: str) -> xr.Dataset:
    lat, lon = _grid()
    ds = xr.Dataset(
        {name: (("lat", "lon"), values.astype(np.float32), {"units": units, "long_name": long_name})},
        coords={"lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})},
        attrs={"Conventions": "CF-1.11", "title": long_name, "source": "climmig data_catalog/make_synthetic.py",
               "climmig_synthetic": "true", "comment": comment, "seed": str(SEED)},
    )
    return ds


def build() -> dict[str, xr.Dataset]:
    """The synthetic datasets (deterministic for the fixed seed)."""
    lat, lon = _grid()
    rng = np.random.default_rng(SEED)
    shape = (lat.size, lon.size)
    # drying: -0.15 per K on average, stronger in the arid north-east, some wetting in the highlands
    gradient = np.clip((lat[:, None] - 2.0) / 12.0, -1, 1) * 0.05 + np.clip((lon[None, :] - 40.0) / 10.0, -1, 1) * 0.05
    drying = -0.15 - gradient + 0.10 * _smooth(rng, shape, 4.0)
    crop = np.clip(0.05 + 0.015 * _smooth(rng, shape, 4.0) + 0.01 * (lat[:, None] < 5), 0.01, 0.12)
    return {
        "east_africa_drying_sensitivity.nc": _dataset(
            "drying_per_degC", drying, "K-1",
            "shift of the standardised water-balance index per K of global warming (synthetic)",
            "SYNTHETIC: smooth seeded field around -0.15/K; not model output"),
        "east_africa_crop_yield_sensitivity.nc": _dataset(
            "yield_loss_per_degC", crop, "K-1",
            "relative cereal-yield loss per K of local warming (synthetic)",
            "SYNTHETIC: smooth seeded field around 0.05/K (Zhao et al. 2017 order of magnitude); not model output"),
    }


def main() -> int:
    """Write the files atomically and print their checksums."""
    sys.path.insert(0, str(HERE.parent))
    from climmig.io.readers import sha256_file
    from climmig.io.writers import write_netcdf

    OUT.mkdir(parents=True, exist_ok=True)
    for fname, ds in build().items():
        target = write_netcdf(ds, OUT / fname, compress=True)
        print(f"{fname}: {sha256_file(target)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The CF-1.x essentials that every NetCDF file a run writes must meet (a test helper).

Not a full CF checker (that needs UDUNITS); it checks what the users of climmig's outputs rely on: the
``Conventions`` attribute, ``units`` on every numeric variable (or ``flag_values`` for flags), a
``long_name`` or ``standard_name`` on every data variable, well-formed ``cell_methods``, and CF units for
latitude and longitude. It does not check that the names in ``cell_methods`` are dimensions or scalar
coordinates: the summaries name the dimensions they reduced (``sample climate_model: quantile``).
"""

from __future__ import annotations

import re

import xarray as xr

_CELL_METHOD = re.compile(r"^(\s*([\w ]+:\s*)+\w+(\s+(where|over)\s+\w+)?(\s*\([^)]*\))?)+\s*$")


def cf_problems(ds: xr.Dataset, name: str = "") -> list[str]:
    """Every CF problem of ``ds`` (opened with ``decode_cf=False`` so the attrs are as written)."""
    out = []
    if not str(ds.attrs.get("Conventions", "")).startswith("CF-"):
        out.append(f"{name}: global attribute Conventions is not CF-*")
    # auxiliary coordinates (named in a variable's "coordinates" attribute) label values; CF recommends but
    # does not require them to carry units or a long_name
    aux = {c for v in ds.variables for c in str(ds[v].attrs.get("coordinates", "")).split()}
    for v in [*ds.data_vars, *ds.coords]:
        da = ds[v]
        a = da.attrs
        data = v in ds.data_vars and v not in aux
        numeric = da.dtype.kind in "fiuc"
        is_flag = "flag_values" in a or "flag_meanings" in a
        if data and numeric and not is_flag and "units" not in a:
            out.append(f"{name}:{v}: numeric variable without units")
        if data and "long_name" not in a and "standard_name" not in a:
            out.append(f"{name}:{v}: no long_name or standard_name")
        cm = a.get("cell_methods")
        if cm is not None and not _CELL_METHOD.match(str(cm)):
            out.append(f"{name}:{v}: malformed cell_methods {cm!r}")
        if v in ("lat", "latitude") and a.get("units") not in ("degrees_north", "degree_north", None):
            out.append(f"{name}:{v}: latitude units {a.get('units')!r}")
        if v in ("lon", "longitude") and a.get("units") not in ("degrees_east", "degree_east", None):
            out.append(f"{name}:{v}: longitude units {a.get('units')!r}")
    return out

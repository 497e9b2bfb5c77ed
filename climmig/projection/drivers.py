"""Assemble the drivers of the displacement projection from the exposure dataset.

The exposure stage works with the config's hazard *layers* (e.g. flood, heat, drought, crop); the
displacement model with IDMC's hazard *types* (flood, storm, drought). ``mobility.displacement.
hazard_layer_map`` says which layer drives the change of which type; types without a layer keep today's
exposure (ratio 1), and their projected change comes from population and income only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import xarray as xr

from climmig.exposure.ratio import exposure_ratio

__all__ = ["displacement_drivers"]


def displacement_drivers(exposure: xr.Dataset, hazards: Sequence[str],
                         layer_map: Mapping[str, str]) -> xr.Dataset:
    """Drivers of :func:`climmig.displacement.model.predict_displacement` (``docs/interfaces.md`` s. 2).

    Parameters
    ----------
    exposure : xr.Dataset
        Output of the exposure stage (section 1 of ``docs/interfaces.md``).
    hazards : sequence of str
        Displacement hazard types of the fitted model (e.g. flood, storm, drought).
    layer_map : mapping
        Displacement hazard type -> exposure hazard layer.

    Returns
    -------
    xr.Dataset
        ``population``, ``gdp_per_capita`` (scenario, year, region), ``agricultural_share``,
        ``rural_share`` (region), and on a ``hazard`` dim of the displacement types: ``exposure_ratio``
        (the share of people exposed relative to the present-climate baseline,
        :func:`climmig.exposure.ratio.exposure_ratio`; 1 where there is no layer or no baseline exposure), ``exposed_population``,
        ``livelihood_weighted_exposure``, ``hazard_intensity`` (NaN where there is no layer).
    """
    ratio_all = exposure_ratio(exposure)
    per_hazard: dict[str, list[xr.DataArray]] = {
        "exposure_ratio": [], "exposed_population": [], "livelihood_weighted_exposure": [],
        "hazard_intensity": [],
    }
    template = exposure["exposed_population"].isel(hazard=0, drop=True)
    for h in hazards:
        layer = layer_map.get(h)
        if layer is not None and layer in exposure["hazard"].values:
            ex = exposure.sel(hazard=layer, drop=True)
            per_hazard["exposure_ratio"].append(ratio_all.sel(hazard=layer, drop=True))
            for v in ("exposed_population", "livelihood_weighted_exposure", "hazard_intensity"):
                per_hazard[v].append(ex[v].drop_attrs() if hasattr(ex[v], "drop_attrs") else ex[v])
        else:
            per_hazard["exposure_ratio"].append(xr.ones_like(template))
            for v in ("exposed_population", "livelihood_weighted_exposure", "hazard_intensity"):
                per_hazard[v].append(xr.full_like(template, float("nan")))
    out = xr.Dataset({
        "population": exposure["population"],
        "gdp_per_capita": exposure["gdp_per_capita"],
        "agricultural_share": exposure["agricultural_share"],
        "rural_share": exposure["rural_share"],
    })
    for name, parts in per_hazard.items():
        da = xr.concat(parts, dim=xr.DataArray(list(hazards), dims="hazard", name="hazard"))
        out[name] = da.transpose("hazard", "scenario", "climate_model", "year", "region")
    out["exposure_ratio"].attrs = {"units": "1", "long_name": "share of people exposed relative to the baseline"}
    out["exposed_population"].attrs = {"units": "1", "long_name": "people exposed above the threshold"}
    out["livelihood_weighted_exposure"].attrs = {"units": "1",
                                                 "long_name": "exposed people weighted by agricultural dependency"}
    out["hazard_intensity"].attrs = {"long_name": "population-weighted mean hazard indicator"}
    out.attrs["climmig_hazard_layer_map"] = ", ".join(f"{k}->{v}" for k, v in layer_map.items())
    return out

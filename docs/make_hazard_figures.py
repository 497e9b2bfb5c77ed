"""Figures of docs/hazards.md: each warming-level layer over NEAF and SEAF beside the AR6 p10/p50/p90.

Run from the repository root: ``python docs/make_hazard_figures.py`` (about 30 s). Writes
``docs/hazard_<indicator>.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from climmig.catalog import load_catalog  # noqa: E402
from climmig.hazards import ar6  # noqa: E402
from climmig.hazards.check import INDEX_OF, layer_at_levels  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LEVELS = [1.5, 2.0, 3.0, 4.0]
LABEL = {"tx35": "days per year with daily maximum > 35 degC", "DF6": "droughts per decade (SPI-6)",
         "Q100": "100-year river discharge (per drainage area)"}


def main() -> None:
    cat = load_catalog(ROOT / "data_catalog" / "catalog.yaml")
    models = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())["climate_models"]
    table = cat.open("ar6_ch12_regional_changes")
    for indicator, index in INDEX_OF.items():
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
        for ax, region in zip(axes, ["NEAF", "SEAF"], strict=True):
            lv = ar6.regional_levels(table, index, [region], 0.85).isel(region=0).sel(gwl=LEVELS)
            ax.fill_between(LEVELS, lv.sel(quantile=0.1), lv.sel(quantile=0.9), color="0.85",
                            label="AR6 CMIP6 p10-p90")
            ax.plot(LEVELS, lv.sel(quantile=0.5), "k-", lw=2, label="AR6 CMIP6 median")
            value = layer_at_levels(indicator, cat, models, LEVELS, region)
            for m in value["climate_model"].values:
                ax.plot(LEVELS, value.sel(climate_model=m), "o--", ms=4, lw=1, label=f"climmig layer, {m}")
            ax.plot(LEVELS, value.median("climate_model"), "s", color="tab:red", ms=8, mfc="none",
                    label="climmig, median of the demo's models")
            ax.set_title(f"{region}")
            ax.set_xlabel("global warming since 1850-1900 (K)")
            ax.set_ylabel(LABEL[index])
            ax.set_xticks(LEVELS)
        axes[1].legend(fontsize=7, loc="best")
        fig.suptitle(f"{indicator}: the demo layer per warming level against AR6 WGI ch. 12 ({index})")
        fig.tight_layout()
        out = ROOT / "docs" / f"hazard_{indicator}.png"
        fig.savefig(out, dpi=110)
        plt.close(fig)
        print(f"wrote {out.relative_to(ROOT)}")


def crop_figure(cat, models: list[str]) -> None:
    """Crop layer per demo country at the period mid-points against Li et al. (2025) lower/median/upper."""
    import numpy as np
    import xarray as xr

    from climmig.hazards.cmip6_warming import model_positions, regional_amplification
    from climmig.hazards.warming_levels import ClimateDrivers, crop_layer

    table_t = cat.open("cmip6_regional_tas")
    pos = model_positions(regional_amplification(table_t, "NEAF", models))
    years = [2030, 2050, 2070, 2090]
    scen = ["ssp126", "ssp245", "ssp585"]
    w = xr.DataArray(np.zeros((3, len(models), 4)), dims=("scenario", "climate_model", "year"),
                     coords={"scenario": scen, "climate_model": models, "year": years})
    drivers = ClimateDrivers(warming=w, anomaly=w, position=pos, baseline_gwl=0.85, map_gwl=4.6, seed=1)
    countries = {"SO": "Somalia", "ET": "Ethiopia", "KE": "Kenya", "DJ": "Djibouti"}
    grid = xr.Dataset(coords={"lat": [0.0], "lon": [0.0, 1.0, 2.0, 3.0]})
    cells = xr.DataArray([list(countries)], dims=("lat", "lon"), coords=grid.coords)
    loss = crop_layer(cat, grid, drivers, {}, cells).compute()
    src = cat.open("crop_yield_change_li2025")
    li = {"ssp126": "SSP1-RCP2.6", "ssp245": "SSP2-RCP4.5", "ssp585": "SSP5-RCP8.5"}
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.8), sharey=True)
    for ax, (k, (a2, name)) in zip(axes, enumerate(countries.items()), strict=True):
        for i, s in enumerate(scen):
            rows = src[(src["crop"] == "Maize") & (src["ISO_A2"] == a2) & (src["scenario"] == li[s])]
            rows = rows.set_index("period").loc[["2021-2040", "2041-2060", "2061-2080", "2081-2100"]]
            x = np.array(years) + 0.5 + (i - 1) * 2.5
            ax.errorbar(x, -rows["med"] / 100, yerr=[(rows["upr"] - rows["med"]) / 100,
                        (rows["med"] - rows["lwr"]) / 100], fmt="s", mfc="none", color=f"C{i}", capsize=3,
                        label=f"Li et al. 2025 {s} (median, range)")
            layer = loss.isel(lat=0, lon=k).sel(scenario=s).transpose("climate_model", "year").values
            xs = np.repeat(x[None] + 0.8, len(models), 0)
            ax.scatter(xs.ravel(), layer.ravel(), s=10, color=f"C{i}", marker="o")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_title(name)
        ax.set_xlabel("period mid-point")
    axes[0].set_ylabel("maize-yield loss (fraction; < 0 = gain)")
    axes[-1].legend(fontsize=7)
    fig.suptitle("crop_yield_loss: the demo layer per model (dots; a gain is 0 loss) against its source (squares, bars)")
    fig.tight_layout()
    out = ROOT / "docs" / "hazard_crop_yield_loss.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
    crop_figure(load_catalog(ROOT / "data_catalog" / "catalog.yaml"),
                yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())["climate_models"])

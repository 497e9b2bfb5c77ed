"""Internal migration: zones, priors, conservation, the flow-table format and fitting from a simulated CSV."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.cli import main
from climmig.config.schema import DistSpec, SamplerSpec
from climmig.errors import ConfigError, DataError
from climmig.migration.geography import great_circle_km
from climmig.migration.internal import (
    DEFAULT_INTERNAL_PRIORS,
    build_internal_model,
    expected_internal_migration,
    grid_zones,
    internal_parameter_draws,
    predict_internal_flows,
    read_internal_flows,
    zone_table,
)
from climmig.mobility.fit import fit

INTERNAL_TRUTH = {"int_out_rate": 0.012, "int_destination_population": 0.9, "int_distance_decay": 1.3,
                  "int_climate_elasticity": 0.5, "int_alpha": 6.0}


def _pop_grid(rng: np.random.Generator, ny: int = 12, nx: int = 15) -> xr.DataArray:
    vals = rng.lognormal(8, 1.0, (ny, nx))
    vals[0, :3] = 0.0  # empty cells
    return xr.DataArray(vals, dims=("lat", "lon"),
                        coords={"lat": np.linspace(10, 0, ny), "lon": np.linspace(40, 48, nx)})


def simulate_internal_csv(rng: np.random.Generator, path: Path, n_zones: int = 9, period: float = 5.0,
                          truth: dict | None = None) -> pd.DataFrame:
    """Write a simulated internal flow table in the documented format and return it."""
    t = truth or INTERNAL_TRUTH
    lon, lat = rng.uniform(30, 40, n_zones), rng.uniform(0, 10, n_zones)
    pop = rng.lognormal(13.5, 0.8, n_zones)
    stress = rng.normal(0.0, 0.6, n_zones)
    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    rows = []
    for i in range(n_zones):
        j = np.array([k for k in range(n_zones) if k != i])
        w = pop[j] ** t["int_destination_population"] * d[i, j] ** -t["int_distance_decay"]
        mu = period * pop[i] * t["int_out_rate"] * np.exp(t["int_climate_elasticity"] * stress[i]) * w / w.sum()
        y = rng.poisson(rng.gamma(t["int_alpha"], mu / t["int_alpha"]))
        for k, jj in enumerate(j):
            rows.append({"origin_zone": f"Z{i}", "destination_zone": f"Z{jj}", "flow": int(y[k]),
                         "origin_population": pop[i], "destination_population": pop[jj],
                         "distance_km": d[i, jj], "climate_stress": stress[i], "period_years": period})
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return df


def test_grid_zones_equal_population(rng) -> None:
    pop = _pop_grid(rng)
    zone = grid_zones(pop, 5)
    assert zone.dims == pop.dims
    assert set(np.unique(zone.values)) == {-1, 0, 1, 2, 3, 4}
    assert (zone.values[0, :3] == -1).all()
    zt = zone_table(pop, zone)
    shares = zt["population"].values / zt["population"].values.sum()
    assert shares.min() > 0.1 and shares.max() < 0.32  # equal shares (0.2) up to cell granularity
    np.testing.assert_allclose(zt["population"].sum(), pop.sum())
    assert zt["distance_km"].dims == ("origin_zone", "destination_zone")
    np.testing.assert_allclose(np.diag(zt["distance_km"].values), 0.0)
    with pytest.raises(DataError, match="populated cells"):
        grid_zones(pop.isel(lat=slice(0, 1), lon=slice(0, 4)), 3)


def test_prior_draws_and_overrides() -> None:
    d = internal_parameter_draws(None, 2000, seed=1)
    assert d.attrs["climmig_internal_source"] == "prior"
    assert 0.006 < float(d["out_rate"].median()) < 0.011
    assert d["out_rate"].attrs["units"] == "yr-1"
    o = internal_parameter_draws({"out_rate": DistSpec(dist="Fixed", params={"value": 0.02})}, 10, seed=1)
    np.testing.assert_allclose(o["out_rate"].values, 0.02)
    with pytest.raises(ConfigError, match="internal_priors"):
        internal_parameter_draws({"outrate": DistSpec(dist="Fixed", params={"value": 0.02})}, 10, seed=1)
    assert all(s.source for s in DEFAULT_INTERNAL_PRIORS.values())


def test_zone_flows_conserve_country_total(rng) -> None:
    pop = _pop_grid(rng)
    zt = zone_table(pop, grid_zones(pop, 4))
    params = internal_parameter_draws(None, 50, seed=3)
    flows = predict_internal_flows(params, zt)
    assert flows.dims == ("sample", "origin_zone", "destination_zone")
    np.testing.assert_allclose(np.diagonal(flows.values, axis1=1, axis2=2), 0.0)
    total = expected_internal_migration(params, zt["population"].sum())
    np.testing.assert_allclose(flows.sum(("origin_zone", "destination_zone")).values, total.values, rtol=1e-9)
    # doubling exposure everywhere scales the total by 2**beta
    hot = predict_internal_flows(params, zt, climate_stress=xr.full_like(zt["population"], np.log(2.0)))
    np.testing.assert_allclose(hot.sum(("origin_zone", "destination_zone")).values,
                               total.values * 2.0 ** params["climate_elasticity"].values, rtol=1e-9)
    # nearer and larger zones attract more (positive decay and elasticity in every draw)
    assert (params["distance_decay"] > 0).mean() > 0.95


def test_read_internal_flows_checks(tmp_path, rng) -> None:
    p = tmp_path / "flows.csv"
    df = simulate_internal_csv(rng, p, n_zones=4)
    back = read_internal_flows(p)
    assert len(back) == len(df) and back["flow"].dtype.kind == "i"
    df.drop(columns=["distance_km"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match="distance_km"):
        read_internal_flows(tmp_path / "bad.csv")
    df.iloc[1:].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match="all 3 other zones"):
        read_internal_flows(tmp_path / "short.csv")
    neg = df.copy()
    neg.loc[0, "flow"] = -3
    neg.to_csv(tmp_path / "neg.csv", index=False)
    with pytest.raises(DataError, match=">= 0"):
        read_internal_flows(tmp_path / "neg.csv")
    minimal = df.drop(columns=["climate_stress", "period_years"])
    minimal.to_csv(tmp_path / "min.csv", index=False)
    m = read_internal_flows(tmp_path / "min.csv")
    assert (m["period_years"] == 1.0).all() and (m["climate_stress"] == 0.0).all()


@pytest.mark.slow
def test_internal_fit_recovers_simulated_csv(tmp_path) -> None:
    rng = np.random.default_rng(7)
    p = tmp_path / "internal.csv"
    simulate_internal_csv(rng, p, n_zones=10)
    idata = fit(build_internal_model(read_internal_flows(p)), SamplerSpec(draws=400, tune=400, chains=2),
                random_seed=3, model_name="internal")
    hdi = az.hdi(idata, hdi_prob=0.94)
    for name, value in INTERNAL_TRUTH.items():
        lo, hi = (float(x) for x in hdi[name].values)
        assert lo <= value <= hi, f"{name}: {value} outside [{lo:.4f}, {hi:.4f}]"
    draws = internal_parameter_draws(idata, 100, seed=1)
    assert draws.attrs["climmig_internal_source"] == "posterior"


@pytest.mark.slow
def test_cli_fit_internal_flows(tmp_path, demo_dict, write_config, capsys) -> None:
    rng = np.random.default_rng(11)
    csv = tmp_path / "internal.csv"
    simulate_internal_csv(rng, csv, n_zones=6)
    demo_dict["mobility"]["sampler"] = {"backend": "nutpie", "draws": 300, "tune": 300, "chains": 2}
    demo_dict["mobility"]["gate"] = {"allow_unconverged": True}
    cfg = write_config(demo_dict)
    out = tmp_path / "fits" / "migration.nc"
    with pytest.raises(SystemExit) as exc:
        main(["fit-migration", str(cfg), "--internal-flows", str(csv), "--no-cross-border", "--out", str(out)])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "int_distance_decay" in text and "internal fit" in text and "_log__" not in text
    assert (tmp_path / "fits" / "internal_migration.nc").exists()


def test_cli_missing_internal_csv_is_a_clean_error(tmp_path, demo_dict, write_config) -> None:
    cfg = write_config(demo_dict)
    with pytest.raises(SystemExit) as exc:
        main(["fit-migration", str(cfg), "--internal-flows", str(tmp_path / "nope.csv"), "--no-cross-border"])
    assert exc.value.code == 2

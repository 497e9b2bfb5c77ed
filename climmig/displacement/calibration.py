"""What a displacement calibration is made of: observations, historical exposure, provenance hashes, checks.

The pieces of a calibration (observations, historical exposure, the hashes of a fit's provenance) and the
checks of a calibrated fit; :class:`climmig.displacement.lifecycle.DisplacementModel` puts them together
behind ``climmig fit``, ``climmig backtest`` and the run's ``fit_displacement`` stage. The science lives in
:mod:`~climmig.displacement.model`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from climmig.config.schema import RunConfig
from climmig.displacement.model import (
    DisplacementInputs,
    build_displacement_model,
    draw_skewnormal,
    residual_scale_factor,
    skewnormal_location,
)
from climmig.displacement.observations import read_idmc
from climmig.errors import DataError
from climmig.mobility.hazard_history import (
    country_polygons,
    drought_intensity,
    flood_intensity,
    historical_log_exposure,
)
from climmig.mobility.lifecycle import model_signature  # re-exported: saved fits' provenance
from climmig.provenance import canonical_json, config_hash

__all__ = ["CHECK_VARS", "Calibration", "fit_config_hash", "fit_data_hash", "historical_exposure",
           "in_sample_record",
           "load_observations", "model_signature", "plot_predictive_checks"]

logger = logging.getLogger(__name__)

MODEL_NAME = "displacement_hurdle_skewnormal"
#: parameters the convergence gate looks at (exposure_elasticity is prior-only without exposure data; it is
#: added when historical intensity informs it)
CHECK_VARS = ["intercept", "beta_between", "beta_within", "beta_within_spread", "sigma_region", "sigma_country_global", "sigma_country_hazard", "sigma_country", "sigma_year", "sigma_obs_global",
              "sigma_obs_hazard", "sigma_obs", "sigma_obs_level", "sigma_obs_knot", "size_skewness",
              "region_effect",
              "country_effect", "year_shock", "occ_intercept", "occ_beta_between", "occ_beta_within", "occ_beta_within_spread", "occ_population", "occ_year_trend", "occ_sigma_year", "occ_year_effect", "occ_sigma_region",
              "occ_sigma_country", "occ_region_effect", "occ_country_effect", "effect_correlation"]


@dataclass(frozen=True)
class Calibration:
    """A fitted (or reloaded) displacement model with what it was fitted on."""

    idata: az.InferenceData
    inputs: DisplacementInputs
    observations: pd.DataFrame
    covariates: pd.DataFrame
    diagnostics: Any
    path: Path | None
    reused: bool
    data_sha256: str


def load_observations(cfg: RunConfig, catalog: Any, path: str | Path | None = None,
                      fmt: str | None = None) -> tuple[pd.DataFrame, str]:
    """The tidy IDMC observations of a run (catalog entry, or a file given on the command line).

    Parameters
    ----------
    cfg : RunConfig
        Run config (``mobility.displacement``).
    catalog : ResolvedCatalog
        The run's catalog.
    path : str or Path, optional
        Observations file overriding the catalog entry.
    fmt : str, optional
        Format of the observations. Default: the config's ``observation_format`` for the catalog entry, and
        detection (``auto``) for a file given as ``path`` (the config's format describes its own entry).

    Returns
    -------
    (pandas.DataFrame, str)
        Tidy table and the sha256 of the source file(s).
    """
    spec = cfg.mobility.displacement
    fmt = fmt or (spec.observation_format if path is None else "auto")
    if path is not None:
        from climmig.io.readers import sha256_file

        sha = sha256_file(path) if Path(path).is_file() else ""
        return read_idmc(path, fmt, hazards=spec.hazards), sha
    df = catalog.open(spec.observations)
    return read_idmc(df, fmt, hazards=spec.hazards), str(df.attrs.get("climmig_sha256", ""))


#: catalog entry whose country polygons locate flood events and CHIRPS cells
INTENSITY_BOUNDARIES = "natural_earth_110m_admin0"


def historical_exposure(cfg: RunConfig, catalog: Any, years: list[int], cells: pd.DataFrame | None = None
                        ) -> tuple[pd.Series | None, dict[str, str], dict[str, str]]:
    """Open the config's historical intensity records and build ``log E`` for the calibration years.

    Parameters
    ----------
    cfg : RunConfig
        Run config (``mobility.displacement.historical_intensity``: hazard -> catalog id).
    catalog : ResolvedCatalog
        The run's catalog.
    years : list of int
        Calibration years.
    cells : pandas.DataFrame, optional
        Modelled cells (``iso3, year, hazard``), to list those left at ``E = 1``.

    Returns
    -------
    (pandas.Series or None, dict, dict)
        ``log E`` of the covered cells (see :func:`~climmig.mobility.hazard_history.historical_log_exposure`;
        None if no record is configured), the checksum of every file used (catalog id -> sha256 string) and
        the source of each hazard's intensity (hazard -> catalog id and rule).
    """
    spec = cfg.mobility.displacement.historical_intensity
    if not spec:
        return None, {}, {}
    ids = set(catalog.ids())
    for hazard, cid in {**spec, "boundaries": INTENSITY_BOUNDARIES}.items():
        if cid not in ids:
            field = ("mobility.displacement.historical_intensity." + hazard if hazard != "boundaries"
                     else "the country polygons")
            raise DataError(f"{field}: catalog entry {cid!r} is not in the catalog; add it to the catalog or "
                            "correct the id")
    ne = catalog.open(INTENSITY_BOUNDARIES)
    sha = {INTENSITY_BOUNDARIES: str(ne.attrs.get("climmig_sha256", ""))}
    polygons = country_polygons(ne)
    records, sources = {}, {}
    for hazard, cid in sorted(spec.items()):
        data = catalog.open(cid)
        sha[cid] = str(data.attrs.get("climmig_sha256", ""))
        if hazard == "flood":
            records[hazard] = flood_intensity(data, polygons)
        elif hazard == "drought":
            if "prec" not in data:
                raise DataError(f"mobility.displacement.historical_intensity.drought: {cid!r} has no 'prec' "
                                "variable (monthly Oct-Dec rain, mm/day); point it at a CHIRPS-format grid")
            records[hazard] = drought_intensity(data["prec"].load(), polygons)
        sources[hazard] = f"{cid}: {records[hazard].attrs['source']}"
    log_e = historical_log_exposure(records, years, cells)
    return log_e, sha, sources


def fit_data_hash(observations_sha256: str, covariates_sha256: dict[str, str], fit_until: int,
                  hazards: list[str], log_exposure: pd.Series | None = None,
                  intensity_sha256: dict[str, str] | None = None) -> str:
    """sha256 of what a fit was fitted on (its ``data_sha256``; a saved fit is reused only if it matches).

    Parameters
    ----------
    observations_sha256 : str
        Checksum of the observations' source.
    covariates_sha256 : dict
        Catalog id -> checksum of the covariate files.
    fit_until : int
        Last calibration year.
    hazards : list of str
        Modelled hazards.
    log_exposure : pandas.Series, optional
        Historical ``log E`` (:func:`historical_exposure`); its values are hashed too, so a change of the
        intensity rule refits.
    intensity_sha256 : dict, optional
        Catalog id -> checksum of every file the intensity was built from.

    Returns
    -------
    str
        Without historical intensity, the same hash as before it existed (saved fits stay valid).
    """
    hashed: dict[str, Any] = {"observations": observations_sha256, "covariates": covariates_sha256,
                              "fit_until": fit_until, "hazards": hazards}
    if log_exposure is not None:
        values = hashlib.sha256(np.round(log_exposure.to_numpy(float), 10).tobytes()
                                + canonical_json([[str(x) for x in i] for i in log_exposure.index]).encode())
        hashed["historical_intensity"] = {"files": dict(intensity_sha256 or {}),
                                          "log_exposure_sha256": values.hexdigest()}
    return hashlib.sha256(canonical_json(hashed).encode()).hexdigest()


def fit_config_hash(cfg: RunConfig) -> str:
    """SHA-256 of the settings the displacement fit depends on, and nothing else.

    The model is fitted on every observed country, so the study area, the scenarios, the hazard layers and
    the projection settings do not change it: a saved fit whose data checksums and model structure also match
    is reused by any config with the same displacement spec (its ``hazard_layer_map`` is used by the
    projection only), sampler, seed and calibration period.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return config_hash({
        "displacement": cfg.mobility.displacement.model_dump(mode="json", exclude={"hazard_layer_map"}),
        "sampler": cfg.mobility.sampler.model_dump(mode="json"),
        "seed": cfg.seed,
        "historical": cfg.period.historical.model_dump(mode="json"),
    })


def _predictive_draws(cal: Calibration, rng: np.random.Generator, n: int, prior: bool) -> np.ndarray:
    """(n, obs) draws of the counts under the prior or the posterior, vectorised over draws."""
    inp = cal.inputs
    if prior:
        import pymc as pm

        from climmig.config.schema_statistics import DistSpec

        priors = {k: DistSpec(**v) for k, v in json.loads(cal.idata.posterior.attrs["priors"]).items()}
        model = build_displacement_model(inp, priors)
        names = [v for v in [*CHECK_VARS, "exposure_elasticity"] if v in model.named_vars]
        # PyTensor's Python linker: the default C linker compiled the forward graph with gcc, 11.6 s on a fresh
        # install (1.2 s in all this way); the draws are numpy's either way
        with model:
            group = pm.sample_prior_predictive(draws=n, random_seed=rng, var_names=names,
                                               compile_kwargs={"mode": "FAST_COMPILE"}).prior
    else:
        group = cal.idata.posterior
    post = group.stack(sample=("chain", "draw"))
    pick = rng.choice(post.sizes["sample"], size=min(n, post.sizes["sample"]), replace=False)
    p = post.isel(sample=pick)
    h, c, t = inp.hazard_idx, inp.country_idx, inp.year_idx
    between, within = inp.between_within()

    def per_obs(name: str, *dims: str) -> np.ndarray:
        return p[name].transpose("sample", *dims).values

    def covariate_term(prefix: str) -> np.ndarray:
        return (np.einsum("ok,sko->so", within, per_obs(f"{prefix}_within", "covariate", "hazard")[:, :, h])
                + np.einsum("ok,sko->so", between[c], per_obs(f"{prefix}_between", "covariate", "hazard")[:, :, h]))

    m = (inp.log_population + covariate_term("beta")
         + per_obs("country_effect", "country", "hazard")[:, c, h]
         + per_obs("year_shock", "year", "hazard")[:, t, h]
         + per_obs("exposure_elasticity", "hazard")[:, h] * inp.log_exposure_ratio)
    ps = inp.scaling["population"]
    zpop = (inp.log_population - ps["mean"]) / ps["sd"]
    ys = inp.year_scaling()
    zyear = (np.asarray(inp.coords["year"], float)[t] - ys["mean"]) / ys["sd"]
    logit = (per_obs("occ_population", "hazard")[:, h] * zpop + per_obs("occ_year_trend", "hazard")[:, h] * zyear
             + per_obs("occ_year_effect", "year", "hazard")[:, t, h]
             + covariate_term("occ_beta")
             + per_obs("occ_country_effect", "country", "hazard")[:, c, h])
    # hazard-years IDMC did not monitor have no chance of a record
    logit = np.where(inp.monitored_mask()[t, h], logit, -np.inf)
    tau = per_obs("sigma_obs", "hazard")[:, h] * residual_scale_factor(
        m, p["sigma_obs_level"].values[:, None], p["sigma_obs_knot"].values[:, None], inp.size_level())
    skew = p["size_skewness"].values[:, None]
    event = rng.random(m.shape) < 1 / (1 + np.exp(-logit))
    loc = skewnormal_location(m, tau, skew)
    return np.where(event, np.rint(np.exp(np.minimum(draw_skewnormal(rng, loc, tau, skew), 40.0))), 0.0)


def in_sample_record(cal: Calibration, countries: list[str], *, n: int = 400, seed: int = 0,
                     level: float = 0.9) -> pd.DataFrame:
    """The fit's in-sample posterior predictive of each country's calibration-period mean, beside the record.

    A model calibrated on a country's own record should reproduce it: the record's mean over the calibration
    years should sit inside the predictive distribution of that mean. Yearly displacement is heavy-tailed and
    many series have only a few recorded years, so the predictive *mean* of a period mean sits above its
    *median* (rare large years, and the uncertainty of a country effect fitted on a few figures, raise the
    mean); the record, one draw of that distribution, is then compared with its percentile, not only the mean.

    Parameters
    ----------
    cal : Calibration
        A calibration.
    countries : list of str
        ISO3 codes to report (those without observations are skipped).
    n : int
        Posterior predictive replicates.
    seed : int
        Seed of the replicate draws.
    level : float
        Width of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per country and hazard: ``region``, ``hazard``, ``years`` (cells in the fit),
        ``record_mean``, ``in_sample_mean``, ``in_sample_median``, ``in_sample_lower``, ``in_sample_upper``
        (of the calibration-period mean) and ``record_percentile`` (share of replicates whose period mean is at
        most the record's).
    """
    inp = cal.inputs
    draws = _predictive_draws(cal, np.random.default_rng(seed), n, prior=False)
    y = np.asarray(inp.displacements, float)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for c in countries:
        if c not in inp.coords["country"]:
            continue
        ci = inp.coords["country"].index(c)
        for hi_, hazard in enumerate(inp.coords["hazard"]):
            cells = (inp.country_idx == ci) & (inp.hazard_idx == hi_)
            if not cells.any():
                continue
            period = draws[:, cells].mean(axis=1)
            rec = float(y[cells].mean())
            rows.append({"region": c, "hazard": str(hazard), "years": int(cells.sum()), "record_mean": rec,
                         "in_sample_mean": float(period.mean()), "in_sample_median": float(np.median(period)),
                         "in_sample_lower": float(np.quantile(period, lo)),
                         "in_sample_upper": float(np.quantile(period, hi)),
                         "record_percentile": float((period <= rec).mean())})
    out = pd.DataFrame(rows)
    out.attrs["years"] = f"{inp.coords['year'][0]}-{inp.coords['year'][-1]}"
    return out


def plot_predictive_checks(cal: Calibration, out_dir: Path, seed: int, n: int = 200) -> list[Path]:
    """Prior and posterior predictive check plots (PNG) of yearly displacement per hazard.

    Each figure has one panel per hazard: the distribution of ``log10(1 + displacements)`` over
    country-years, observed (black) against simulated replicates (thin coloured lines), and the share of
    zero years in the title.

    Parameters
    ----------
    cal : Calibration
        A calibration.
    out_dir : Path
        Directory for ``displacement_prior_predictive.png`` and ``displacement_posterior_predictive.png``.
    seed : int
        Seed of the replicate draws.
    n : int
        Replicates (only 40 are drawn as lines).

    Returns
    -------
    list of Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from climmig.io.writers import atomic_path

    rng = np.random.default_rng(seed)
    inp = cal.inputs
    y = inp.displacements.astype(float)
    hazards = inp.coords["hazard"]
    bins = np.linspace(0, 8, 33)
    paths = []
    for kind in ("prior", "posterior"):
        draws = _predictive_draws(cal, rng, n, prior=kind == "prior")
        fig, axes = plt.subplots(1, len(hazards), figsize=(4.2 * len(hazards), 3.6), squeeze=False)
        for j, hz in enumerate(hazards):
            ax = axes[0, j]
            sel = inp.hazard_idx == j
            centres = 0.5 * (bins[1:] + bins[:-1])
            for d in draws[:40, sel]:
                hist, _ = np.histogram(np.log10(1 + np.minimum(d, 1e8)), bins=bins)
                ax.plot(centres, hist, color="tab:blue" if kind == "posterior" else "tab:orange", alpha=0.15,
                        lw=0.8)
            hist, _ = np.histogram(np.log10(1 + y[sel]), bins=bins)
            ax.plot(centres, hist, color="black", lw=2, label="observed (IDMC)")
            zero_obs = float((y[sel] == 0).mean())
            zero_sim = float((draws[:, sel] == 0).mean())
            ax.set_title(f"{hz}: zero years observed {zero_obs:.0%}, simulated {zero_sim:.0%}", fontsize=9)
            ax.set_xlabel("log10(1 + displaced people per country-year)")
            ax.set_ylabel("country-years")
            ax.set_yscale("symlog", linthresh=10)
            if j == 0:
                ax.plot([], [], color="tab:blue" if kind == "posterior" else "tab:orange",
                        label=f"{kind} predictive replicates")
                ax.legend(fontsize=8)
        fig.suptitle(f"Displacement model: {kind} predictive check ({len(inp.coords['country'])} countries, "
                     f"{inp.coords['year'][0]}-{inp.coords['year'][-1]})", fontsize=10)
        fig.tight_layout()
        target = Path(out_dir) / f"displacement_{kind}_predictive.png"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
        paths.append(target)
    return paths

"""Out-of-sample check of the migration model: hold out origin-destination pairs, fit, predict, score.

The benchmark is a point-estimate Poisson GLM gravity model (log link, the same pair covariates, no country
effects), fitted by iteratively reweighted least squares and scored the same way. Scores are per held-out
pair: the log predictive density (mean over pairs; higher is better) and the share of observed flows inside
the central 90 % predictive interval.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from climmig.mobility.migration import (
    MODEL_NAME,
    MigrationInputs,
    build_migration_model,
    fit_attrs,
    posterior_draws,
    resolve_priors,
)
from climmig.mobility.regimes import REGIMES

__all__ = ["backtest_flows", "holdout_countries", "holdout_mask", "plot_observed_vs_predicted", "poisson_glm",
           "predictive_draws", "score_holdout"]

logger = logging.getLogger(__name__)

_COVARIATES = ("log_pop_origin", "log_pop_destination", "log_distance", "income_diff", "log_gdp_origin",
               "climate_stress", "contiguous")


def holdout_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    """Seeded random choice of ``round(fraction * n)`` held-out rows.

    Parameters
    ----------
    n : int
        Number of pairs.
    fraction : float
        Share held out (0 < fraction < 1).
    seed : int
        Seed.

    Returns
    -------
    numpy.ndarray of bool
        True for held-out pairs.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must lie strictly between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=max(1, round(fraction * n)), replace=False)] = True
    return mask


def holdout_countries(countries: Sequence[str], n: int, seed: int) -> list[str]:
    """Seeded random choice of ``n`` countries whose pairs (as origin or destination) are all held out.

    Parameters
    ----------
    countries : sequence of str
        Countries of the flow table.
    n : int
        Number held out (0 < n < number of countries - 2).
    seed : int
        Seed.

    Returns
    -------
    list of str
        Sorted.
    """
    if not 0 < n < len(countries) - 2:
        raise ValueError(f"--holdout-countries must lie between 1 and {len(countries) - 3}, got {n}")
    rng = np.random.default_rng(seed)
    return sorted(str(c) for c in rng.choice(list(countries), size=n, replace=False))


def _design(pairs: pd.DataFrame, regimes: list[str]) -> np.ndarray:
    cols = [np.ones(len(pairs))] + [pairs[c].to_numpy(float) for c in _COVARIATES]
    cols += [(pairs["regime"] == r).to_numpy(float) for r in regimes]
    return np.column_stack(cols)


def poisson_glm(train: pd.DataFrame, test: pd.DataFrame, max_iter: int = 100) -> np.ndarray:
    """Fit a Poisson GLM gravity model by IRLS on ``train`` and return the point predictions on ``test``.

    Parameters
    ----------
    train, test : pandas.DataFrame
        Pair tables (:attr:`MigrationInputs.pairs`).
    max_iter : int
        IRLS iterations.

    Returns
    -------
    numpy.ndarray
        Predicted mean flow per test pair.
    """
    regimes = [r for r in REGIMES[1:] if (train["regime"] == r).any()]
    x, y = _design(train, regimes), train["flow"].to_numpy(float)
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(y.mean() + 1e-9)
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        xtw = x.T * mu
        new = np.linalg.solve(xtw @ x + 1e-8 * np.eye(x.shape[1]), xtw @ z)
        if np.max(np.abs(new - beta)) < 1e-9:
            beta = new
            break
        beta = new
    return np.exp(np.clip(_design(test, regimes) @ beta, -30, 30))


def predictive_draws(idata: Any, inputs: MigrationInputs, test: pd.DataFrame, samples: int,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected flows and posterior-predictive counts of ``test`` pairs (vectorised over draws and pairs).

    Countries outside the fit get origin/destination effects drawn from :math:`N(0, \\sigma)` per draw
    (one draw per country, shared by all its pairs), as in projections.

    Parameters
    ----------
    idata : az.InferenceData
        Fit on the training pairs.
    inputs : MigrationInputs
        The training inputs (for the country order).
    test : pandas.DataFrame
        Held-out pairs.
    samples : int
        Posterior draws.
    seed : int
        Seed.

    Returns
    -------
    mu, alpha : numpy.ndarray
        ``mu`` (samples, pairs) expected counts over the period; ``alpha`` (samples,) NB shape.
    """
    d = posterior_draws(idata, samples, seed)
    rng = np.random.default_rng(seed)
    reg = test["regime"].map({r: k for k, r in enumerate(REGIMES)}).to_numpy()
    v = {k: d[k].values for k in d.data_vars}

    def effects(var: str, sigma: str, codes: pd.Series) -> np.ndarray:
        known = {c: i for i, c in enumerate(inputs.countries)}
        new = sorted(set(codes) - set(known))
        eff = np.concatenate([v[var], rng.standard_normal((samples, len(new))) * v[sigma][:, None]], axis=1)
        idx = {**known, **{c: len(known) + k for k, c in enumerate(new)}}
        return eff[:, codes.map(idx).to_numpy()]

    eff_o = effects("mig_origin_effect", "mig_sigma_origin", test["origin"])
    eff_d = effects("mig_destination_effect", "mig_sigma_destination", test["destination"])
    log_mu = (v["mig_intercept"][:, None] + eff_o + eff_d
              + v["mig_pop_origin"][:, None] * test["log_pop_origin"].to_numpy()
              + v["mig_pop_destination"][:, None] * test["log_pop_destination"].to_numpy()
              - v["mig_distance_decay"][:, None] * test["log_distance"].to_numpy()
              + v["mig_income"][:, None] * test["income_diff"].to_numpy()
              + v["mig_origin_income"][:, None] * test["log_gdp_origin"].to_numpy()
              + v["mig_climate_stress"][:, None] * test["climate_stress"].to_numpy()
              + v["mig_contiguity"][:, None] * test["contiguous"].to_numpy()
              + v["mig_regime_effect"][:, reg])
    return np.exp(log_mu), v["mig_alpha"]


def _nb_logpmf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return (special.gammaln(y + alpha) - special.gammaln(alpha) - special.gammaln(y + 1)
            + alpha * np.log(alpha / (alpha + mu)) + y * np.log(mu / (alpha + mu)))


def score_holdout(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray, glm_mu: np.ndarray,
                  seed: int) -> dict[str, float]:
    """Scores of the Bayesian predictive distribution and of the Poisson GLM on held-out flows.

    Parameters
    ----------
    y : numpy.ndarray
        Observed held-out counts (pairs,).
    mu : numpy.ndarray
        Expected counts per draw (samples, pairs).
    alpha : numpy.ndarray
        NB shape per draw (samples,).
    glm_mu : numpy.ndarray
        Poisson GLM point predictions (pairs,).
    seed : int
        Seed of the predictive count draws used for the interval.

    Returns
    -------
    dict
        ``n``, ``coverage_90`` (share of observed flows in the central 90 % posterior-predictive interval),
        ``log_score`` (mean log predictive density, the posterior mixture), ``log_score_poisson_glm``,
        ``coverage_90_poisson_glm``, ``median_abs_log_error`` and ``median_abs_log_error_poisson_glm``
        (on log1p flows).
    """
    rng = np.random.default_rng(seed)
    a = alpha[:, None]
    counts = rng.poisson(rng.gamma(a, mu / a))
    lo, hi = np.quantile(counts, [0.05, 0.95], axis=0)
    lp = _nb_logpmf(y[None, :], mu, a)
    log_score = special.logsumexp(lp, axis=0) - np.log(mu.shape[0])
    glm_lp = stats.poisson.logpmf(y, glm_mu)
    glo, ghi = stats.poisson.ppf(0.05, glm_mu), stats.poisson.ppf(0.95, glm_mu)
    med = np.median(counts, axis=0)
    return {
        "n": int(y.size),
        "coverage_90": float(np.mean((y >= lo) & (y <= hi))),
        "log_score": float(np.mean(log_score)),
        "log_score_poisson_glm": float(np.mean(glm_lp)),
        "coverage_90_poisson_glm": float(np.mean((y >= glo) & (y <= ghi))),
        "median_abs_log_error": float(np.median(np.abs(np.log1p(med) - np.log1p(y)))),
        "median_abs_log_error_poisson_glm": float(np.median(np.abs(np.log1p(glm_mu) - np.log1p(y)))),
    }


def plot_observed_vs_predicted(y: np.ndarray, counts_q: np.ndarray, glm_mu: np.ndarray, path: Any,
                               title: str) -> None:
    """Log-log plot of observed against predicted held-out flows (median and 90 % interval, and the GLM).

    Parameters
    ----------
    y : numpy.ndarray
        Observed flows.
    counts_q : numpy.ndarray
        Predictive quantiles (3, pairs): 5 %, 50 %, 95 %.
    glm_mu : numpy.ndarray
        Poisson GLM predictions.
    path : str or Path
        PNG file to write.
    title : str
        Plot title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from climmig.io.writers import atomic_path

    fig, ax = plt.subplots(figsize=(6.4, 6.0), dpi=120)
    x = y + 1.0
    ax.errorbar(x, counts_q[1] + 1, yerr=[counts_q[1] - counts_q[0], counts_q[2] - counts_q[1]], fmt="o",
                ms=3, alpha=0.6, elinewidth=0.6, color="tab:blue", label="climmig: median, 90 % interval")
    ax.scatter(x, glm_mu + 1, s=10, marker="x", color="tab:red", alpha=0.7, label="Poisson GLM gravity")
    lim = [1, max(float(x.max()), float(counts_q[2].max()) + 1) * 2]
    ax.plot(lim, lim, color="k", lw=0.8, label="observed = predicted")
    ax.set(xscale="log", yscale="log", xlim=lim, ylim=lim, xlabel="observed flow + 1 (people, 5 years)",
           ylabel="predicted flow + 1 (people, 5 years)", title=title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def backtest_flows(inputs: MigrationInputs, priors: Any, sampler: Any, *, holdout: float, seed: int,
                   samples: int = 1000, countries: int = 0) -> tuple[dict[str, Any], pd.DataFrame, Any]:
    """Hold out a share of pairs (or whole countries), fit on the rest, predict them and score both models.

    Parameters
    ----------
    inputs : MigrationInputs
        All pairs.
    priors : mapping of str to DistSpec or None
        Prior overrides.
    sampler : SamplerSpec
        MCMC settings.
    holdout : float
        Share of pairs held out.
    seed : int
        Seed of the split, the sampler and the predictive draws.
    samples : int
        Posterior draws used for prediction.
    countries : int
        If > 0, hold out every pair of ``countries`` seeded-random countries instead of a share of pairs
        (``holdout`` is then ignored): the fit never sees them, as for the demo countries in projections.

    Returns
    -------
    scores : dict
        See :func:`score_holdout`, plus ``holdout``, ``seed``, ``n_train``, ``beats_poisson_glm`` and, for a
        country hold-out, ``holdout_countries``.
    predictions : pandas.DataFrame
        Held-out pairs with ``observed``, ``q05``, ``q50``, ``q95`` and ``poisson_glm``.
    idata : az.InferenceData
        The training fit.
    """
    from climmig.mobility.fit import fit

    extra: dict[str, Any] = {"holdout": holdout}
    if countries > 0:
        gone = holdout_countries(inputs.countries, countries, seed)
        mask = (inputs.pairs["origin"].isin(gone) | inputs.pairs["destination"].isin(gone)).to_numpy()
        train = inputs.without_countries(gone)
        extra = {"holdout": float(mask.mean()), "holdout_countries": gone}
    else:
        mask = holdout_mask(len(inputs.pairs), holdout, seed)
        train = inputs.subset(~mask)
    test = inputs.pairs.loc[mask].reset_index(drop=True)
    resolved = resolve_priors(priors)
    model = build_migration_model(train, resolved)
    idata = fit(model, sampler, random_seed=seed, model_name=MODEL_NAME, attrs=fit_attrs(train, resolved))
    mu, alpha = predictive_draws(idata, train, test, samples, seed)
    glm_mu = poisson_glm(train.pairs, test)
    y = test["flow"].to_numpy(float)
    scores = score_holdout(y, mu, alpha, glm_mu, seed)
    scores.update({**extra, "seed": seed, "n_train": len(train.pairs),
                   "beats_poisson_glm": bool(scores["log_score"] > scores["log_score_poisson_glm"])})
    rng = np.random.default_rng(seed + 1)
    counts = rng.poisson(rng.gamma(alpha[:, None], mu / alpha[:, None]))
    q = np.quantile(counts, [0.05, 0.5, 0.95], axis=0)
    pred = test[["origin", "destination", "regime"]].assign(observed=y, q05=q[0], q50=q[1], q95=q[2],
                                                            poisson_glm=glm_mu)
    return scores, pred, idata

"""Out-of-sample check of the migration model: hold out origin-destination pairs, fit, predict, score.

The benchmark is a point-estimate Poisson GLM gravity model (log link, the same pair covariates, no country
effects), fitted by iteratively reweighted least squares and scored the same way. Scores are per held-out
pair: the log predictive density (mean over pairs; higher is better) and the share of observed flows inside
the central 90 % predictive interval.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from climmig.migration.model import (
    MODEL_NAME,
    MigrationInputs,
    build_migration_model,
    fit_attrs,
    posterior_draws,
    resolve_priors,
)
from climmig.migration.regimes import REGIMES

__all__ = ["backtest_flows", "backtest_gravity", "score_gravity", "holdout_countries", "holdout_mask", "plot_observed_vs_predicted", "poisson_glm",
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


# ------------------------------------------------------------------------------------------------ all countries
def _nb_interval(mu: np.ndarray, alpha: float | np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Central interval of NB(mu, alpha) (scipy's nbinom with n = alpha, p = alpha / (alpha + mu))."""
    p = alpha / (alpha + mu)
    return stats.nbinom.ppf(lo, alpha, p), stats.nbinom.ppf(hi, alpha, p)


def score_gravity(y: np.ndarray, log_mu: np.ndarray, alpha: np.ndarray, glm_mu: np.ndarray,
                  glm_alpha: float | np.ndarray, seed: int) -> dict[str, float]:
    """Log score and 90 % coverage of the gravity posterior predictive and of the NB GLM baseline.

    Parameters
    ----------
    y : numpy.ndarray
        Observed held-out flows (rows,).
    log_mu : numpy.ndarray
        Log expected flows per draw (samples, rows).
    alpha : numpy.ndarray
        NB shape per draw and row (samples, rows), or per draw (samples,).
    glm_mu : numpy.ndarray
        Point predictions of the NB GLM (rows,).
    glm_alpha : float or numpy.ndarray
        Its shape (per row).
    seed : int
        Seed of the predictive draws used for the interval.

    Returns
    -------
    dict
        ``n``, ``n_nonzero``; ``log_score``, ``coverage_90``, ``median_abs_log_error`` for the model and with
        suffix ``_nb_glm`` for the baseline; the same three on the nonzero flows (suffix ``_nonzero``).
    """
    from climmig.migration.gravity import nb_logpmf

    rng = np.random.default_rng(seed)
    mu = np.exp(np.clip(log_mu, -30, 30))
    a = alpha if alpha.ndim == 2 else alpha[:, None]
    lp = nb_logpmf(y[None, :], mu, a)
    ls = special.logsumexp(lp, axis=0) - np.log(mu.shape[0])
    counts = rng.poisson(rng.gamma(a, mu / a))
    lo, hi = np.quantile(counts, [0.05, 0.95], axis=0)
    med = np.median(counts, axis=0)
    glp = nb_logpmf(y, glm_mu, glm_alpha)
    glo, ghi = _nb_interval(glm_mu, glm_alpha, 0.05, 0.95)
    gmed = stats.nbinom.median(glm_alpha, glm_alpha / (glm_alpha + glm_mu))
    inside, ginside = (y >= lo) & (y <= hi), (y >= glo) & (y <= ghi)
    err, gerr = np.abs(np.log1p(med) - np.log1p(y)), np.abs(np.log1p(gmed) - np.log1p(y))
    nz = y > 0
    out = {"n": int(y.size), "n_nonzero": int(nz.sum())}
    for suffix, m in (("", np.ones_like(nz)), ("_nonzero", nz)):
        out[f"log_score{suffix}"] = float(ls[m].mean())
        out[f"coverage_90{suffix}"] = float(inside[m].mean())
        out[f"median_abs_log_error{suffix}"] = float(np.median(err[m]))
        out[f"log_score_nb_glm{suffix}"] = float(glp[m].mean())
        out[f"coverage_90_nb_glm{suffix}"] = float(ginside[m].mean())
        out[f"median_abs_log_error_nb_glm{suffix}"] = float(np.median(gerr[m]))
    return out


def _glm_predict(res: dict[str, Any], d: Any) -> np.ndarray:
    """NB GLM point predictions (periods outside the fit take the last period's effect)."""
    t = len(d.periods)
    tau = np.concatenate([res["theta"][:t], [res["theta"][t - 1]]])
    pidx = np.where(d.period_idx < 0, t, d.period_idx)
    return np.exp(np.clip(tau[pidx] + d.x @ res["theta"][t:t + d.x.shape[1]], -30, 30))


def backtest_gravity(panel: Any, *, holdout: float = 0.2, seed: int = 1, samples: int = 400,
                     time_holdout: int | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Pair and time hold-outs of the all-country gravity model against a negative-binomial GLM.

    1. **Pairs**: a seeded share ``holdout`` of the ordered country pairs is held out in every period; both
       models are fitted on the other pairs and predict the held-out ones.
    2. **Time**: both models are fitted on the periods before ``time_holdout`` (default the last period,
       2010-2015) and predict that period for every pair. The model's new period effect is the last fitted
       one plus :math:`N(0, s^2)`, :math:`s` the RMS change between fitted periods; the GLM takes the last
       fitted period's effect.

    The baseline is a negative-binomial (NB2, constant shape) GLM with the same covariates and no country
    effects, fitted by maximum likelihood (Fisher scoring, shape by profile likelihood:
    :func:`climmig.migration.gravity.nb_glm` with ``with_effects=False, power_dispersion=False``; statsmodels
    is not a dependency).

    Parameters
    ----------
    panel : FlowPanel
        All rows.
    holdout : float
        Share of ordered pairs held out.
    seed : int
        Seed of the split, the draws and the predictive intervals.
    samples : int
        Posterior draws used to predict.
    time_holdout : int, optional
        First year of the held-out period.

    Returns
    -------
    scores : dict
        ``pairs`` and ``time``: :func:`score_gravity` plus ``n_train``, ``fit_seconds``, ``beats_nb_glm``.
    predictions : pandas.DataFrame
        Held-out rows of both checks (``check``, ``period``, ``origin``, ``destination``, ``observed``,
        ``q05``, ``q50``, ``q95``, ``nb_glm``).
    """
    import time

    from climmig.migration.gravity import (
        centering_of,
        design,
        fit_panel,
        gravity_draws,
        log_mu_draws,
        nb_glm,
        period_step_sd,
        row_shape,
    )

    rows = panel.rows
    keys = rows["origin"] + ">" + rows["destination"]
    uniq = np.array(sorted(keys.unique()))
    held = set(uniq[holdout_mask(len(uniq), holdout, seed)])
    last = time_holdout if time_holdout is not None else max(panel.periods)
    splits = {"pairs": keys.isin(held).to_numpy(), "time": (rows["period"] == last).to_numpy()}
    scores: dict[str, Any] = {"flow_measure": panel.measure, "seed": seed, "samples": samples}
    preds = []
    for name, test_mask in splits.items():
        train_mask = ~test_mask if name == "pairs" else (rows["period"] < last).to_numpy()
        t0 = time.perf_counter()
        idata = fit_panel(panel, draws=max(samples, 1000), seed=seed, rows=train_mask)
        secs = time.perf_counter() - t0
        post = idata.posterior
        countries = [str(c) for c in post["country"].values]
        periods = [int(p) for p in post["period"].values]
        centering = json.loads(post.attrs["gravity_centering"])
        test = rows.loc[test_mask]
        test = test[test["origin"].isin(countries) & test["destination"].isin(countries)]
        d_test = design(test, countries, periods, centering)
        rng = np.random.default_rng(seed + 7)
        dr = gravity_draws(idata, samples, seed)
        lm = log_mu_draws(dr, d_test, period_sd=period_step_sd(idata) if name == "time" else 0.0, rng=rng)
        train = rows.loc[train_mask]
        # the baseline: a plain NB2 GLM (constant shape), the usual over-dispersed gravity regression
        glm = nb_glm(design(train, countries, periods, centering_of(train)), with_effects=False,
                     power_dispersion=False)
        glm_mu = _glm_predict(glm, design(test, countries, periods, centering_of(train)))
        y = test["flow"].to_numpy(float)
        shape = row_shape(dr, lm)
        sc = score_gravity(y, lm, shape, glm_mu, glm["alpha"], seed)
        fitinfo = json.loads(post.attrs["gravity_fit"])
        sc.update({"n_train": int(train_mask.sum()), "fit_seconds": round(secs, 1),
                   "fit_converged": fitinfo["converged"], "nb_glm_converged": glm["converged"],
                   "beats_nb_glm": bool(sc["log_score"] > sc["log_score_nb_glm"])})
        if name == "time":
            sc["train_periods"] = [f"{p}-{p + 5}" for p in periods]
            sc["test_period"] = f"{last}-{last + 5}"
        scores[name] = sc
        mu = np.exp(np.clip(lm, -30, 30))
        counts = rng.poisson(rng.gamma(shape, mu / shape))
        q = np.quantile(counts, [0.05, 0.5, 0.95], axis=0)
        preds.append(test[["period", "origin", "destination"]].assign(
            check=name, observed=y, q05=q[0], q50=q[1], q95=q[2], nb_glm=glm_mu))
    return scores, pd.concat(preds, ignore_index=True)

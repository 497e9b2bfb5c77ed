"""All-country cross-border gravity model: a negative-binomial GLMM fitted by a Laplace approximation.

For an ordered pair :math:`(o, d)` in the 5-year period :math:`t`,

.. math::

    y_{odt} \\sim \\mathrm{NegBin}(\\mu_{odt}, \\alpha), \\quad
    \\log\\mu_{odt} = \\tau_t + u_o + v_d + x_{odt}^\\top\\beta, \\quad
    u_o \\sim N(0, \\sigma_u^2),\\; v_d \\sim N(0, \\sigma_v^2),\\; \\beta_k \\sim N(m_k, s_k^2)

with period effects :math:`\\tau_t`, origin and destination effects :math:`u, v` and the covariates of
:data:`COVARIATES` (centred on the fitted panel's means): log populations and log GDP per capita of both
countries (with the square of origin income: the "migration hump"), log distance, contiguity, the log1p
bilateral stock at the start of the period (network term), the border regime, and the origin's climate
stress (flood displacement rate, standardised) alone and times origin income. Neither stress coefficient
is sign-constrained: a negative net effect (people trapped by poverty, Cattaneo & Peri 2016) is possible.

**Why not NUTS.** The panel has ~200,000 pair-periods (zeros included) and ~440 country effects. One
gradient of the negative-binomial log density over the panel costs ~10 ms on this machine, and NUTS needs
~10^5 gradients for 4 chains x 1000 draws: about 20 minutes, against the ~1 minute allowed. With ~1,000
observations per country effect and ~10^5 per coefficient, the posterior is very close to Gaussian, so a
Laplace approximation is accurate: the mode is found by penalised iteratively reweighted least squares
(Fisher scoring with the Gaussian priors as ridge penalties), :math:`\\alpha` by maximising the profile
likelihood, and :math:`\\sigma_u, \\sigma_v` by the Laplace (EM) update
:math:`\\sigma^2 = (\\lVert u\\rVert^2 + \\mathrm{tr}\\,\\Sigma_{uu})/C`. Posterior draws are then taken from
:math:`N(\\hat\\theta, (X^\\top W X + P)^{-1})` and :math:`\\log\\alpha \\sim N(\\log\\hat\\alpha,
I_{\\log\\alpha}^{-1})`. The hyperparameters :math:`\\sigma_u, \\sigma_v` are plugged in (empirical Bayes),
not integrated: with ~200 countries their uncertainty is small but not zero, so the country-effect
intervals are slightly too narrow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, sparse, special

from climmig.errors import DataError
from climmig.mobility.priors import GRAVITY_PERIOD_PRIOR_SD, GRAVITY_PRIOR_SOURCES, GRAVITY_PRIORS

__all__ = ["COVARIATES", "GRAVITY_MODEL_NAME", "GravityDesign", "design", "fit_gravity", "fit_panel",
           "gravity_draws", "log_mu_draws", "row_shape", "max_emigration_rate", "nb_glm", "nb_logpmf", "panel_design",
           "period_step_sd"]

logger = logging.getLogger(__name__)

GRAVITY_MODEL_NAME = "migration_gravity_negbin_laplace"

#: covariates of the model (columns of the design after centring), in order
COVARIATES: tuple[str, ...] = (
    "log_pop_origin", "log_pop_destination", "log_gdp_origin", "log_gdp_origin_sq", "log_gdp_destination",
    "log_distance", "contiguous", "log_stock", "climate_stress", "climate_stress_x_income",
    "regime_bilateral", "regime_regional", "regime_multilateral",
)
_CENTRED = ("log_pop_origin", "log_pop_destination", "log_gdp_origin", "log_gdp_destination", "log_distance",
            "log_stock")


@dataclass(frozen=True)
class GravityDesign:
    """Design of the panel: dense covariates, country indices, periods and the centring constants.

    Attributes
    ----------
    x : numpy.ndarray
        (rows, len(COVARIATES)) centred covariates.
    origin_idx, destination_idx, period_idx : numpy.ndarray
        Integer codes per row.
    countries : tuple of str
        Country coordinate of both effects.
    periods : tuple of int
        Period coordinate.
    centering : dict of str to float
        Means subtracted (and ``stress_mean``/``stress_sd``, ``log_gdp_mean`` for the squares).
    y : numpy.ndarray or None
        Observed flows.
    """

    x: np.ndarray
    origin_idx: np.ndarray
    destination_idx: np.ndarray
    period_idx: np.ndarray
    countries: tuple[str, ...]
    periods: tuple[int, ...]
    centering: dict[str, float]
    y: np.ndarray | None = None

    def subset(self, mask: np.ndarray) -> GravityDesign:
        """The rows selected by ``mask`` (coordinates and centring unchanged)."""
        m = np.asarray(mask)
        return GravityDesign(self.x[m], self.origin_idx[m], self.destination_idx[m], self.period_idx[m],
                             self.countries, self.periods, self.centering,
                             None if self.y is None else self.y[m])


def centering_of(rows: pd.DataFrame) -> dict[str, float]:
    """Centring constants of a panel (means of the log covariates; mean and sd of the stress index)."""
    c = {k: float(rows[k].mean()) for k in _CENTRED}
    st = rows.drop_duplicates(["period", "origin"])["flood_stress"]
    c["stress_mean"], c["stress_sd"] = float(st.mean()), float(st.std()) or 1.0
    return c


def design(rows: pd.DataFrame, countries: Sequence[str], periods: Sequence[int],
           centering: Mapping[str, float]) -> GravityDesign:
    """The model's design for panel rows (:class:`climmig.migration.flows_panel.FlowPanel` ``rows``).

    Parameters
    ----------
    rows : pandas.DataFrame
        Panel rows (``flow`` optional).
    countries : sequence of str
        Country coordinate (every origin and destination of ``rows`` must be in it).
    periods : sequence of int
        Period coordinate (rows of other periods get code -1: used for time hold-outs).
    centering : mapping of str to float
        From :func:`centering_of` on the fitted rows.

    Returns
    -------
    GravityDesign
    """
    cols = {}
    for k in _CENTRED:
        cols[k] = rows[k].to_numpy(float) - centering[k]
    cols["log_gdp_origin_sq"] = cols["log_gdp_origin"] ** 2
    z = (rows["flood_stress"].to_numpy(float) - centering["stress_mean"]) / centering["stress_sd"]
    cols["climate_stress"] = z
    cols["climate_stress_x_income"] = z * cols["log_gdp_origin"]
    cols["contiguous"] = rows["contiguous"].to_numpy(float)
    for r in ("bilateral", "regional", "multilateral"):
        cols[f"regime_{r}"] = (rows["regime"].to_numpy() == r).astype(float)
    x = np.column_stack([cols[k] for k in COVARIATES])
    idx = {c: i for i, c in enumerate(countries)}
    o = rows["origin"].map(idx)
    d = rows["destination"].map(idx)
    if o.isna().any() or d.isna().any():
        missing = sorted(set(rows["origin"][o.isna()]) | set(rows["destination"][d.isna()]))
        raise DataError(f"no country effect for {', '.join(missing[:10])}")
    pidx = rows["period"].map({int(p): i for i, p in enumerate(periods)}).fillna(-1).to_numpy(int)
    y = rows["flow"].to_numpy(float) if "flow" in rows else None
    return GravityDesign(x, o.to_numpy(int), d.to_numpy(int), pidx, tuple(countries),
                         tuple(int(p) for p in periods), dict(centering), y)


def nb_logpmf(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """Negative-binomial log pmf, mean ``mu``, shape ``alpha`` (variance ``mu + mu**2/alpha``)."""
    mu = np.maximum(mu, 1e-300)
    # the three log-gamma terms cancel exactly where y = 0 (about half of all flows), so they are evaluated
    # only where y > 0: the same values, in half the time of the optimiser's most frequent call
    shape = np.broadcast_shapes(np.shape(y), np.shape(mu), np.shape(alpha))
    y_b, a_b = np.broadcast_to(y, shape), np.broadcast_to(alpha, shape)
    pos = y_b > 0
    y_p, a_p = y_b[pos], a_b[pos]
    counts = np.zeros(shape)
    counts[pos] = special.gammaln(y_p + a_p) - special.gammaln(a_p) - special.gammaln(y_p + 1)
    return counts + alpha * np.log(alpha / (alpha + mu)) + y * np.log(mu / (alpha + mu))


def _shape(log_a0: float, power: float, eta: np.ndarray) -> np.ndarray:
    """Per-row NB shape :math:`\\alpha_0 \\mu^k` (variance :math:`\\mu + \\mu^{2-k}/\\alpha_0`)."""
    return np.exp(log_a0 + power * np.clip(eta, -30, 30))


class _DispersionProfile:
    """The NB log likelihood as a function of the shape parameters (log alpha0, k) at a fixed linear predictor.

    Everything that does not depend on the shape is computed once (the means, the log-gamma of the counts,
    which rows are positive), and ``log(a / (a + mu))`` is taken on the log scale, so that one evaluation with
    its gradient costs about what one :func:`nb_logpmf` call did without it.
    """

    def __init__(self, y: np.ndarray, eta: np.ndarray) -> None:
        self.e = np.clip(eta, -30, 30)
        self.mu = np.exp(self.e)
        self.y = y
        self.pos = y > 0
        self.y_pos = y[self.pos]
        self.lgamma_y1 = float(special.gammaln(self.y_pos + 1).sum())

    def loglik(self, p: np.ndarray, grad: bool = False) -> float | tuple[float, np.ndarray]:
        """Log likelihood at ``p = (log alpha0, k)`` and, if ``grad``, its gradient."""
        log_a = p[0] + p[1] * self.e
        a = np.exp(log_a)
        log_am = np.logaddexp(log_a, self.e)  # log(a + mu)
        a_pos = a[self.pos]
        ll = (float((special.gammaln(self.y_pos + a_pos) - special.gammaln(a_pos)).sum()) - self.lgamma_y1
              + float((a * (log_a - log_am) + self.y * (self.e - log_am)).sum()))
        if not grad:
            return ll
        # d loglik / d log a per row: a (digamma(y + a) - digamma(a) + log(a / (a + mu)) + (mu - y) / (a + mu))
        s = log_a - log_am + (self.mu - self.y) * np.exp(-log_am)
        s[self.pos] += special.digamma(self.y_pos + a_pos) - special.digamma(a_pos)
        d = a * s
        return ll, np.array([float(d.sum()), float((d * self.e).sum())])


def _profile_dispersion(y: np.ndarray, eta: np.ndarray, start: tuple[float, float],
                        power: bool) -> tuple[np.ndarray, np.ndarray]:
    """ML (log alpha0, k) given the linear predictor, and their observed information (2 x 2)."""
    prof = _DispersionProfile(y, eta)
    x0 = np.array(start if power else (start[0], 0.0))
    h = 1e-3
    if power:
        def nll_grad(p: np.ndarray) -> tuple[float, np.ndarray]:
            ll, g = prof.loglik(p, grad=True)
            return -ll, -g

        res = optimize.minimize(nll_grad, x0, jac=True, method="L-BFGS-B", bounds=[(-10, 10), (-0.5, 1.5)])
        p = res.x
        # observed information: central differences of the analytic gradient
        cols = [(nll_grad(p + h * e)[1] - nll_grad(p - h * e)[1]) / (2 * h) for e in np.eye(2)]
        hess = np.column_stack(cols)
        return p, 0.5 * (hess + hess.T)
    r1 = optimize.minimize_scalar(lambda la: -prof.loglik(np.array([la, 0.0])),
                                  bracket=(x0[0] - 0.5, x0[0] + 0.5))
    p = np.array([float(r1.x), 0.0])
    g = [prof.loglik(p + h * e, grad=True)[1][0] for e in (np.eye(2)[0], -np.eye(2)[0])]
    return p, np.array([[-(g[0] - g[1]) / (2 * h), 0.0], [0.0, 1e12]])


class _Operator:
    """The design matrix [period one-hot | covariates | origin one-hot | destination one-hot], implicitly.

    Products with the one-hot blocks are sums over each country's rows (bincounts and a sparse one-hot
    product), so :math:`X^\\top W X` costs a few dense (rows x 18) products instead of a product with ~450
    columns.
    """

    def __init__(self, d: GravityDesign, with_effects: bool) -> None:
        self.t = len(d.periods)
        self.dense = np.column_stack([np.eye(self.t)[d.period_idx], d.x])
        self.c = len(d.countries) if with_effects else 0
        self.o, self.d = d.origin_idx, d.destination_idx
        self.m = self.dense.shape[1]
        # (country x row) one-hot matrices: their product with the weighted dense block sums each country's
        # rows in row order, as a bincount per column does, in a tenth of the time
        if self.c:
            rows, ones = np.arange(len(self.o)), np.ones(len(self.o))
            self._origin_sum = sparse.csr_matrix((ones, (self.o, rows)), shape=(self.c, rows.size))
            self._destination_sum = sparse.csr_matrix((ones, (self.d, rows)), shape=(self.c, rows.size))

    def eta(self, theta: np.ndarray) -> np.ndarray:
        out = self.dense @ theta[:self.m]
        if self.c:
            out = out + theta[self.m:self.m + self.c][self.o] + theta[self.m + self.c:][self.d]
        return out

    def xt(self, r: np.ndarray) -> np.ndarray:
        out = [self.dense.T @ r]
        if self.c:
            out += [np.bincount(self.o, r, self.c), np.bincount(self.d, r, self.c)]
        return np.concatenate(out)

    def xtwx(self, w: np.ndarray) -> np.ndarray:
        m, c = self.m, self.c
        dw = self.dense * w[:, None]
        a = dw.T @ self.dense
        if not c:
            return a
        bo, bd = self._origin_sum @ dw, self._destination_sum @ dw
        od = np.bincount(self.o * c + self.d, w, c * c).reshape(c, c)
        out = np.empty((m + 2 * c, m + 2 * c))
        out[:m, :m] = a
        out[m:m + c, :m], out[:m, m:m + c] = bo, bo.T
        out[m + c:, :m], out[:m, m + c:] = bd, bd.T
        out[m:m + c, m:m + c] = np.diag(np.bincount(self.o, w, c))
        out[m + c:, m + c:] = np.diag(np.bincount(self.d, w, c))
        out[m:m + c, m + c:], out[m + c:, m:m + c] = od, od.T
        return out


def _log_post(op: _Operator, y: np.ndarray, theta: np.ndarray, disp: np.ndarray, prec: np.ndarray,
              mean: np.ndarray) -> float:
    eta = op.eta(theta)
    mu = np.exp(np.clip(eta, -30, 30))
    return float(nb_logpmf(y, mu, _shape(disp[0], disp[1], eta)).sum() - 0.5 * np.sum(prec * (theta - mean) ** 2))


def _score_eta(y: np.ndarray, eta: np.ndarray, disp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d loglik / d eta per row (the shape depends on eta through mu^k) and the Fisher weight of the mean."""
    mu = np.exp(np.clip(eta, -30, 30))
    a = _shape(disp[0], disp[1], eta)
    g = (y - mu) / (1.0 + mu / a)
    if disp[1]:
        am = a + mu
        pos = y > 0  # digamma(y + a) - digamma(a) is exactly 0 where y = 0
        dig = np.zeros_like(a)
        dig[pos] = special.digamma(y[pos] + a[pos]) - special.digamma(a[pos])
        g = g + disp[1] * a * (dig + np.log(a / am) + (mu - y) / am)
    return g, mu / (1.0 + mu / a)


def _newton(op: _Operator, y: np.ndarray, theta: np.ndarray, disp: np.ndarray, prec: np.ndarray,
            mean: np.ndarray, steps: int, tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Penalised Fisher-scoring steps (exact gradient, Fisher information of the mean) with step halving."""
    f = _log_post(op, y, theta, disp, prec, mean)
    info = np.eye(theta.size)
    for _ in range(steps):
        g, w = _score_eta(y, op.eta(theta), disp)
        grad = op.xt(g) - prec * (theta - mean)
        info = op.xtwx(w) + np.diag(prec)
        step = np.linalg.solve(info, grad)
        lam = 1.0
        while True:
            cand = theta + lam * step
            fc = _log_post(op, y, cand, disp, prec, mean)
            if (np.isfinite(fc) and fc >= f - 1e-12 * abs(f)) or lam < 1e-6:
                break
            lam /= 2
        if not (np.isfinite(fc) and fc >= f - 1e-12 * abs(f)):
            break
        theta, f = cand, fc
        if np.max(np.abs(lam * step)) < tol:
            break
    return theta, info


def nb_glm(d: GravityDesign, *, with_effects: bool = True, sigma: tuple[float, float] = (1.0, 1.0),
           estimate_sigma: bool = True, max_iter: int = 100, tol: float = 1e-4,
           power_dispersion: bool = True) -> dict[str, Any]:
    """Mode and Laplace covariance of the negative-binomial gravity model (with or without country effects).

    Parameters
    ----------
    d : GravityDesign
        With ``y``.
    with_effects : bool
        Include origin and destination effects (False: the plain NB GLM baseline, only the weak coefficient
        priors of :data:`climmig.mobility.priors.GRAVITY_PRIORS`, i.e. essentially the maximum-likelihood NB2 regression).
    sigma : tuple of float
        Starting values of :math:`\\sigma_u, \\sigma_v`.
    estimate_sigma : bool
        Update the sigmas by the Laplace-EM step (else hold them at ``sigma``).
    max_iter : int
        Outer iterations (Fisher steps, one alpha update, one sigma update each).
    tol : float
        Convergence tolerance on the largest change of theta, log alpha and log sigma.
    power_dispersion : bool
        Shape :math:`\\alpha_0\\mu^k` with :math:`k` estimated (variance :math:`\\mu + \\mu^{2-k}/\\alpha_0`);
        False: constant shape (NB2, :math:`k = 0`). With a constant shape fitted to flows from 0 to 3
        million, large pairs get almost no weight in the mean (Fisher weight :math:`\\approx\\alpha`) and
        their expected flows overshoot by orders of magnitude.

    Returns
    -------
    dict
        ``theta`` (periods, covariates[, origin effects, destination effects]), ``cov`` (its Laplace
        covariance), ``alpha`` (:math:`\\alpha_0`), ``alpha_power`` (:math:`k`), ``dispersion_cov`` (2 x 2
        covariance of log alpha0 and k), ``log_alpha_sd``, ``sigma_origin``, ``sigma_destination``, ``iterations``,
        ``converged``, ``grad_norm`` (Newton decrement of the penalised log posterior at the mode),
        ``min_eigenvalue`` (of the penalised information), ``loglik``, ``n_rows``.
    """
    if d.y is None:
        raise DataError("the design has no observed flows")
    from threadpoolctl import threadpool_limits

    # one BLAS thread: the Newton solves (438 unknowns) gain nothing from more, a multi-threaded solve ran
    # ~40 x slower while the displacement fit used the other cores, and the mode then no longer depends on
    # how many cores the machine has (the iterations stop at a tolerance, so rounding differences between
    # thread counts moved it by up to ~3e-4)
    with threadpool_limits(limits=1, user_api="blas"):
        return _nb_glm(d, with_effects, sigma, estimate_sigma, max_iter, tol, power_dispersion)


def _nb_glm(d: GravityDesign, with_effects: bool, sigma: tuple[float, float], estimate_sigma: bool, max_iter: int,
            tol: float, power_dispersion: bool) -> dict[str, Any]:
    op = _Operator(d, with_effects)
    t, k, c = len(d.periods), len(COVARIATES), op.c
    y = d.y
    mean = np.concatenate([np.zeros(t), [GRAVITY_PRIORS[n][0] for n in COVARIATES], np.zeros(2 * c)])
    prec = np.concatenate([np.full(t, GRAVITY_PERIOD_PRIOR_SD**-2), [GRAVITY_PRIORS[n][1] ** -2 for n in COVARIATES],
                           np.full(c, sigma[0] ** -2), np.full(c, sigma[1] ** -2)])
    theta = mean.copy()
    theta[:t] = np.log(max(y.mean(), 1e-3))
    disp = np.array([0.0, 0.0])
    s_u, s_v = sigma[0], sigma[1]
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        new, info = _newton(op, y, theta, disp, prec, mean, steps=10, tol=tol)
        new_disp, _ = _profile_dispersion(y, op.eta(new), (disp[0], disp[1]), power_dispersion)
        change = max(float(np.max(np.abs(new - theta))), float(np.max(np.abs(new_disp - disp))))
        theta, disp = new, new_disp
        if c and estimate_sigma:
            cov_eff = np.linalg.inv(info)
            u, v = theta[t + k:t + k + c], theta[t + k + c:]
            # MacKay's fixed point for the Laplace marginal likelihood (much faster than EM):
            # sigma^2 = |u|^2 / (C - tr(Sigma_uu) / sigma^2), the effective number of effects in the denominator
            g_u = c - np.trace(cov_eff[t + k:t + k + c, t + k:t + k + c]) / s_u**2
            g_v = c - np.trace(cov_eff[t + k + c:, t + k + c:]) / s_v**2
            s_u_new, s_v_new = np.sqrt(u @ u / max(g_u, 1.0)), np.sqrt(v @ v / max(g_v, 1.0))
            change = max(change, abs(np.log(s_u_new / s_u)), abs(np.log(s_v_new / s_v)))
            s_u, s_v = s_u_new, s_v_new
            prec[t + k:t + k + c], prec[t + k + c:] = s_u**-2, s_v**-2
        logger.debug("gravity fit iteration %d: change %.2e, dispersion %s", it, change, disp)
        if change < tol:
            converged = True
            break
    theta, info = _newton(op, y, theta, disp, prec, mean, steps=20)
    eta = op.eta(theta)
    mu = np.exp(np.clip(eta, -30, 30))
    disp, d_info = _profile_dispersion(y, eta, (disp[0], disp[1]), power_dispersion)
    theta, info = _newton(op, y, theta, disp, prec, mean, steps=5)
    eta = op.eta(theta)
    mu = np.exp(np.clip(eta, -30, 30))
    alpha = _shape(disp[0], disp[1], eta)
    g, w = _score_eta(y, eta, disp)
    grad = op.xt(g) - prec * (theta - mean)
    info = op.xtwx(w) + np.diag(prec)
    d_cov = np.linalg.inv(d_info)
    cov = np.linalg.inv(info)
    decrement = float(np.sqrt(max(grad @ cov @ grad, 0.0)))  # ~0 at the mode
    eig_min = float(np.linalg.eigvalsh(info).min())
    return {"theta": theta, "cov": cov, "alpha": float(np.exp(disp[0])), "alpha_power": float(disp[1]),
            "dispersion_cov": d_cov.tolist(), "log_alpha_sd": float(np.sqrt(d_cov[0, 0])),
            "sigma_origin": float(s_u), "sigma_destination": float(s_v), "iterations": it,
            # a Newton decrement of 0.05 puts the log posterior within ~0.001 of its maximum
            "converged": bool(converged and decrement < 5e-2 and eig_min > 0), "grad_norm": decrement,
            "min_eigenvalue": eig_min, "loglik": float(nb_logpmf(y, mu, alpha).sum()),
            "with_effects": with_effects, "n_rows": int(y.size)}


def fit_gravity(d: GravityDesign, *, draws: int = 2000, seed: int = 0, attrs: Mapping[str, str] | None = None,
                **kwargs: Any) -> Any:
    """Fit the model and return Laplace posterior draws as ArviZ ``InferenceData``.

    Parameters
    ----------
    d : GravityDesign
        Fitted panel.
    draws : int
        Posterior draws (one chain).
    seed : int
        Seed of the draws.
    attrs : mapping of str to str, optional
        Extra posterior attrs (provenance).
    **kwargs
        Passed to :func:`nb_glm`.

    Returns
    -------
    az.InferenceData
        ``posterior``: ``grav_beta`` (coef), ``grav_period_effect`` (period), ``grav_origin_effect`` and
        ``grav_destination_effect`` (country), ``grav_alpha`` and ``grav_alpha_power`` (the shape of a row
        is ``grav_alpha * mu**grav_alpha_power``), ``grav_sigma_origin``,
        ``grav_sigma_destination``; attrs ``model_name``, ``gravity_centering`` (JSON), ``gravity_fit``
        (JSON: convergence, log likelihood, iterations), ``fit_method``.
    """
    import arviz as az

    res = nb_glm(d, **kwargs)
    rng = np.random.default_rng(seed)
    t, k, c = len(d.periods), len(COVARIATES), len(d.countries)
    chol = np.linalg.cholesky(res["cov"] + 1e-12 * np.eye(len(res["theta"])))
    z = res["theta"][None, :] + rng.standard_normal((draws, len(res["theta"]))) @ chol.T
    dcov = np.asarray(res["dispersion_cov"])
    if not res["alpha_power"] and dcov[1, 1] > 1e6:  # constant shape: k fixed at 0
        dcov = np.array([[dcov[0, 0], 0.0], [0.0, 0.0]])
    dz = np.array([np.log(res["alpha"]), res["alpha_power"]]) + rng.multivariate_normal(np.zeros(2), dcov, draws)
    log_alpha, power = dz[:, 0], dz[:, 1]
    post = {
        "grav_period_effect": (("chain", "draw", "period"), z[None, :, :t]),
        "grav_beta": (("chain", "draw", "coef"), z[None, :, t:t + k]),
        "grav_origin_effect": (("chain", "draw", "country"), z[None, :, t + k:t + k + c]),
        "grav_destination_effect": (("chain", "draw", "country"), z[None, :, t + k + c:]),
        "grav_alpha": (("chain", "draw"), np.exp(log_alpha)[None]),
        "grav_alpha_power": (("chain", "draw"), power[None]),
        "grav_sigma_origin": (("chain", "draw"), np.full((1, draws), res["sigma_origin"])),
        "grav_sigma_destination": (("chain", "draw"), np.full((1, draws), res["sigma_destination"])),
    }
    summary = {k2: v for k2, v in res.items() if k2 not in ("theta", "cov", "dispersion_cov")}
    ds = xr.Dataset(post, coords={"chain": [0], "draw": np.arange(draws), "period": list(d.periods),
                                  "coef": list(COVARIATES), "country": list(d.countries)})
    ds.attrs = {"model_name": GRAVITY_MODEL_NAME, "gravity_centering": json.dumps(d.centering, sort_keys=True),
                "gravity_fit": json.dumps(summary, sort_keys=True),
                "fit_method": "Laplace approximation at the penalised-IRLS mode (empirical-Bayes sigmas); "
                              "draws from the Gaussian approximation",
                "gravity_priors": json.dumps(GRAVITY_PRIORS, sort_keys=True), "gravity_prior_sources": GRAVITY_PRIOR_SOURCES,
                "migration_period_years": "5.0", **dict(attrs or {})}
    return az.InferenceData(posterior=ds)


def gravity_draws(idata: Any, samples: int, seed: int) -> dict[str, np.ndarray]:
    """A seeded selection of ``samples`` posterior draws as numpy arrays (first axis = sample)."""
    post = idata.posterior.stack(sample=("chain", "draw"))
    n = post.sizes["sample"]
    pick = np.random.default_rng(seed).choice(n, size=samples, replace=samples > n)
    return {k: np.moveaxis(post[k].values, -1, 0)[pick] for k in post.data_vars}


def log_mu_draws(draws: Mapping[str, np.ndarray], d: GravityDesign, *, period_sd: float = 0.0,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """Log expected flows over the period (samples, rows) for the rows of ``d``.

    Rows whose period is not in the fit (code -1) take the last fitted period's effect plus
    :math:`N(0, \\text{period\\_sd}^2)` per draw (the time hold-out and projections).

    Parameters
    ----------
    draws : mapping of str to numpy.ndarray
        From :func:`gravity_draws`.
    d : GravityDesign
        Rows (built with the fit's countries, periods and centring).
    period_sd : float
        SD of the next period's effect around the last one.
    rng : numpy.random.Generator, optional
        For the new period's effect.

    Returns
    -------
    numpy.ndarray
    """
    tau = draws["grav_period_effect"]
    s = tau.shape[0]
    new = tau[:, -1]
    if period_sd > 0:
        new = new + (rng or np.random.default_rng(0)).normal(0.0, period_sd, s)
    tau_ext = np.concatenate([tau, new[:, None]], axis=1)
    pidx = np.where(d.period_idx < 0, tau.shape[1], d.period_idx)
    return (tau_ext[:, pidx] + draws["grav_beta"] @ d.x.T
            + draws["grav_origin_effect"][:, d.origin_idx] + draws["grav_destination_effect"][:, d.destination_idx])


def row_shape(draws: Mapping[str, np.ndarray], log_mu: np.ndarray) -> np.ndarray:
    """Per-draw, per-row NB shape :math:`\\alpha_0\\mu^k` for log means ``log_mu`` (samples, ...)."""
    extra = (1,) * (log_mu.ndim - 1)
    a0 = draws["grav_alpha"].reshape(-1, *extra)
    k = draws.get("grav_alpha_power", np.zeros_like(draws["grav_alpha"])).reshape(-1, *extra)
    return a0 * np.exp(k * np.clip(log_mu, -30, 30))


def period_step_sd(idata: Any) -> float:
    """SD of the change of the period effect between successive fitted periods (posterior means).

    Used as the uncertainty of the next period's effect; with fewer than 3 periods, 0.5 (a factor ~1.6).
    """
    tau = idata.posterior["grav_period_effect"].mean(("chain", "draw")).values
    steps = np.diff(tau)
    return float(np.sqrt(np.mean(steps**2))) if steps.size >= 2 else 0.5


def max_emigration_rate(rows: pd.DataFrame) -> tuple[float, str]:
    """Highest annual emigration rate (all destinations) of any origin and period of the panel.

    Returns
    -------
    rate : float, [yr-1]
    where : str
        ``ISO3 period``.
    """
    g = rows.groupby(["origin", "period"]).agg(flow=("flow", "sum"), lp=("log_pop_origin", "first"))
    r = g["flow"] / np.exp(g["lp"]) / 5.0
    k = r.idxmax()
    return float(r.max()), f"{k[0]} {k[1]}-{k[1] + 5}"


def panel_design(panel: Any, rows: np.ndarray | None = None) -> tuple[GravityDesign, dict[str, str]]:
    """The design of a :class:`climmig.migration.flows_panel.FlowPanel` (or some of its rows) and its attrs.

    Parameters
    ----------
    panel : FlowPanel
        All rows.
    rows : numpy.ndarray of bool, optional
        Rows fitted (default all); centring and coordinates come from the fitted rows.

    Returns
    -------
    (GravityDesign, dict of str to str)
        The design and the provenance attrs ``gravity_measure``, ``gravity_dropped`` (JSON),
        ``gravity_max_emigration_rate``, ``gravity_max_emigration_where`` and ``gravity_rows``.
    """
    r = panel.rows if rows is None else panel.rows.loc[np.asarray(rows)]
    countries = sorted(set(r["origin"]) | set(r["destination"]))
    periods = sorted(int(p) for p in r["period"].unique())
    rate, where = max_emigration_rate(r)
    extra = {"gravity_measure": panel.measure, "gravity_dropped": json.dumps(panel.dropped, sort_keys=True),
             "gravity_max_emigration_rate": f"{rate:.6g}", "gravity_max_emigration_where": where,
             "gravity_rows": str(len(r))}
    return design(r, countries, periods, centering_of(r)), extra


def fit_panel(panel: Any, *, draws: int = 2000, seed: int = 0, attrs: Mapping[str, str] | None = None,
              rows: np.ndarray | None = None) -> Any:
    """:func:`fit_gravity` on the :func:`panel_design` of ``panel`` (``rows``: the rows fitted, default all).

    Returns
    -------
    az.InferenceData
        With the attrs of :func:`panel_design` and ``attrs``.
    """
    d, extra = panel_design(panel, rows)
    return fit_gravity(d, draws=draws, seed=seed, attrs={**extra, **dict(attrs or {})})


def is_gravity_fit(idata: Any) -> bool:
    """Whether a migration fit is the all-country Laplace gravity model."""
    return str(idata.posterior.attrs.get("model_name", "")) == GRAVITY_MODEL_NAME

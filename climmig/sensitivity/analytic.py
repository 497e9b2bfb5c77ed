"""Analytic test functions with known sensitivity indices, run through the same code path as real models.

The Ishigami function (Ishigami & Homma 1990) is the standard benchmark of Sobol' estimators (SALib uses
it in its own tests): :math:`f(x) = \\sin x_1 + a \\sin^2 x_2 + b x_3^4 \\sin x_1`, with
:math:`x_i \\sim U(-\\pi, \\pi)`. Its first-order and total indices are known in closed form.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from climmig.sensitivity.problem import SensitivityProblem, parse_problem

__all__ = ["ishigami", "ishigami_evaluator", "ishigami_indices", "ishigami_problem"]


def ishigami(x1: float | np.ndarray, x2: float | np.ndarray, x3: float | np.ndarray, a: float = 7.0,
             b: float = 0.1) -> float | np.ndarray:
    """The Ishigami function.

    Parameters
    ----------
    x1, x2, x3 : float or np.ndarray
        Inputs, usually uniform on :math:`[-\\pi, \\pi]`.
    a, b : float
        Shape constants (7 and 0.1 in the usual benchmark).

    Returns
    -------
    float or np.ndarray
        :math:`\\sin x_1 + a \\sin^2 x_2 + b x_3^4 \\sin x_1`.
    """
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> xr.Dataset:
    """Analytic first-order and total Sobol' indices of the Ishigami function.

    Parameters
    ----------
    a, b : float
        Shape constants.

    Returns
    -------
    xr.Dataset
        ``S1`` and ``ST`` ([1]) along ``parameter`` (``x1``, ``x2``, ``x3``).

    Notes
    -----
    .. math::
        V = \\frac{a^2}{8} + \\frac{b\\pi^4}{5} + \\frac{b^2\\pi^8}{18} + \\frac12,\\quad
        V_1 = \\frac12\\left(1 + \\frac{b\\pi^4}{5}\\right)^2,\\quad V_2 = \\frac{a^2}{8},\\quad V_3 = 0,\\quad
        V_{13} = \\frac{8 b^2 \\pi^8}{225}
    """
    pi4, pi8 = math.pi**4, math.pi**8
    v = a**2 / 8 + b * pi4 / 5 + b**2 * pi8 / 18 + 0.5
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi8 / 225
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    coords = {"parameter": ["x1", "x2", "x3"]}
    return xr.Dataset(
        {"S1": ("parameter", s1, {"long_name": "first-order Sobol' index", "units": "1"}),
         "ST": ("parameter", st, {"long_name": "total-order Sobol' index", "units": "1"})},
        coords=coords,
    )


def ishigami_problem(n: int = 1024, seed: int = 20261122, method: str = "sobol") -> SensitivityProblem:
    """The Ishigami benchmark as a sensitivity problem (``x1``..``x3`` uniform on :math:`[-\\pi, \\pi]`).

    Parameters
    ----------
    n : int
        Base samples (Sobol, a power of two) or trajectories (Morris).
    seed : int
        Sampling seed.
    method : {"sobol", "morris"}
        Analysis method.

    Returns
    -------
    SensitivityProblem
        With the single output ``y``.
    """
    return parse_problem({
        "method": method,
        "n": n,
        "seed": seed,
        "parameters": [{"path": f"x{i}", "bounds": [-math.pi, math.pi]} for i in (1, 2, 3)],
        "outputs": ["y"],
    })


def ishigami_evaluator(a: float = 7.0, b: float = 0.1):
    """An evaluator (for :func:`~climmig.sensitivity.run.run_sensitivity`) computing the Ishigami function.

    Parameters
    ----------
    a, b : float
        Shape constants.

    Returns
    -------
    callable
        ``evaluate({"x1": .., "x2": .., "x3": ..}) -> {"y": float}``.
    """

    def evaluate(values: dict[str, float]) -> dict[str, float]:
        return {"y": float(ishigami(values["x1"], values["x2"], values["x3"], a, b))}

    return evaluate

"""Global sensitivity analysis (SALib Sobol' indices and Morris screening) over run-config parameters.

:mod:`~climmig.sensitivity.problem` describes what varies, :mod:`~climmig.sensitivity.paths` sets config
values by dotted path, :mod:`~climmig.sensitivity.run` samples, evaluates in parallel and analyses,
:mod:`~climmig.sensitivity.evaluator` evaluates samples on a finished run (reusing its
exposure layers and fitted posteriors), :mod:`~climmig.sensitivity.figure` draws the indices and :mod:`~climmig.sensitivity.analytic` holds the
Ishigami benchmark.
"""

from climmig.sensitivity.analytic import ishigami, ishigami_evaluator, ishigami_indices, ishigami_problem
from climmig.sensitivity.evaluator import RunEvaluator, run_evaluator, run_outputs
from climmig.sensitivity.figure import plot_sensitivity
from climmig.sensitivity.paths import (
    apply_parameters,
    config_evaluator,
    current_values,
    get_value,
    numeric_paths,
    validate_problem,
)
from climmig.sensitivity.problem import (
    ParameterDist,
    ParameterSpec,
    SensitivityError,
    SensitivityProblem,
    load_problem,
    parse_problem,
    problem_hash,
    to_salib,
)
from climmig.sensitivity.run import analyse, evaluate_samples, run_sensitivity, sample

__all__ = [
    "ParameterDist",
    "ParameterSpec",
    "RunEvaluator",
    "SensitivityError",
    "SensitivityProblem",
    "analyse",
    "apply_parameters",
    "config_evaluator",
    "current_values",
    "evaluate_samples",
    "get_value",
    "ishigami",
    "ishigami_evaluator",
    "ishigami_indices",
    "ishigami_problem",
    "load_problem",
    "numeric_paths",
    "parse_problem",
    "plot_sensitivity",
    "problem_hash",
    "run_evaluator",
    "run_outputs",
    "run_sensitivity",
    "sample",
    "to_salib",
    "validate_problem",
]

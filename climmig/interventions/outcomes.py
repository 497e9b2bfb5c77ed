"""The parts of projected displacement: recorded (IDMC), pre-emptive evacuations and without prior warning.

IDMC counts pre-emptive evacuations as displacements, so its *recorded displacement* is the sum of
evacuations ahead of an event and displacement without prior warning (people fleeing as the event strikes,
and those who cannot return). Warning-type interventions move people from the second part into the first:
recorded displacement can rise while displacement without warning falls.
"""

from __future__ import annotations

import logging

import xarray as xr

from climmig.interventions.state import ProjectionState

__all__ = ["OUTCOMES", "outcome_parts"]

logger = logging.getLogger(__name__)

#: the displacement outcomes, in the order reports show them, with their long names
OUTCOMES = {
    "recorded_displacement": "recorded displacement (IDMC's measure, evacuations included)",
    "preemptive_evacuations": "pre-emptive evacuations",
    "unwarned_displacement": "displacement without prior warning",
}


def outcome_parts(displacement: xr.DataArray, state: ProjectionState, evacuation_share: xr.DataArray
                  ) -> xr.Dataset:
    """Split displacement by hazard into recorded displacement, evacuations and displacement without warning.

    Parameters
    ----------
    displacement : xr.DataArray
        Displacement (expected or simulated) with a ``hazard`` dim, computed from ``state`` (so it already
        holds the state's rate multiplier).
    state : ProjectionState
        Supplies ``unwarned_multiplier`` :math:`m_u` and ``evacuation_added`` :math:`e` (1 and 0 when None).
    evacuation_share : xr.DataArray
        Share :math:`\\varphi` of recorded displacement that is pre-emptive evacuation without any
        intervention, dims (sample, hazard) (:func:`climmig.interventions.evidence.evacuation_share_draws`).

    Returns
    -------
    xr.Dataset
        ``recorded_displacement``, ``preemptive_evacuations`` and ``unwarned_displacement``, dims of
        ``displacement`` (plus any the multipliers add), units of ``displacement``.

    Notes
    -----
    With :math:`D` the displacement,

    .. math::
        E = D\\,[\\varphi + (1 - \\varphi)\\,e], \\quad U = D\\,(1 - \\varphi)\\,m_u, \\quad R = E + U.

    Without warning-type interventions (:math:`m_u = 1, e = 0`), :math:`R = D`.
    """
    if "hazard" not in displacement.dims:
        raise ValueError("displacement needs a 'hazard' dim to be split into its parts")
    phi = evacuation_share.sel(hazard=displacement["hazard"].values)
    mu = state.unwarned_multiplier
    ea = state.evacuation_added
    evac = displacement * phi if ea is None else displacement * (phi + (1.0 - phi) * ea)
    unwarned = displacement * (1.0 - phi) if mu is None else displacement * (1.0 - phi) * mu
    order = [*displacement.dims, *[d for d in evac.dims if d not in displacement.dims]]
    evac = evac.transpose(*[d for d in order if d in evac.dims])
    unwarned = unwarned.transpose(*[d for d in order if d in unwarned.dims])
    units = displacement.attrs.get("units", "1")
    out = xr.Dataset({"preemptive_evacuations": evac, "unwarned_displacement": unwarned})
    out["recorded_displacement"] = (evac + unwarned).transpose(*[d for d in order if d in (evac + unwarned).dims])
    for k, ln in OUTCOMES.items():
        out[k].attrs = {"units": units, "long_name": ln}
    return out[list(OUTCOMES)]

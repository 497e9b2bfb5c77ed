"""Ready-made report sections with plain-language captions built from the projection and comparison.

The sections live in modules by subject and are re-exported here, so ``climmig.report.sections`` stays the
one place to import them from: :mod:`~climmig.report.projection_sections` (projected displacement and
movement), :mod:`~climmig.report.attribution_sections` (why scenarios differ, what drives the change from
today), :mod:`~climmig.report.comparison_sections` (the decision analysis) and
:mod:`~climmig.report.data_sections` (hazard layers, SSP series, the record check).
"""

from __future__ import annotations

from climmig.report.attribution_sections import change_section, society_section
from climmig.report.comparison_sections import comparison_section
from climmig.report.data_sections import hazards_section, plausibility_section, ssp_section
from climmig.report.projection_sections import (
    climate_share,
    climate_share_sentence,
    flows_section,
    projection_section,
)

__all__ = ["change_section", "climate_share", "climate_share_sentence", "comparison_section", "flows_section", "hazards_section", "plausibility_section", "projection_section",
           "society_section", "ssp_section"]

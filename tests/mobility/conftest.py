"""Fixtures of the model-lifecycle tests."""

from __future__ import annotations

import copy

import pytest

#: a sampler that only exercises the plumbing
TINY = {"backend": "nutpie", "draws": 20, "tune": 20, "chains": 1}


@pytest.fixture
def tiny(demo_dict) -> dict:
    """The demo config with tiny samplers."""
    data = copy.deepcopy(demo_dict)
    data["mobility"]["sampler"] = dict(TINY)
    data["mobility"]["migration"]["sampler"] = dict(TINY)
    return data

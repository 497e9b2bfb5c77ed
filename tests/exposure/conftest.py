"""Fixtures of this test folder: a laziness guard (a dask callback that fails on any compute)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from dask.callbacks import Callback


class _RaiseOnCompute(Callback):
    def _start(self, dsk: object) -> None:
        raise AssertionError("a dask computation ran inside code that must stay lazy")


@pytest.fixture
def assert_lazy():
    """Context manager: any dask compute inside it fails the test (like xarray's raise_if_dask_computes)."""

    @contextlib.contextmanager
    def _guard() -> Iterator[None]:
        with _RaiseOnCompute():
            yield

    return _guard

"""Compute backends of climmig.compute (the SLURM backend is tested in test_slurm.py)."""

from __future__ import annotations

import dask
import dask.array as da
import pytest

from climmig.compute import ComputeError, get_client
from climmig.config.schema import ComputeSpec


def test_threads_backend_has_no_client():
    with get_client(ComputeSpec(backend="threads", n_workers=2)) as client:
        assert client is None
        assert dask.config.get("scheduler") == "threads"
        assert float(da.ones((20, 20), chunks=5).sum().compute()) == 400.0


@pytest.mark.slow
def test_local_cluster_backend():
    spec = ComputeSpec(backend="local", n_workers=1, threads_per_worker=1, memory_limit="1GiB")
    with get_client(spec, wait_for_workers=True, timeout=60) as client:
        assert len(client.scheduler_info()["workers"]) == 1
        assert float(da.ones((20, 20), chunks=5).sum().compute()) == 400.0
    assert client.status == "closed"


def test_scheduler_backend_connects_to_an_existing_scheduler():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        spec = ComputeSpec(backend="scheduler", scheduler_address=cluster.scheduler_address)
        with get_client(spec) as client:
            assert client.submit(lambda x: x + 1, 1).result() == 2


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error():
    spec = ComputeSpec(backend="scheduler", scheduler_address="tcp://127.0.0.1:9")
    with pytest.raises(ComputeError, match="cannot connect"):
        with get_client(spec, timeout=2):
            pass


def test_slurm_backend_needs_an_existing_site():
    from climmig.hpc.site import SiteError

    spec = ComputeSpec(backend="slurm", site="no-such-site")
    with pytest.raises(SiteError, match="not found"):
        with get_client(spec):
            pass


def test_site_settings_are_not_in_the_science_hash(demo_dict):
    from climmig.config import parse_config, science_hash

    a = parse_config(demo_dict)
    b = parse_config({**demo_dict, "compute": {"backend": "slurm", "site": "local", "n_workers": 8}})
    assert science_hash(a) == science_hash(b)

"""Where the work runs: threads, a dask.distributed LocalCluster, an existing scheduler, or SLURM workers.

The backend comes from the ``compute`` section of a run config (site settings, never part of the science
hash); SLURM resources come from a site profile (:class:`climmig.hpc.site.SiteProfile`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from climmig.config.schema_site import ComputeSpec
from climmig.errors import ClimmigError
from climmig.hpc.site import SiteProfile, load_site

__all__ = ["ComputeError", "get_client"]

logger = logging.getLogger(__name__)


class ComputeError(ClimmigError):
    """A compute backend cannot be started (missing site, unreachable scheduler, missing package)."""


@contextlib.contextmanager
def get_client(
    compute_spec: ComputeSpec,
    site: SiteProfile | str | None = None,
    *,
    wait_for_workers: bool | int = False,
    timeout: float = 120.0,
) -> Iterator[Any]:
    """Start (or connect to) the compute backend of a run; close what was started on exit.

    Parameters
    ----------
    compute_spec : ComputeSpec
        The config's ``compute`` section.
    site : SiteProfile or str, optional
        Site profile (or its name) for ``backend: slurm``; default ``compute_spec.site``.
    wait_for_workers : bool or int
        Block until workers are connected: ``True`` waits for ``compute_spec.n_workers``, an int for that
        many (useful for SLURM, where workers are queued jobs).
    timeout : float
        Seconds to wait for workers or for a scheduler connection.

    Yields
    ------
    distributed.Client or None
        ``None`` for ``backend: threads`` (dask's threaded scheduler); otherwise a connected client, also
        set as dask's default scheduler inside the block.

    Raises
    ------
    ComputeError
        If the backend cannot start.
    """
    backend = compute_spec.backend
    if backend == "threads":
        import dask

        n = compute_spec.n_workers * compute_spec.threads_per_worker
        with dask.config.set(scheduler="threads", num_workers=n):
            yield None
        return

    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise ComputeError(f"backend {backend!r} needs dask.distributed: {exc}") from None

    with contextlib.ExitStack() as stack:
        if backend == "local":
            cluster = stack.enter_context(LocalCluster(
                n_workers=compute_spec.n_workers,
                threads_per_worker=compute_spec.threads_per_worker,
                memory_limit=compute_spec.memory_limit,
                dashboard_address=None,
            ))
            client = stack.enter_context(Client(cluster))
        elif backend == "scheduler":
            try:
                client = stack.enter_context(Client(compute_spec.scheduler_address, timeout=timeout))
            except OSError as exc:
                raise ComputeError(
                    f"cannot connect to the dask scheduler at {compute_spec.scheduler_address}: {exc}"
                ) from None
        elif backend == "slurm":
            profile = _site(compute_spec, site)
            try:
                from dask_jobqueue import SLURMCluster
            except ImportError:
                raise ComputeError(
                    "backend 'slurm' needs dask-jobqueue; install climmig[hpc]"
                ) from None
            kwargs = profile.dask_kwargs()
            logger.info("starting SLURMCluster with %s, %d job(s)", kwargs, compute_spec.n_workers)
            cluster = stack.enter_context(SLURMCluster(**kwargs))
            cluster.scale(jobs=compute_spec.n_workers)
            client = stack.enter_context(Client(cluster))
        else:  # pragma: no cover - the config schema forbids other values
            raise ComputeError(f"unknown compute backend {backend!r}")
        if wait_for_workers:
            n = compute_spec.n_workers if wait_for_workers is True else int(wait_for_workers)
            if backend == "slurm":
                n *= _site(compute_spec, site).processes
            try:
                client.wait_for_workers(n, timeout=timeout)
            except TimeoutError:
                raise ComputeError(
                    f"{n} dask worker(s) did not connect within {timeout:.0f} s; check the queue (squeue) "
                    "and the worker logs"
                ) from None
        yield client


def _site(compute_spec: ComputeSpec, site: SiteProfile | str | None) -> SiteProfile:
    if isinstance(site, SiteProfile):
        return site
    name = site or compute_spec.site
    if not name:
        raise ComputeError("backend 'slurm' needs a site profile (compute.site or --site)")
    return load_site(name)

"""One lifecycle for every fitted model: build, calibrate (reuse or fit), predict, save and load with a check.

After pymc-marketing's model builder: a model class holds a run config; :meth:`ModelLifecycle.calibrate`
prepares the model's data through the catalog, builds the model, and either reloads a saved fit whose
*signature* matches or fits and saves; :meth:`ModelLifecycle.load` reloads a saved fit and refuses one whose
signature differs. The signature is four provenance attrs of the fit:

``model_name``
    which model (and, for the cross-border model, which fit: NUTS or Laplace);
``fit_config_sha256``
    the config settings the fit depends on, and nothing else (each class says which);
``data_sha256``
    what the fit was fitted on;
``model_sha256``
    the structure of the model (:func:`model_signature`: every random variable's name, distribution, dims and
    shape), so a fit of an earlier model version with the same config and data is refitted.

Subclasses (:class:`climmig.displacement.lifecycle.DisplacementModel`,
:class:`climmig.migration.lifecycle.MigrationModel`, :class:`climmig.migration.lifecycle.InternalMigrationModel`)
define :meth:`~ModelLifecycle.prepare`, :meth:`~ModelLifecycle.build`, the two hashes and
:meth:`~ModelLifecycle.predict`. The seed of a fit is :attr:`ModelLifecycle.seed`, the same whichever command
asks for the fit (``climmig run``'s stage or a CLI command).

A fit is an ``arviz.InferenceData`` by default (saved with :func:`~climmig.mobility.fit.save_fit`, its
signature in the posterior's attrs). Models whose fit is a plain ``xarray.Dataset``
(:mod:`climmig.migration.lifecycle_datasets`: the PRMN and UNHCR fits) override the three storage hooks
:meth:`~ModelLifecycle._read`, :meth:`~ModelLifecycle._write` and :meth:`~ModelLifecycle._attrs`.
"""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from climmig.errors import ProvenanceMismatchError
from climmig.mobility.fit import fit, load_fit, save_fit
from climmig.mobility.fit_cache import cache_file, cache_root, store
from climmig.provenance import canonical_json, stage_seed

__all__ = ["SIGNATURE_KEYS", "ModelLifecycle", "check_signature", "frame_sha256", "model_signature"]

logger = logging.getLogger(__name__)

#: the attrs of a fit that make its signature, and how a mismatch is named
SIGNATURE_KEYS: Mapping[str, str] = {
    "model_name": "model",
    "fit_config_sha256": "fit config",
    "data_sha256": "data",
    "model_sha256": "model structure",
}


def model_signature(model: Any) -> str:
    """sha256 of a model's structure: every random variable's name, distribution, dims and shape.

    Part of a fit's provenance, so that a saved fit of an earlier model version (same config and data,
    different parameters or likelihood) is refitted rather than reused.

    Parameters
    ----------
    model : pm.Model
        A built model.

    Returns
    -------
    str
    """
    rows = []
    for rv in list(model.free_RVs) + list(model.observed_RVs) + list(model.deterministics):
        op = rv.owner.op if rv.owner is not None else None
        dims = list(model.named_vars_to_dims.get(rv.name, ()))
        rows.append([rv.name, type(op).__name__, dims, [len(model.coords[d]) for d in dims]])
    return hashlib.sha256(canonical_json(sorted(rows)).encode()).hexdigest()


def frame_sha256(*parts: Any) -> str:
    """sha256 of tables and plain values (the content of what a fit was fitted on).

    Parameters
    ----------
    *parts : pandas.DataFrame, pandas.Series, None or JSON-serialisable value
        Tables are hashed by their column names, dtypes, index and values; other values by their canonical
        JSON.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, (pd.DataFrame, pd.Series)):
            frame = part.to_frame() if isinstance(part, pd.Series) else part
            h.update(canonical_json([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
            h.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=True).to_numpy()).tobytes())
        else:
            h.update(canonical_json(part).encode())
        h.update(b"\x00")
    return h.hexdigest()


def check_signature(attrs: Mapping[str, Any], expected: Mapping[str, str], path: str | Path) -> None:
    """Refuse a saved fit whose signature differs from ``expected``, naming what differs.

    Parameters
    ----------
    attrs : mapping
        The fit's attrs (an InferenceData's posterior attrs).
    expected : mapping of str to str
        Signature keys (:data:`SIGNATURE_KEYS`) and the values they must have.
    path : str or Path
        The fit's file, for the message.

    Raises
    ------
    ProvenanceMismatchError
        If any expected attr differs; the message names each (e.g. ``fit config``, ``data``).
    """
    differs = [f"{SIGNATURE_KEYS.get(k, k)} ({k}: saved {str(attrs.get(k))[:16]}, expected {str(v)[:16]})"
               for k, v in expected.items() if attrs.get(k) != v]
    if differs:
        raise ProvenanceMismatchError(f"saved fit {path} differs in its {'; '.join(differs)}; it will be refit")


class ModelLifecycle(ABC):
    """A fitted model's lifecycle for one run config: prepare, build, calibrate, predict, save, load.

    Parameters
    ----------
    cfg : RunConfig
        The run config.

    Attributes
    ----------
    cfg : RunConfig
    data : object or None
        What :meth:`prepare` returned (None until calibrated, or when loaded without data).
    model : pm.Model or None
        What :meth:`build` returned.
    idata : arviz.InferenceData, xr.Dataset or None
        The fit (a plain dataset for the models that override the storage hooks).
    path : Path or None
        Where the fit was saved or loaded from.
    reused : bool
        Whether :meth:`calibrate` reloaded a saved fit instead of fitting.
    """

    #: the name under which :func:`~climmig.provenance.stage_seed` derives the fit's seed
    seed_name: ClassVar[str] = ""
    #: the ``model_name`` attr of this model's fits
    model_name: str = ""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.data: Any = None
        self.model: Any = None
        self.idata: Any = None
        self.path: Path | None = None
        self.reused = False
        #: the cache file the fit was taken from (:mod:`climmig.mobility.fit_cache`), or None
        self.cached_from: Path | None = None

    # --------------------------------------------------------------------------------- defined per model
    @property
    def sampler(self) -> Any:
        """The :class:`~climmig.config.schema_statistics.SamplerSpec` of the fit."""
        return self.cfg.mobility.sampler

    @abstractmethod
    def fit_config_sha256(self) -> str:
        """sha256 of the config settings the fit depends on (and nothing else)."""

    @abstractmethod
    def prepare(self, catalog: Any, **options: Any) -> Any:
        """The model's data, read through the catalog (``options``: model-specific overrides)."""

    @abstractmethod
    def build(self, data: Any) -> Any:
        """The model (a ``pm.Model``) built on ``data``."""

    @abstractmethod
    def data_sha256(self, data: Any) -> str:
        """sha256 of what the fit is fitted on."""

    def structure_sha256(self, model: Any) -> str:
        """sha256 of the model's structure (default :func:`model_signature`)."""
        return model_signature(model)

    def fit_attrs(self, data: Any) -> dict[str, str]:
        """Provenance attrs stored with a new fit besides the signature."""
        return {}

    def sample(self, model: Any, data: Any, attrs: Mapping[str, str], progress: bool) -> Any:
        """Fit ``model`` with this model's sampler and :attr:`seed` (override for another method)."""
        return fit(model, self.sampler, random_seed=self.seed, model_name=self.model_name, attrs=attrs,
                   progress=progress)

    @abstractmethod
    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Predictions from the fit (each model delegates to its predict function)."""

    # ------------------------------------------------------ how a fit is stored (override for another format)
    def _read(self, path: Path) -> Any:
        """The saved fit at ``path`` (default :func:`~climmig.mobility.fit.load_fit`).

        Raises
        ------
        ProvenanceMismatchError
            If there is no file at ``path``.
        """
        return load_fit(path)

    def _write(self, fit: Any, path: str | Path) -> Path:
        """Write ``fit`` to ``path`` atomically (default :func:`~climmig.mobility.fit.save_fit`)."""
        return save_fit(fit, path)

    def _attrs(self, fit: Any) -> Mapping[str, Any]:
        """The attrs of ``fit`` that hold its signature (default: the posterior's)."""
        return fit.posterior.attrs

    def _provenance(self, fit: Any, attrs: Mapping[str, str]) -> Any:
        """``fit`` with this run's provenance ``attrs`` (signature and :meth:`fit_attrs`), as :meth:`sample`
        stamps a new fit; a fit from the cache carries those of the run that made it (default: every group's
        attrs, as :func:`~climmig.mobility.fit.fit` writes them)."""
        for group in fit.groups():
            fit[group].attrs.update(attrs)
        return fit

    # ------------------------------------------------------------------------------------ shared lifecycle
    @property
    def cache_note(self) -> str:
        """For a headline line: where the fit came from when it was taken from the fit cache, else ``""``."""
        if self.cached_from is None:
            return ""
        return f" (the same fit, taken from the fit cache {self.cached_from}; compute.fit_cache)"

    @property
    def seed(self) -> int:
        """Seed of the fit: ``stage_seed(cfg.seed, seed_name)``, whichever command fits."""
        return stage_seed(self.cfg.seed, self.seed_name)

    def signature(self, data: Any | None = None, model: Any | None = None) -> dict[str, str]:
        """The four signature attrs of a fit of ``data`` with ``model`` (default: the ones calibrated).

        Without data (a fit loaded without preparing its data) only the model name and the fit config.

        Parameters
        ----------
        data, model : optional
            From :meth:`prepare` and :meth:`build`.

        Returns
        -------
        dict of str to str
        """
        data = self.data if data is None else data
        model = self.model if model is None else model
        out = {"model_name": self.model_name, "fit_config_sha256": self.fit_config_sha256()}
        if data is not None:
            out["data_sha256"] = self.data_sha256(data)
        if model is not None:
            out["model_sha256"] = self.structure_sha256(model)
        return out

    def calibrate(self, catalog: Any, *, path: str | Path | None = None, reuse: bool = True,
                  progress: bool = False, **options: Any) -> Self:
        """Prepare and build the model, then reload a saved fit whose signature matches, or take it from the fit
        cache shared by runs (:mod:`climmig.mobility.fit_cache`), or fit (and save, and keep it in the cache).

        Parameters
        ----------
        catalog : ResolvedCatalog
            The run's catalog.
        path : str or Path, optional
            The fit's file; None = neither reuse nor save.
        reuse : bool
            Reload a saved fit at ``path``, or one in the fit cache, whose signature matches instead of fitting.
        progress : bool
            Sampler progress.
        **options
            Passed to :meth:`prepare`.

        Returns
        -------
        ModelLifecycle
            ``self``, with ``data``, ``model``, ``idata``, ``path``, ``reused`` and ``cached_from`` set.
        """
        self.data = self.prepare(catalog, **options)
        self.model = self.build(self.data)
        sig = self.signature()
        self.path = None if path is None else Path(path)
        self.idata, self.reused, self.cached_from = None, False, None
        if self.path is not None and reuse and self.path.exists():
            try:
                idata = self._read(self.path)
                check_signature(self._attrs(idata), sig, self.path)
                self.idata, self.reused = idata, True
                logger.info("reusing the saved fit %s", self.path)
            except ProvenanceMismatchError as exc:
                logger.info("%s", exc)
        if self.idata is None and self.path is not None and reuse:
            self._from_cache(sig)
        if self.idata is None:
            self.idata = self.sample(self.model, self.data, {**self.fit_attrs(self.data), **sig}, progress)
            if self.path is not None:
                self._write(self.idata, self.path)
                self._to_cache(sig)
        return self

    def _cache_file(self, sig: Mapping[str, str]) -> Path | None:
        root = cache_root(self.cfg.compute.fit_cache)
        return None if root is None else cache_file(root, sig)

    def _from_cache(self, sig: Mapping[str, str]) -> None:
        """Take the fit from the cache shared by runs (:mod:`climmig.mobility.fit_cache`) when it holds this
        signature, and write it into the run with this run's provenance attrs."""
        file = self._cache_file(sig)
        if file is None or not file.exists():
            return
        try:
            fit = self._read(file)
            check_signature(self._attrs(fit), sig, file)
        except (ProvenanceMismatchError, OSError, ValueError, KeyError) as exc:
            logger.warning("not using the cached fit %s (%s)", file, exc)
            return
        self.idata = self._provenance(fit, {**self.fit_attrs(self.data), **sig})
        self._write(self.idata, self.path)
        self.reused, self.cached_from = True, file
        logger.info("reusing the fit kept in the cache %s", file)

    def _to_cache(self, sig: Mapping[str, str]) -> None:
        file = self._cache_file(sig)
        if file is not None and self.path is not None:
            store(self.path, file)

    def save(self, path: str | Path) -> Path:
        """Save the fit (with its signature attrs) to NetCDF.

        Parameters
        ----------
        path : str or Path
            Target ``.nc`` file.

        Returns
        -------
        Path
        """
        if self.idata is None:
            raise ValueError(f"{type(self).__name__}: nothing to save; calibrate or load a fit first")
        self.path = self._write(self.idata, path)
        return self.path

    @classmethod
    def load(cls, path: str | Path, cfg: Any, catalog: Any = None, **options: Any) -> Self:
        """Reload a saved fit, refusing one whose signature differs from this config's.

        The model name and the fit config are always checked; with a ``catalog`` (or data ``options``) the
        data are prepared and the model built, and the data and model-structure hashes are checked too.

        Parameters
        ----------
        path : str or Path
            A fit written by :meth:`save` or :meth:`calibrate`.
        cfg : RunConfig
            The run config the fit must belong to.
        catalog : ResolvedCatalog, optional
            To check the data and the model structure as well.
        **options
            Passed to :meth:`prepare`.

        Returns
        -------
        ModelLifecycle
            With ``idata`` and ``path`` set, ``reused`` true (and ``data``, ``model`` when checked).

        Raises
        ------
        ProvenanceMismatchError
            If the file is missing or its signature differs (the message names what differs).
        """
        obj = cls(cfg)
        if catalog is not None or options:
            obj.data = obj.prepare(catalog, **options)
            obj.model = obj.build(obj.data)
        obj.path = Path(path)
        obj.idata = obj._read(obj.path)
        check_signature(obj._attrs(obj.idata), obj.signature(), obj.path)
        obj.reused = True
        return obj

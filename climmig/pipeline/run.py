"""Run a whole config: context, checkpointed stages, manifest, summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from climmig.config import load_config
from climmig.errors import ProvenanceMismatchError
from climmig.io.digest import run_digests
from climmig.io.writers import OutputError
from climmig.pipeline.context import RunContext, make_context
from climmig.pipeline.manifest import read_manifest, source_digest, write_manifest, write_resolved_config
from climmig.pipeline.runner import Stage, StageResult, execute, read_record, stage_is_current
from climmig.pipeline.stages import BACKGROUND_STAGES, build_stages

__all__ = ["RunSummary", "rerun_pipeline", "run_pipeline"]


@dataclass
class RunSummary:
    """What a run did and where its outputs are."""

    run_dir: Path
    results: list[StageResult]
    headline: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    verified: int | None = None  # outputs checked against a manifest (``climmig rerun``)

    def text(self) -> str:
        """A short human-readable summary for the terminal."""
        lines = [f"outputs in {self.run_dir}"]
        for r in self.results:
            where = " (in a second process)" if r.background else ""
            lines.append(f"  {r.name:<16} {r.status:<8} {r.seconds:7.1f} s{where}")
        lines += self.headline
        return "\n".join(lines)


def _outputs(run_dir: Path, stages: list[Stage], cfg_hash: str) -> list[str]:
    """Outputs of every recorded stage; of an on-demand stage only while its record is current (a rerun of
    the stages it depends on leaves its outputs behind until it is asked for again)."""
    out: list[str] = []
    for s in stages:
        rec = read_record(run_dir, s.name)
        if rec is None or (s.on_demand and not stage_is_current(run_dir, s, cfg_hash, verify_outputs=False)):
            continue
        out += list(rec.get("outputs", {}))
    return out


def _current_on_demand(run_dir: Path, cfg_hash: str) -> list[str]:
    """On-demand stages whose outputs a run holds (a rerun recomputes them too)."""
    return [s.name for s in build_stages(on_demand=True)
            if s.on_demand and stage_is_current(run_dir, s, cfg_hash, verify_outputs=False)]


def run_pipeline(config: str | Path, *, output: str | Path | None = None, only: list[str] | None = None,
                 force: bool = False, progress: bool = True, console: Console | None = None,
                 expect_hash: str | None = None,
                 expect_inputs: dict[str, dict[str, str]] | None = None,
                 catalog: str | Path | None = None) -> RunSummary:
    """Run the stages of a config in order, skipping current checkpoints, and write the manifest.

    Parameters
    ----------
    config : str or Path
        Run config.
    output : str or Path, optional
        Run directory override.
    only : list of str, optional
        Stages to run (with what they need).
    force : bool
        Rerun selected stages even if current.
    progress : bool
        Show progress.
    console : rich.console.Console, optional
        Where progress goes.
    expect_hash : str, optional
        Refuse to run unless the config's science hash equals this (used by ``climmig rerun``).
    expect_inputs : dict, optional
        Refuse to finish unless the verified input checksums equal these.
    catalog : str or Path, optional
        Use this catalog file instead of the config's (a site setting: it is not part of the config hash,
        and the data are checked by their checksums).

    Returns
    -------
    RunSummary
    """
    console = console or Console(stderr=True, highlight=False)
    cfg = None
    if catalog is not None:
        cfg = load_config(config, check_catalog=False).model_copy(
            update={"catalog": str(Path(catalog).expanduser().resolve())})
    ctx: RunContext = make_context(config, output=output, progress=progress, cfg=cfg)
    if expect_hash is not None and ctx.cfg_hash != expect_hash:
        raise ProvenanceMismatchError(
            f"config {config} hashes to {ctx.cfg_hash[:16]}..., the manifest says {expect_hash[:16]}...; "
            "the resolved config was edited"
        )
    try:
        ctx.run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the run directory {ctx.run_dir}: {exc.strerror}; choose another "
                          "with --output (or outputs.run_dir)") from None
    write_resolved_config(ctx.cfg, ctx.catalog.file, ctx.run_dir)
    stages = build_stages(on_demand=True)

    def on_start(stage: Stage) -> None:
        if progress:
            console.print(f"[bold]>[/] {stage.name}: {stage.description}")

    def on_done(stage: Stage, res: StageResult) -> None:
        if progress:
            what = "up to date, skipped" if res.status == "skipped" else f"done in {res.seconds:.1f} s"
            console.print(f"  {stage.name}: {what}")

    background = BACKGROUND_STAGES if ctx.cfg.compute.background_stages else ()
    results = execute(stages, ctx, only=only, force=force, on_start=on_start, on_done=on_done,
                      background=background)
    inputs_file = ctx.path("inputs.json")
    inputs = json.loads(inputs_file.read_text())["entries"] if inputs_file.exists() else {}
    if expect_inputs is not None and inputs != expect_inputs:
        changed = sorted(k for k in set(inputs) | set(expect_inputs) if inputs.get(k) != expect_inputs.get(k))
        raise ProvenanceMismatchError(f"input data differ from the manifest for {changed}; cannot rerun exactly")
    flags: dict[str, Any] = {}
    headline: list[str] = []
    for r in results:
        headline += [str(x) for x in r.summary.get("headline", [])]
        if r.summary.get("unconverged_fit"):
            flags["unconverged_fit"] = True
        for key in ("ssp_fallback", "ssp_population_income_gap"):
            if r.summary.get(key):
                flags[key] = r.summary[key]
    outputs = _outputs(ctx.run_dir, stages, ctx.cfg_hash)
    digests = run_digests(ctx.run_dir, outputs)
    write_manifest(ctx.run_dir, ctx.cfg, config_file=ctx.config_file, catalog_file=ctx.catalog.file,
                   inputs=inputs, stages=[{"name": r.name, "status": r.status, "seconds": round(r.seconds, 3),
                                           "background": r.background}
                                          for r in results],
                   outputs=outputs, flags=flags, digests=digests)
    return RunSummary(run_dir=ctx.run_dir, results=results, headline=headline, digests=digests)


def rerun_pipeline(run_dir: str | Path, *, output: str | Path | None = None, progress: bool = True,
                   console: Console | None = None, catalog: str | Path | None = None) -> RunSummary:
    """Rerun a finished run from its manifest and check that every output comes out the same.

    Parameters
    ----------
    run_dir : str or Path
        A run directory written by :func:`run_pipeline` (holds ``manifest.json`` and ``config.yaml``).
    output : str or Path, optional
        Write the rerun here; default: rerun every stage in place.
    progress : bool
        Show progress.
    console : rich.console.Console, optional
        Where progress goes.
    catalog : str or Path, optional
        The rerunner's copy of the catalog, if not at the path the run used (its inputs must have the
        checksums the manifest recorded).

    Returns
    -------
    RunSummary
        Of the rerun; ``digests`` equal the manifest's ``output_digests`` and ``verified`` counts them
        (0 for a manifest written before digests were recorded).

    Raises
    ------
    ProvenanceMismatchError
        If the resolved config was edited, the input data changed, or an output's content digest
        (:func:`climmig.io.digest.content_digest`) differs from the one the manifest recorded.
    """
    manifest = read_manifest(Path(run_dir))
    expected = dict(manifest.get("output_digests", {}))
    on_demand = _current_on_demand(Path(run_dir), manifest["config_sha256"])
    only = [s.name for s in build_stages()] + on_demand if on_demand else None
    summary = run_pipeline(Path(run_dir) / manifest["resolved_config"], output=output or Path(run_dir),
                           only=only, force=output is None, progress=progress, console=console,
                           expect_hash=manifest["config_sha256"], expect_inputs=manifest["inputs"],
                           catalog=catalog)
    differ = sorted(k for k in expected if summary.digests.get(k) != expected[k])
    if differ:
        recorded = manifest.get("climmig_source_sha256")
        code = ("the climmig source differs from the one that made the run (source sha256 "
                f"{str(recorded)[:12]}... then, {source_digest()[:12]}... now)" if recorded != source_digest()
                else "the climmig source is the same as the run's; compare package_versions in both manifests")
        raise ProvenanceMismatchError(
            f"the rerun in {summary.run_dir} differs from the manifest of {run_dir} for {len(differ)} of "
            f"{len(expected)} outputs: {', '.join(differ)}; {code}")
    summary.verified = len(expected)
    return summary

"""The projection benchmark runs at a tiny size and its dask and numpy paths agree exactly."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_benchmark_script_small(capsys):
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_projection.py"
    spec = importlib.util.spec_from_file_location("bench_projection", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--draws", "12", "--regions", "5", "--years", "6", "--scenarios", "2", "--models", "2",
                    "--chunk-draws", "5"])
    assert out["n_values"] == 12 * 5 * 6 * 2 * 2
    assert out["identical"] is True
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("{")

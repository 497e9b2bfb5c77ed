"""``climmig sensitivity``: analytic smoke test, the pipeline seam, and clear errors (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xarray as xr
import yaml

from climmig.cli import main
from climmig.config import load_config, science_hash

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "demo.yaml"
PROBLEM = REPO / "configs" / "sensitivity_demo_problem.yaml"


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    cap = capsys.readouterr()
    return int(info.value.code or 0), cap.out, cap.err


def test_analytic_ishigami_writes_netcdf_and_png(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, "sensitivity", "--analytic", "ishigami", "--n", "256", "-o", str(tmp_path))
    assert code == 0, err
    assert "S1 exact" in out and "x3" in out
    with xr.open_dataset(tmp_path / "sensitivity.nc") as ds:
        assert ds["S1"].dims == ("parameter", "output")
        assert float(ds["ST"].sel(parameter="x2", output="y")) == pytest.approx(0.4424, abs=0.08)
    png = tmp_path / "sensitivity.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000
    assert not list(tmp_path.glob(".*tmp*"))


def test_analytic_morris(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, "sensitivity", "--analytic", "ishigami", "--method", "morris", "--n", "8",
                          "-o", str(tmp_path))
    assert code == 0, err
    with xr.open_dataset(tmp_path / "sensitivity.nc") as ds:
        assert "mu_star" in ds and ds.attrs["climmig_sensitivity_method"] == "morris"


def test_config_mode_without_a_finished_run_says_so(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "sensitivity", str(DEMO), "--problem", str(PROBLEM), "--run-dir",
                        str(tmp_path / "none"), "-o", str(tmp_path))
    assert code == 2 and "Traceback" not in err
    assert "reuses the run's exposure and fitted posteriors" in err and "climmig run" in err
    assert not (tmp_path / "sensitivity.nc").exists()


@pytest.mark.slow
def test_config_mode_on_a_finished_run(small_demo_run: Path, capsys: pytest.CaptureFixture, tmp_path: Path
                                       ) -> None:
    data = yaml.safe_load(PROBLEM.read_text())
    data.update(method="morris", n=2, samples=10)
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(data))
    run_dir = small_demo_run.parent / "run"
    fits = {f.name: f.stat().st_mtime_ns for f in (run_dir / "fits").iterdir()}
    code, out, err = _run(capsys, "sensitivity", str(small_demo_run), "--problem", str(p), "-o", str(tmp_path),
                          "--workers", "2")
    assert code == 0, err
    with xr.open_dataset(tmp_path / "sensitivity.nc") as ds:
        assert ds["mu_star"].dims == ("parameter", "output", "horizon")
        assert ds.sizes == {"parameter": 6, "output": 4, "horizon": 3, "evaluation": 2 * 7}
        assert ds.attrs["climmig_config_sha256"] == science_hash(load_config(small_demo_run))
        assert json.loads(ds.attrs["climmig_sensitivity_problem"])["samples"] == 10
        assert ds.attrs["climmig_sensitivity_sampler"].startswith("SALib.sample.morris.sample")
        assert Path(ds.attrs["climmig_sensitivity_run_dir"]) == run_dir.resolve()
        reused = json.loads(ds.attrs["climmig_sensitivity_reused"])
        assert "fits/displacement_fit.nc" in reused["fit_displacement"] and reused["exposure"]
        # the discount rate changes costs only, never displacement
        mu = ds["mu_star"].sel(parameter="comparison.discount_rate")
        assert float(mu.sel(output="displaced_persons").max()) == 0.0
    assert (tmp_path / "sensitivity.png").stat().st_size > 10_000
    assert {f.name: f.stat().st_mtime_ns for f in (run_dir / "fits").iterdir()} == fits
    assert "Morris sensitivity (14 evaluations)" in out


def test_bad_problem_path_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = yaml.safe_load(PROBLEM.read_text())
    data["parameters"][0]["path"] = "hazards.flod.threshold"
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(data))
    code, _, err = _run(capsys, "sensitivity", str(DEMO), "--problem", str(p), "-o", str(tmp_path))
    assert code == 2 and "Traceback" not in err
    assert "hazards.flod.threshold: hazards has no 'flod'; did you mean 'flood'?" in err


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--analytic", "rosenbrock"], "unknown analytic benchmark 'rosenbrock'"),
        (["--analytic", "ishigami", "--n", "100"], "use 64 or 128"),
        ([str(DEMO)], "give the sensitivity problem with --problem"),
        ([], "give a run CONFIG"),
        ([str(DEMO), "--problem", "nope.yaml"], "sensitivity problem file not found"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture, args: list[str], expect: str) -> None:
    code, _, err = _run(capsys, "sensitivity", *args)
    assert code == 2 and expect in err and "Traceback" not in err


def test_list_parameters(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "sensitivity", str(DEMO), "--list-parameters")
    assert code == 0
    assert "hazards.flood.threshold" in out and "interventions.early_warning.effect.params.alpha" in out

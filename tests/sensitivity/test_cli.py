"""``climmig sensitivity``: analytic smoke test, the pipeline seam, and clear errors (exit code 2)."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from pathlib import Path

import pytest
import xarray as xr
import yaml

from climmig.cli import main
from climmig.config import science_hash

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


def _fake_pipeline(monkeypatch: pytest.MonkeyPatch, factory=None) -> types.ModuleType:
    mod = types.ModuleType("climmig.pipeline")
    mod.__spec__ = importlib.machinery.ModuleSpec("climmig.pipeline", None)
    if factory is not None:
        mod.sensitivity_evaluator = factory
    monkeypatch.setitem(sys.modules, "climmig.pipeline", mod)
    return mod


def test_config_mode_without_pipeline_evaluator_says_so(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    _fake_pipeline(monkeypatch)
    code, _, err = _run(capsys, "sensitivity", str(DEMO), "--problem", str(PROBLEM), "-o", str(tmp_path))
    assert code == 2
    assert "pipeline evaluator is not available" in err and "Traceback" not in err
    assert not (tmp_path / "sensitivity.nc").exists()


def test_config_mode_through_the_pipeline_seam(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                               tmp_path: Path) -> None:
    from climmig.sensitivity import apply_parameters, get_value

    calls: dict = {}

    def sensitivity_evaluator(cfg, config_path, run_dir):
        calls.update(cfg=cfg, config_path=Path(config_path), run_dir=Path(run_dir))
        horizons = xr.DataArray([h.name for h in cfg.horizons], dims="horizon")

        def evaluate(values: dict[str, float]) -> xr.Dataset:
            new = apply_parameters(cfg, values)
            thr = get_value(new, "hazards.flood.threshold")
            cov = get_value(new, "interventions.humanitarian_cash.coverage")
            rate = get_value(new, "comparison.discount_rate")
            w = xr.DataArray([1.0, 2.0, 3.0], dims="horizon", coords={"horizon": horizons})
            disp = (w * 1e5 / (1 + thr)).assign_attrs(units="1", long_name="people displaced")
            averted = (disp * 0.2 * cov).assign_attrs(units="1")
            cost = (0 * w + 60 * cov / (averted.mean() * (1 + rate))).assign_attrs(units="USD")
            return xr.Dataset({"displaced_persons": disp, "averted_displacement": averted,
                               "cost_per_person_averted": cost})

        return evaluate

    _fake_pipeline(monkeypatch, sensitivity_evaluator)
    code, out, err = _run(capsys, "sensitivity", str(DEMO), "--problem", str(PROBLEM), "--n", "8",
                          "-o", str(tmp_path), "--workers", "2")
    assert code == 0, err
    assert calls["config_path"] == DEMO
    assert calls["run_dir"] == (REPO / "runs" / "demo-horn-of-africa").resolve()
    with xr.open_dataset(tmp_path / "sensitivity.nc") as ds:
        assert ds["S1"].dims == ("parameter", "output", "horizon")
        assert ds.sizes == {"parameter": 6, "output": 3, "horizon": 3, "evaluation": 8 * 8}
        assert ds.attrs["climmig_config_sha256"] == science_hash(calls["cfg"])
        # displacement depends on the flood threshold only
        s1 = ds["ST"].sel(output="displaced_persons", horizon="late")
        assert float(s1.sel(parameter="hazards.flood.threshold")) > 0.8
        assert float(s1.sel(parameter="comparison.discount_rate")) == pytest.approx(0, abs=1e-9)
    assert (tmp_path / "sensitivity.png").stat().st_size > 10_000
    assert "Sobol sensitivity (64 evaluations)" in out and "wrote" in out


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

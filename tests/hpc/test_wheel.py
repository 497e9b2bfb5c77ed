"""A wheel of climmig, installed in a fresh venv, renders a SLURM job: templates and site profiles ship inside.

Nothing is downloaded: the wheel is built without build isolation (setuptools and wheel come from the
``dev`` extra), the venv gets pip from ``ensurepip``, the wheel is installed with ``--no-deps --no-index``,
and the dependencies come from the test's own environment through a ``.pth`` file. That file lists the
directories only, so the editable install of the source tree that may live there stays inactive: ``climmig``
is imported from the wheel, which the test checks.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.slow
def test_installed_wheel_renders_a_slurm_job(tmp_path, small_config) -> None:
    # build from a copy, so setuptools' build/ and egg-info never land in the source tree
    src = tmp_path / "src"
    shutil.copytree(ROOT / "climmig", src / "climmig", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", tmp_path / "dist", src, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("climmig-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
                   .strip())
    (purelib / "_climmig_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel, cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    where = _run(python, "-c", "import climmig; print(climmig.__file__)", cwd=tmp_path, env=env).strip()
    assert Path(where).is_relative_to(env_dir), where
    out_dir, run_dir = tmp_path / "scripts", tmp_path / "run"
    printed = _run(env_dir / "bin" / "climmig", "hpc", "render", small_config, "--site", "local",
                   "--out", out_dir, "--output", run_dir, cwd=tmp_path, env=env)
    assert sorted(p.name for p in out_dir.iterdir()) == ["array.sbatch", "dask.sbatch", "merge.sbatch"]
    array = (out_dir / "array.sbatch").read_text()
    assert array.startswith("#!") and "#SBATCH --array=0-3" in array and "#SBATCH --partition=debug" in array
    assert f"--output {run_dir}" in array and array in printed
    # the shipped example profile loads too, from the installed package
    _run(python, "-c", "from climmig.hpc.site import load_site; load_site('example-cluster')", cwd=tmp_path, env=env)

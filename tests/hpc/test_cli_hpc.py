"""``climmig hpc render / submit / status / selftest-*`` (in process; real sbatch is in test_slurm.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from climmig.cli import main


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_render_writes_and_prints_scripts(capsys, small_config, tmp_path):
    out_dir = tmp_path / "scripts"
    code, out, err = _cli(capsys, "hpc", "render", str(small_config), "--site", "local", "--out", str(out_dir),
                          "--output", str(tmp_path / "run"))
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["array.sbatch", "dask.sbatch", "merge.sbatch"]
    array = (out_dir / "array.sbatch").read_text()
    assert "#SBATCH --array=0-3" in array and "#SBATCH --partition=debug" in array
    assert f"--output {tmp_path / 'run'}" in array
    assert array in out
    assert f"# submit: climmig hpc submit {small_config} --site local --output {tmp_path / 'run'}" in out


def test_render_rejects_a_malicious_site(capsys, small_config, tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text(yaml.safe_dump({"partition": "debug; rm -rf /", "cores": 1}))
    code, out, err = _cli(capsys, "hpc", "render", str(small_config), "--site", str(evil))
    assert code == 2
    assert "partition" in err and "not allowed in a job script" in err and "Traceback" not in err
    assert not (tmp_path / "slurm").exists()


def test_submit_without_sbatch_is_a_clear_error(capsys, small_config, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = _cli(capsys, "hpc", "submit", str(small_config), "--site", "local",
                        "--output", str(tmp_path / "run"), "--selftest")
    assert code == 2 and "sbatch not found" in err


def test_submit_uses_sbatch_and_resubmits_only_missing(capsys, small_config, tmp_path, monkeypatch):
    # a fake sbatch that records its arguments and prints job ids, to check what would be submitted
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "sbatch.log"
    fake = bindir / "sbatch"
    fake.write_text(f'#!/bin/bash\necho "$@" >> {log}\nn=$(wc -l < {log})\necho $((100 + n))\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    run = tmp_path / "run"
    code, _, err = _cli(capsys, "hpc", "chunk", str(small_config), "--selftest", "--chunk", "2", "--output", str(run))
    assert code == 0, err
    code, out, err = _cli(capsys, "hpc", "submit", str(small_config), "--site", "local", "--output", str(run),
                          "--selftest")
    assert code == 0, err
    record = json.loads(out.strip().splitlines()[-1])
    assert record == {"array_job_id": "101", "merge_job_id": "102", "tasks": [0, 1, 3], "run_dir": str(run)}
    # what a user needs: where things are and which jobs to watch
    assert "array job 101 (tasks 0-1,3: 3 of 4 chunks)" in out
    assert "merge job 102 (starts after every task of 101 succeeded)" in out
    assert str(run / "slurm" / "array.sbatch") in out and str(run / "slurm" / "merge.sbatch") in out
    assert f"{run / 'logs'}/" in out and "squeue -j 101,102" in out
    assert "#SBATCH --array=0-1,3" in (run / "slurm" / "array.sbatch").read_text()
    merge = (run / "slurm" / "merge.sbatch").read_text()
    assert "#SBATCH --dependency=afterok:101" in merge and "hpc merge" in merge and "--selftest" in merge
    assert log.read_text().splitlines()[0].startswith("--parsable")


@pytest.mark.slow
def test_status_and_selftest_merge(capsys, small_config, tmp_path):
    run = tmp_path / "run"
    for i in range(3):
        assert _cli(capsys, "hpc", "chunk", str(small_config), "--selftest", "--chunk", str(i), "--output", str(run))[0] == 0
    code, out, _ = _cli(capsys, "hpc", "status", str(small_config), "--output", str(run))
    assert code == 0 and "done: 3, missing: 1" in out
    code, _, err = _cli(capsys, "hpc", "merge", str(small_config), "--selftest", "--output", str(run))
    assert code == 2 and "[3]" in err and "missing" in err
    assert _cli(capsys, "hpc", "chunk", str(small_config), "--selftest", "--chunk", "3", "--output", str(run))[0] == 0
    code, out, err = _cli(capsys, "hpc", "merge", str(small_config), "--selftest", "--output", str(run))
    assert code == 0, err
    assert Path(out.strip()) == run / "selftest.zarr"


def test_selftest_chunk_out_of_range(capsys, small_config, tmp_path):
    code, _, err = _cli(capsys, "hpc", "chunk", str(small_config), "--selftest", "--chunk", "9",
                        "--output", str(tmp_path))
    assert code == 2 and "0..3" in err

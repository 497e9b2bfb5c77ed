"""Full disks and read-only output directories: a clear error naming the file, earlier outputs unchanged,
nothing half-written left under a final name. Simulated (monkeypatched writes) everywhere, and for real on
a tiny tmpfs where the tests run as root."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from climmig.cli import main
from climmig.io import writers
from climmig.io.writers import OutputError, write_json, write_netcdf, write_text, write_zarr
from climmig.pipeline.run import run_pipeline

from .fastrun import fast_config


def _ds(n: int = 10) -> xr.Dataset:
    return xr.Dataset({"v": (("x",), np.arange(n, dtype="float64"), {"units": "1"})})


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if ".tmp-" in p.name)


def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("kind", ["netcdf", "zarr", "text"])
def test_disk_full_mid_write_keeps_the_previous_file(tmp_path, monkeypatch, kind) -> None:
    target = tmp_path / {"netcdf": "a.nc", "zarr": "a.zarr", "text": "a.txt"}[kind]
    write = {"netcdf": lambda: write_netcdf(_ds(), target), "zarr": lambda: write_zarr(_ds(), target),
             "text": lambda: write_text("old", target)}[kind]
    write()
    before = sorted(p.name for p in tmp_path.rglob("*"))

    def partial_then_full(self_or_path, path=None, *a, **k):  # write a few bytes, then the disk is full
        tmp = Path(path if path is not None else self_or_path)
        if kind == "zarr":
            (tmp / "v").mkdir(parents=True)
            (tmp / "v" / "0").write_bytes(b"partial")
        else:
            tmp.write_bytes(b"partial")
        _enospc()

    if kind == "text":
        monkeypatch.setattr(writers.os, "fsync", lambda fd: _enospc())
    else:
        monkeypatch.setattr(xr.Dataset, "to_netcdf" if kind == "netcdf" else "to_zarr", partial_then_full)
    with pytest.raises(OutputError, match=f"cannot write {target}: the disk is full; earlier outputs are unchanged"):
        {"netcdf": lambda: write_netcdf(_ds(20), target), "zarr": lambda: write_zarr(_ds(20), target),
         "text": lambda: write_text("new", target)}[kind]()
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before and not _leftovers(tmp_path)
    if kind == "text":
        assert target.read_text() == "old"
    else:
        assert xr.load_dataset(target, engine="netcdf4" if kind == "netcdf" else "zarr").sizes["x"] == 10


def test_read_only_directory_gives_a_clear_error(tmp_path, monkeypatch) -> None:
    write_json({"a": 1}, tmp_path / "a.json")

    def erofs(*_a, **_k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(writers.os, "replace", erofs)
    with pytest.raises(OutputError, match="Read-only file system; earlier outputs are unchanged"):
        write_json({"a": 2}, tmp_path / "a.json")
    monkeypatch.undo()
    assert (tmp_path / "a.json").read_text().strip().endswith("}") and '"a": 1' in (tmp_path / "a.json").read_text()
    assert not _leftovers(tmp_path)


def test_pipeline_on_a_failing_disk_exits_2_and_keeps_the_earlier_run(tmp_path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"
    cfg = fast_config(tmp_path / "cfg", run)
    run_pipeline(cfg, only=["inputs"], progress=False)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    monkeypatch.setattr(writers.os, "replace", lambda *a, **k: _enospc())
    with pytest.raises(SystemExit) as exc:
        main(["run", str(cfg), "--stage", "inputs", "--force", "--no-progress"])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "the disk is full" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@contextlib.contextmanager
def _tmpfs(path: Path, size: str):
    """Mount a tmpfs of ``size`` at ``path`` (root only), unmount on exit."""
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                       check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()[:80]})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_real_full_disk_and_read_only_mount(tmp_path, capsys) -> None:
    with _tmpfs(tmp_path / "disk", "256k") as disk:
        run = disk / "run"
        cfg = fast_config(tmp_path / "cfg", run)
        run_pipeline(cfg, only=["inputs"], progress=False)
        before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
        filler = disk / "filler"
        with contextlib.suppress(OSError), open(filler, "wb", buffering=0) as fh:
            while True:
                fh.write(b"\0" * 4096)
        with pytest.raises(OutputError, match="the disk is full"):
            write_netcdf(_ds(50_000), run / "big.nc")
        with pytest.raises(SystemExit) as exc:
            main(["run", str(cfg), "--stage", "inputs", "--force", "--no-progress"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "disk is full" in err and "Traceback" not in err
        assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
        assert not _leftovers(run) and not (run / "big.nc").exists()
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        for out in (run, disk / "new_run"):  # an existing run and one whose directory cannot be made
            with pytest.raises(SystemExit) as exc:
                main(["run", str(cfg), "--output", str(out), "--stage", "inputs", "--force", "--no-progress"])
            err = capsys.readouterr().err
            assert exc.value.code == 2 and "Read-only file system" in err and "Traceback" not in err
        assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before

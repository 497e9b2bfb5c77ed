"""Safety: YAML is loaded safely; no config or catalog value is evaluated or reaches a shell; catalog path
errors show the resolved path."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

from climmig.catalog import load_catalog
from climmig.config import load_config
from climmig.errors import CatalogError, ConfigError

from ..conftest import CATALOG

PACKAGE = CATALOG.parents[1] / "climmig"
SOURCES = sorted(PACKAGE.rglob("*.py"))
#: Calls that would evaluate text as code or hand it to a shell.
FORBIDDEN = {"eval", "exec", "compile", "os.system", "os.popen", "yaml.load", "yaml.unsafe_load", "yaml.full_load",
             "yaml.load_all", "yaml.unsafe_load_all", "pickle.load", "pickle.loads", "subprocess.getoutput",
             "subprocess.getstatusoutput"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            yield node, _name(node.func)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_code_evaluation_and_no_shell(path: Path) -> None:
    for node, name in _calls(path):
        where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
        assert name not in FORBIDDEN, f"{where}: {name}(...)"
        if name.startswith("subprocess.") or name in {"Popen", "run", "check_output", "check_call"}:
            for kw in node.keywords:
                assert not (kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)), \
                    f"{where}: shell=True"
            if name.startswith("subprocess.") and node.args:
                assert isinstance(node.args[0], ast.List | ast.Name), f"{where}: pass the command as a list"


def test_yaml_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    (tmp_path / "config.yaml").write_text(f"run_id: {payload}\n")
    with pytest.raises(ConfigError, match="line 1"):
        load_config(tmp_path / "config.yaml")
    (tmp_path / "catalog.yaml").write_text(f"entries:\n- id: {payload}\n")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(tmp_path / "catalog.yaml")
    assert not marker.exists()


def test_shell_syntax_in_catalog_paths_is_just_a_missing_file(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    entry = {"id": "x", "title": "x", "format": "csv", "path": f"$(touch {marker}).csv", "license": "CC0",
             "citation": "t", "source": "t"}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    with pytest.raises(CatalogError, match=r"file not found: .*\$\(touch"):
        load_catalog(tmp_path / "catalog.yaml").open("x")
    assert not marker.exists()


@pytest.mark.parametrize("path", ["../data/../missing.csv", "sub/../../missing_*.csv"])
def test_catalog_path_errors_show_the_resolved_path(tmp_path: Path, path: str) -> None:
    (tmp_path / "cat").mkdir()
    entry = {"id": "x", "title": "x", "format": "csv", "path": path, "license": "CC0", "citation": "t", "source": "t"}
    (tmp_path / "cat" / "catalog.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    with pytest.raises(CatalogError) as exc:
        load_catalog(tmp_path / "cat" / "catalog.yaml").open("x")
    shown = str(exc.value)
    assert str(tmp_path.resolve() / path.rsplit("/", 1)[-1]) in shown and ".." not in shown


def test_config_catalog_and_config_file_errors_show_resolved_paths(tmp_path: Path) -> None:
    cfg = yaml.safe_load((CATALOG.parents[1] / "configs" / "demo.yaml").read_text())
    cfg["catalog"] = "../nowhere/../catalog.yaml"
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "c.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "run" / "c.yaml")
    assert f"catalog file not found: {tmp_path.resolve() / 'catalog.yaml'}" in str(exc.value)
    with pytest.raises(ConfigError, match=f"file not found: {tmp_path.resolve() / 'nope.yaml'}"):
        load_config(tmp_path / "run" / ".." / "nope.yaml")
    assert shutil.which("sh")  # the shell exists: the tests above would have run it, had anything used it

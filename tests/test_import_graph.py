"""The modules of ``climmig`` import each other without a cycle.

The graph is built from the source with :mod:`ast`, so nothing is imported. Every ``import`` statement
counts, wherever it stands: at module level, inside a function, or under ``if TYPE_CHECKING:``. An import
deferred into a function only postpones a cycle to call time, and it still means that neither module can be
understood, tested or moved without the other; the issue asks for layers, not for import tricks.

An edge goes to the most specific module named: ``from climmig.mobility import fit`` is an edge to
``climmig.mobility.fit`` when that is a module, and to the package ``climmig.mobility`` (its ``__init__``)
when ``fit`` is a name defined there. Parent packages that Python also initialises on the way are not edges:
otherwise every package ``__init__`` that re-exports its submodules would close a cycle with them.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "climmig"


def _modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file of the package."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: the anchor is the package itself for an __init__, else its parent
                anchor = name.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            # `import climmig.a.b` binds and runs climmig.a.b; a name that is no module falls back to its package
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = _modules(package)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle through each strongly connected component of more than one module.

    Returns
    -------
    list of list of str
        Each cycle as ``[a, b, ..., a]``, sorted for a stable message.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan; the package's depth (~5) is far below the recursion limit
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    cycles = []
    for component in components:
        start = min(component)
        # breadth-first from start back to start, inside the component: a shortest cycle through it
        paths = {w: [start, w] for w in sorted(graph[start] & component)}
        frontier = list(paths)
        while start not in paths:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & component):
                    if w not in paths:
                        paths[w] = paths[v] + [w]
                        nxt.append(w)
            frontier = nxt
        cycles.append(paths[start])
    return sorted(cycles)


def test_the_finder_sees_a_cycle_and_resolves_relative_imports(tmp_path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .sub.b import g\n")  # deferred and relative: still an edge
    (pkg / "sub" / "b.py").write_text("from .. import a\nimport pkg.sub.c as c\n")
    (pkg / "sub" / "c.py").write_text("import os\nfrom pkg import VERSION\n")  # a name: edge to pkg
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a", "pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg"} and graph["pkg"] == {"pkg.sub.b"}
    assert find_cycles(graph) == [["pkg", "pkg.sub.b", "pkg.sub.c", "pkg"]]
    (pkg / "a.py").write_text("")
    (pkg / "sub" / "c.py").write_text("")
    assert find_cycles(import_graph(pkg)) == []


def test_climmig_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles in climmig:\n" + "\n".join(" -> ".join(c) for c in cycles)

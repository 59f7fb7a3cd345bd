"""The house rules of the layout, checked on every module's source.

- ``graphkit`` holds in-memory concepts; ``graphkit.loaders`` everything that
  touches files, servers or caches; ``graphkit.models`` torch modules and their
  runtime. ``graphkit`` outside ``graphkit.cli`` imports neither of the others.
- One concept per module: no module longer than 600 lines.
- No import circle at run time, counting imports inside functions too (not those
  under ``if TYPE_CHECKING:``, which never run).
- No private name (or private module) imported from another module.
- Every module has a docstring and ``__all__``; every package is in the wheel.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import networkx as nx
import pytest
import tomllib

from tests.paths import ROOT

FOLDERS = {"graphkit": "graphkit", "loaders": "graphkit.loaders", "models": "graphkit.models"}
MAX_LINES = 600


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    parts = [FOLDERS[relative.parts[0]], *relative.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found[_module_name(path)] = path
    return found


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(_modules()[name].read_text(encoding="utf-8"))


def _runtime_nodes(tree: ast.AST):
    """Every node that runs on import or call: what ``if TYPE_CHECKING:`` guards is left out."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(name: str, runtime_only: bool = False) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import in the module, functions included.

    With ``runtime_only``, imports under ``if TYPE_CHECKING:`` are left out.
    """
    is_package = _modules()[name].name == "__init__.py"
    found = []
    for node in (_runtime_nodes(_tree(name)) if runtime_only else ast.walk(_tree(name))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            found += [(base, alias.name, node.lineno) for alias in node.names]
    return found


def _targets(module: str, imported: str | None) -> str | None:
    """The graphkit module an import depends on (a submodule when the name is one)."""
    if imported is not None and f"{module}.{imported}" in _modules():
        return f"{module}.{imported}"
    return module if module in _modules() else None


def test_every_module_is_found():
    assert {"graphkit", "graphkit.loaders", "graphkit.models", "graphkit.cli", "graphkit.loaders.neo4j"} <= set(
        _modules()
    )


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_is_short_documented_and_declares_its_api(name):
    path = _modules()[name]
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (> {MAX_LINES}): more than one concept"
    tree = _tree(name)
    if path.name == "__main__.py":
        return
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"
    targets = [target for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
               for target in (node.targets if isinstance(node, ast.Assign) else [node.target])]
    declared = [target for target in targets if isinstance(target, ast.Name) and target.id == "__all__"]
    assert declared, f"{path.relative_to(ROOT)} has no __all__"


def test_type_checking_imports_are_left_out_of_the_circle_check():
    imported = [module for module, _, _ in _imports("graphkit.tree.edges", runtime_only=True)]
    assert "graphkit.tree.batch" not in imported and "graphkit" in imported


def test_graphkit_core_imports_neither_loaders_nor_models():
    offenders = []
    for name in _modules():
        if name.startswith(("graphkit.loaders", "graphkit.models", "graphkit.cli")):
            continue
        for module, _, line in _imports(name):
            if module.startswith(("graphkit.loaders", "graphkit.models")):
                offenders.append(f"{name}:{line} imports {module}")
    assert offenders == []


def test_no_private_name_is_imported_across_modules():
    offenders = []
    for name in _modules():
        for module, imported, line in _imports(name):
            if not module.startswith("graphkit"):
                continue
            private_module = any(part.startswith("_") and part != "__future__" for part in module.split("."))
            private_name = imported is not None and imported.startswith("_") and imported != "__version__"
            if private_module or private_name:
                offenders.append(f"{name}:{line} imports {module}.{imported or ''}")
    assert offenders == []


def test_there_is_no_import_circle():
    graph = nx.DiGraph()
    for name in _modules():
        graph.add_node(name)
        for module, imported, _ in _imports(name, runtime_only=True):
            target = _targets(module, imported)
            if target is not None and target != name:
                graph.add_edge(name, target)
    # A package's __init__ re-exporting its submodules, which import its siblings, is
    # not a circle; a submodule importing its own package back, or two siblings
    # importing each other, is.
    def is_reexport(cycle: list[str]) -> bool:
        return all(b.startswith(a + ".") or a.startswith(b + ".") for a, b in zip(cycle, cycle[1:] + cycle[:1]))

    cycles = [cycle for cycle in nx.simple_cycles(graph) if not is_reexport(cycle)]
    assert cycles == []


def test_every_package_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    packages = {name for name, path in _modules().items() if path.name == "__init__.py"}
    assert packages <= listed, f"missing from pyproject.toml: {sorted(packages - listed)}"
    assert config["package-dir"] == {"graphkit": "graphkit", "graphkit.loaders": "loaders",
                                     "graphkit.models": "models"}

"""The package's import graph points one way (see ARCHITECTURE.md).

Every import of a ``falco_lab`` module by another, at module level, inside a function or
under ``TYPE_CHECKING``, must go from a higher layer to a lower or the same one.  Siblings
in one layer do not import each other, so simulate mode and cluster mode stay two
implementations of one contract.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "falco_lab"

#: Lowest first.  Each entry is a layer; each name is a top-level module or package of
#: ``falco_lab``.  A module may import its own unit, and any unit of a lower layer.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"cache", "errors", "priorities"}),
    frozenset({"events"}),
    frozenset({"capture"}),
    frozenset({"rules"}),
    frozenset({"workshop"}),
    frozenset({"simulate", "cluster", "analysis"}),
    frozenset({"lab"}),
    frozenset({"cli", "__init__"}),
    frozenset({"__main__"}),
)


def _rank(unit: str) -> int:
    for rank, layer in enumerate(LAYERS):
        if unit in layer:
            return rank
    raise AssertionError(f"falco_lab.{unit} belongs to no layer: add it to LAYERS in {__file__}")


def _unit(module_path: Path) -> str:
    relative = module_path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imported_units(tree: ast.AST, module_path: Path) -> set[str]:
    units: set[str] = set()
    package_parts = list(module_path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if module_path.name != "__init__.py":
        package_parts = package_parts[:-1]
    else:
        package_parts = package_parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if (
                parts[0] == "falco_lab"
                and len(parts) > 1
                and (PACKAGE / parts[1]).exists()
                or (parts[0] == "falco_lab" and len(parts) > 1 and (PACKAGE / f"{parts[1]}.py").exists())
            ):
                units.add(parts[1])
    return units


def _edges() -> set[tuple[str, str, str]]:
    edges: set[tuple[str, str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _unit(path)
        for target in _imported_units(ast.parse(path.read_text(encoding="utf-8")), path):
            if target != source:
                edges.add((source, target, str(path.relative_to(PACKAGE.parent))))
    return edges


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {_unit(path) for path in PACKAGE.rglob("*.py")}
    unplaced = sorted(unit for unit in units if not any(unit in layer for layer in LAYERS))
    assert unplaced == [], f"add these to LAYERS: {unplaced}"


def test_imports_point_down_the_layers() -> None:
    wrong = sorted(
        f"{where}: falco_lab.{source} imports falco_lab.{target}"
        for source, target, where in _edges()
        if _rank(target) >= _rank(source)
    )
    assert wrong == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from falco_lab.rules.errors import RuleError", {"rules"}),
        ("import falco_lab.events.schema", {"events"}),
        ("from falco_lab import errors", {"errors"}),
        ("def f():\n    from falco_lab.cluster import connect", {"cluster"}),
    ],
)
def test_the_walker_sees_every_form_of_import(source: str, expected: set[str]) -> None:
    assert _imported_units(ast.parse(source), PACKAGE / "lab" / "x.py") == expected

"""The rules engine's internal structure: no lazy imports, and modules import one way only.

The order below is the one documented in ``falco_lab/rules/__init__.py``: a module may import
modules of its own group or of an earlier group, never of a later one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import falco_lab.rules

PACKAGE = Path(falco_lab.rules.__file__).resolve().parent

#: Lowest first: groups of modules (dotted, relative to falco_lab.rules; a package name covers
#: its modules).
ORDER: tuple[frozenset[str], ...] = (
    frozenset({"codes"}),
    frozenset({"errors"}),
    frozenset({"fields", "transformers"}),
    frozenset({"operators"}),
    frozenset({"frontend"}),
    frozenset({"ir"}),
    frozenset({"resolvers"}),
    frozenset({"evaluators"}),
    frozenset({"compiler"}),
    frozenset({"output"}),
    frozenset({"loading"}),
    frozenset({"ruleset"}),
    frozenset({"loading.loader"}),
    frozenset({"fetch"}),
    frozenset({"cli", "__init__"}),
)

#: Function-level imports still allowed, with the reason.
LAZY_ALLOWED = {
    "fetch": "requests is imported only when downloading (fetch.py is reworked by the packaging change)",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)
        out[name] = path
    return out


def _rank(module: str) -> int:
    best = -1
    best_len = -1
    for rank, group in enumerate(ORDER):
        for prefix in group:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = rank, len(prefix)
    assert best >= 0, f"falco_lab.rules.{module} belongs to no group: add it to ORDER in {__file__}"
    return best


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported falco_lab.rules module, whether at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports under a module-level try/if count as module level
        if isinstance(node, ast.Try | ast.If):
            top_level.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("falco_lab.rules."):
                found.append((name.removeprefix("falco_lab.rules."), id(node) in top_level))
            elif not name.startswith("falco_lab"):
                found.append(("<external>" + name, id(node) in top_level))
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def test_every_module_has_a_group() -> None:
    for module in _modules():
        _rank(module)


def test_no_function_level_import_inside_the_rules_engine() -> None:
    lazy = []
    for module, path in _modules().items():
        if module in LAZY_ALLOWED:
            continue
        lazy += [f"{module}: {name}" for name, top in _imports(path) if not top]
    assert lazy == []


def test_modules_import_only_their_own_or_earlier_groups() -> None:
    modules = _modules()
    wrong = []
    for module, path in modules.items():
        for name, _ in _imports(path):
            target = _resolve(name, modules) if not name.startswith("<external>") else None
            if target is not None and target != module and _rank(target) > _rank(module):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_module_imports_have_no_cycle() -> None:
    modules = _modules()
    graph = {
        module: {
            t
            for name, _ in _imports(path)
            if not name.startswith("<external>") and (t := _resolve(name, modules)) not in (None, module)
        }
        for module, path in modules.items()
    }
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, stack: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*stack, node, nxt])
                return True
            if nxt not in state and visit(nxt, [*stack, node]):
                return True
        state[node] = 2
        return False

    for module in sorted(graph):
        if module not in state and visit(module, []):
            break
    assert cycle == []

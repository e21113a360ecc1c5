"""The project's own set-up: two commands, CI, declared dependencies."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_ci_runs_make_test() -> None:
    lines = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()]
    assert "set -euo pipefail" in lines
    assert "make test" in lines


def test_makefile_has_the_user_targets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "lab", "bench"):
        assert re.search(rf"^{target}: \$\(STAMP\)", makefile, re.M), f"make {target} must bootstrap .venv"


def test_readme_names_the_two_commands_first() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make lab")
    assert readme.index("make test") < readme.index("make lab")


def test_console_script_points_at_the_cli() -> None:
    assert _pyproject()["project"]["scripts"]["falco-lab"] == "falco_lab.cli:main"


def test_environment_yml_mirrors_pyproject() -> None:
    project = _pyproject()["project"]
    wanted = {_requirement_name(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    listed = {_requirement_name(s) for s in pip_section if not s.startswith("-")}
    assert listed == wanted


def _third_party_imports() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "falco_lab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "falco_lab"}


# import name -> distribution name where they differ
_DISTRIBUTION = {
    "yaml": "pyyaml",
    "kubernetes_validate": "kubernetes-validate",
    "websocket": "websocket-client",
}
# imported by the package but provided by a declared dependency
_PROVIDED_BY = {"numpy": "pandas", "urllib3": "kubernetes", "nbclient": "papermill", "jinja2": "jupyterlab"}


def test_every_imported_package_is_declared() -> None:
    project = _pyproject()["project"]
    declared = {_requirement_name(s) for s in project["dependencies"]}
    missing = set()
    for name in _third_party_imports():
        dist = _DISTRIBUTION.get(name, name).lower().replace("_", "-")
        if dist not in declared and _PROVIDED_BY.get(name) not in declared:
            missing.add(name)
    assert not missing, f"imported by falco_lab but not declared in pyproject dependencies: {sorted(missing)}"


def test_make_test_runs_lint_format_and_type_checks_before_pytest() -> None:
    makefile = (ROOT / "Makefile").read_text()
    prerequisites = re.search(r"^test: (.*)$", makefile, re.M)
    assert prerequisites, "Makefile has no test target"
    for target in ("lint", "format-check", "typecheck"):
        assert target in prerequisites.group(1).split(), f"make test must depend on {target}"
    assert re.search(r"^typecheck: .*\n\t.*mypy falco_lab$", makefile, re.M)
    assert re.search(r"^format-check: .*\n\t.*ruff format --check", makefile, re.M)


def test_mypy_is_strict_for_the_rules_engine_only() -> None:
    mypy = _pyproject()["tool"]["mypy"]
    assert "strict" not in mypy, "the defaults apply outside falco_lab.rules"
    rules = [o for o in mypy["overrides"] if "falco_lab.rules.*" in o["module"]]
    assert len(rules) == 1
    # what `--strict` enables per module (strict = true in an override would apply globally)
    for flag in (
        "disallow_untyped_defs",
        "disallow_any_generics",
        "disallow_untyped_calls",
        "warn_return_any",
    ):
        assert rules[0].get(flag) is True, flag


def test_pre_commit_runs_ruff_check_ruff_format_and_codespell_with_the_project_tools() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    entries = {hook["entry"].split(" --")[0] for hook in hooks}
    assert entries == {"ruff check", "ruff format", "codespell"}
    assert {hook["language"] for hook in hooks} == {"system"}


def test_make_lint_runs_codespell() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint = re.search(r"^lint: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert lint and "codespell $(CHECKED)" in lint.group(1)


def test_architecture_names_every_layer_of_the_import_test() -> None:
    from tests.test_layers import LAYERS

    text = (ROOT / "ARCHITECTURE.md").read_text()
    missing = [unit for layer in LAYERS for unit in layer if f"`{unit}`" not in text]
    assert not missing, f"ARCHITECTURE.md does not place {missing} in a layer"


def test_contributing_recipes_name_code_that_exists() -> None:
    from falco_lab.analysis.findings import register_finder
    from falco_lab.rules.operators import OPERATORS
    from falco_lab.simulate.tools import register_tool

    text = (ROOT / "CONTRIBUTING.md").read_text()
    for name in ("register_tool", "register_finder", "OPERATORS", "gen_catalogue.py", "nbval-check-output"):
        assert name in text, name
    assert callable(register_tool) and callable(register_finder) and OPERATORS
    assert (ROOT / "tools" / "gen_catalogue.py").is_file()

"""The committed notebooks are clean, in sync with their sources, and declare literal parameters."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import papermill
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = (
    "01_install_falco",
    "02_rules_and_macros",
    "03_trigger_test_pods",
    "04_analyze_events",
    "05_incident_postmortem",
)
CHECK_TAG = "nbval-check-output"
ALLOWED_CELL_METADATA = {"tags"}
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info"}


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_five_workshop_notebooks_are_there() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == list(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_matches_its_source(name: str) -> None:
    builder = _builder()
    problems = builder.differences(builder.SOURCES / f"{name}.py", NOTEBOOKS / f"{name}.ipynb")
    assert problems == [], "edit notebooks/*.py (or the notebook in JupyterLab), then run make notebooks"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_one_parameters_cell_of_literals(name: str) -> None:
    cells = [c for c in _load(name)["cells"] if "parameters" in _tags(c)]
    assert len(cells) == 1
    tree = ast.parse("".join(cells[0]["source"]))
    names = []
    for statement in tree.body:
        assert isinstance(statement, ast.Assign) and len(statement.targets) == 1, ast.dump(statement)
        ast.literal_eval(statement.value)  # raises on anything but a literal
        names.append(statement.targets[0].id)
    assert names[0] == "mode"
    # papermill reads the same names (it stumbles over some comment styles; this catches it)
    assert list(papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))) == names


@pytest.mark.parametrize("name", NAMES)
def test_notebook_defaults_to_simulate_mode_and_shows_the_banner(name: str) -> None:
    cells = _load(name)["cells"]
    parameters = next(c for c in cells if "parameters" in _tags(c))
    assert "".join(parameters["source"]).startswith('mode = "simulate"')
    code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "nb.setup(mode)" in code


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_clean(name: str) -> None:
    notebook = _load(name)
    assert set(notebook["metadata"]) <= ALLOWED_NOTEBOOK_METADATA
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in notebook["cells"]:
        assert set(cell.get("metadata", {})) <= ALLOWED_CELL_METADATA, cell["id"]
        if cell["cell_type"] != "code":
            continue
        if CHECK_TAG in _tags(cell):
            assert cell["outputs"], f"{cell['id']}: checked cell without stored output"
            assert isinstance(cell["execution_count"], int), cell["id"]
            for output in cell["outputs"]:
                assert output.get("output_type") != "error", cell["id"]
        else:
            assert cell["outputs"] == [], f"{cell['id']}: output in an unchecked cell"
            assert cell["execution_count"] is None, cell["id"]


def test_an_edit_to_a_source_that_the_notebook_lacks_is_reported(tmp_path: Path) -> None:
    builder = _builder()
    source = tmp_path / "02_rules_and_macros.py"
    source.write_text(
        (NOTEBOOKS / "02_rules_and_macros.py").read_text(encoding="utf-8") + '\n# %%\nprint("new cell")\n',
        encoding="utf-8",
    )
    problems = builder.differences(source, NOTEBOOKS / "02_rules_and_macros.ipynb")
    assert any("cells, source has" in problem for problem in problems)


def test_the_sources_are_read_with_jupytext_as_jupyterlab_pairs_them(tmp_path: Path) -> None:
    builder = _builder()
    source = tmp_path / "99_x.py"
    source.write_text('# %% [markdown]\n# # Title\n\n# %% tags=["parameters"]\nmode = "simulate"\n', encoding="utf-8")
    cells = builder.parse_source(source)
    assert [(c["type"], c["source"], c["tags"]) for c in cells] == [
        ("markdown", "# Title", []),
        ("code", 'mode = "simulate"', ["parameters"]),
    ]
    assert (ROOT / "jupytext.toml").read_text(encoding="utf-8").count('formats = "ipynb,py:percent"') == 1

"""Build the workshop notebooks from their readable sources, clean.

The sources live next to the notebooks, ``notebooks/NN_name.py``, in jupytext's
"percent" form (``jupytext.toml`` pairs them with the ``.ipynb`` in JupyterLab)::

    # %% [markdown]
    # # A title
    # Some text.

    # %% tags=["parameters"]
    mode = "simulate"

    # %% tags=["nbval-check-output"]
    print("checked by nbval")

``make notebooks`` (``python tools/build_notebooks.py``) writes ``notebooks/NN_name.ipynb`` for each source:
no outputs, no execution counts, fixed cell ids and minimal metadata.  Cells tagged
``nbval-check-output`` are the exception: the notebook is executed once with papermill
(its default parameters, from ``notebooks/``) and those cells keep their outputs and
execution counts, which is what ``pytest --nbval-lax`` compares.

The checked outputs depend on the upstream rulesets the notebooks find, so both this
builder and the nbval test pin them: ``FALCO_LAB_RULES_DIR`` is set to the reference copies
in ``../shared/upstream`` (or ``$FALCO_LAB_SHARED/upstream``); likewise ``FALCO_LAB_CAPTURES_DIR``
to ``../shared/captures`` for the captures they replay.

``python tools/build_notebooks.py --check`` exits 1 when a committed notebook differs
from its source (outputs of checked cells aside); the notebook tests call the same code.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS

CHECK_TAG = "nbval-check-output"
#: The upstream rulesets the checked outputs are computed with.
UPSTREAM_RULES = Path(os.environ.get("FALCO_LAB_SHARED", ROOT.parent / "shared")) / "upstream"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
NOTEBOOK_METADATA = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}


class SourceError(ValueError):
    """A notebook source file is malformed (message carries file and line)."""


def parse_source(path: Path) -> list[dict[str, Any]]:
    """Read a py:percent source with jupytext: ``[{"type", "source", "tags", "line"}]``.

    jupytext is what JupyterLab uses to pair the ``.py`` with its ``.ipynb``
    (``jupytext.toml``), so what the builder reads is what an edit in JupyterLab writes.
    """
    text = path.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent")
    markers = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith("# %%")]
    cells: list[dict[str, Any]] = []
    for index, cell in enumerate(notebook.cells):
        line = markers[index] if index < len(markers) else 0
        if not cell.source.strip():
            raise SourceError(f"{path}:{line}: empty cell")
        tags = cell.metadata.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise SourceError(f"{path}:{line}: tags must be a list of strings")
        cells.append({"type": cell.cell_type, "source": cell.source, "tags": list(tags), "line": line})
    if len(markers) != len(cells):
        raise SourceError(
            f"{path}: {len(markers)} '# %%' markers but {len(cells)} cells (text outside a cell?)"
        )
    return cells


def build_notebook(path: Path) -> nbformat.NotebookNode:
    """The clean notebook for one source file (no outputs anywhere)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(NOTEBOOK_METADATA)
    stem = path.stem.split("_", 1)[0]
    for index, cell in enumerate(parse_source(path), start=1):
        metadata = {"tags": cell["tags"]} if cell["tags"] else {}
        if cell["type"] == "markdown":
            node = nbformat.v4.new_markdown_cell(cell["source"], metadata=metadata)
        else:
            node = nbformat.v4.new_code_cell(cell["source"], metadata=metadata)
        node.id = f"nb{stem}-{index:02d}"
        nb.cells.append(node)
    nbformat.validate(nb)
    return nb


def _checked(cell: Any) -> bool:
    return CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def fill_checked_outputs(nb: nbformat.NotebookNode, notebook_dir: Path, timeout: int = 600) -> None:
    """Execute ``nb`` once (default parameters) and keep outputs only of the checked cells."""
    import papermill

    if not any(_checked(c) for c in nb.cells):
        return
    if not (UPSTREAM_RULES / "falco_rules.yaml").is_file():
        raise SystemExit(f"{UPSTREAM_RULES}: upstream rulesets not found; set FALCO_LAB_SHARED")
    os.environ["FALCO_LAB_RULES_DIR"] = str(UPSTREAM_RULES)
    if (UPSTREAM_RULES.parent / "captures").is_dir():  # the public captures the notebooks replay
        os.environ["FALCO_LAB_CAPTURES_DIR"] = str(UPSTREAM_RULES.parent / "captures")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.ipynb"
        target = Path(tmp) / "out.ipynb"
        nbformat.write(nb, source)
        papermill.execute_notebook(
            str(source),
            str(target),
            kernel_name="python3",
            cwd=str(notebook_dir),
            progress_bar=False,
            execution_timeout=timeout,
        )
        executed = {cell.get("id"): cell for cell in nbformat.read(target, as_version=4).cells}
    for cell in nb.cells:
        if cell.cell_type == "code" and _checked(cell):
            ran = executed[cell.id]
            outputs = []
            for output in ran.get("outputs", []):
                output = copy.deepcopy(output)
                output.pop("transient", None)
                outputs.append(output)
            cell.outputs = outputs
            cell.execution_count = ran.get("execution_count")


def strip_checked_outputs(nb: Any) -> Any:
    """A copy of ``nb`` without any outputs or execution counts (for comparing structure)."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def differences(source: Path, notebook: Path) -> list[str]:
    """How the committed ``notebook`` differs from what ``source`` builds (outputs aside)."""
    if not notebook.exists():
        return [f"{notebook}: missing (run python tools/build_notebooks.py)"]
    built = strip_checked_outputs(json.loads(nbformat.writes(build_notebook(source))))
    committed = strip_checked_outputs(json.loads(notebook.read_text(encoding="utf-8")))
    problems = []
    if built["metadata"] != committed.get("metadata"):
        problems.append(f"{notebook}: notebook metadata differs from {source}")
    if len(built["cells"]) != len(committed.get("cells", [])):
        problems.append(
            f"{notebook}: {len(committed.get('cells', []))} cells, source has {len(built['cells'])}"
        )
    for want, have in zip(built["cells"], committed.get("cells", []), strict=False):
        if want != have:
            problems.append(f"{notebook}: cell {want['id']} differs from {source}")
    return problems


def sources(names: list[str] | None = None) -> list[Path]:
    paths = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if names:
        paths = [p for p in paths if p.stem in names or p.name in names]
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these notebooks (e.g. 02_rules_and_macros)")
    parser.add_argument("--check", action="store_true", help="compare committed notebooks with sources")
    parser.add_argument("--no-execute", action="store_true", help="do not execute to fill checked cells")
    args = parser.parse_args(argv)
    problems: list[str] = []
    for source in sources(args.names):
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        if args.check:
            problems.extend(differences(source, target))
            continue
        nb = build_notebook(source)
        if not args.no_execute:
            fill_checked_outputs(nb, NOTEBOOKS)
        nbformat.validate(nb)
        target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

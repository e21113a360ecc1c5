"""falco_lab.lab.nb: recorded values, error listing, figure summaries."""

from __future__ import annotations

import json

import nbformat
import papermill
import plotly.graph_objects as go
import pytest

from falco_lab.lab import nb


def _notebook_with_outputs(*outputs: dict) -> dict:
    return {"cells": [{"cell_type": "code", "source": "", "outputs": list(outputs)}], "metadata": {}}


def _record_output(name: str, value: object) -> dict:
    return {
        "output_type": "display_data",
        "data": {"text/html": "", "text/plain": ""},
        "metadata": {nb.RECORD_KEY: {"name": name, "value": value}},
    }


def test_read_records_returns_values_by_name() -> None:
    notebook = _notebook_with_outputs(_record_output("alerts", 3), _record_output("rules", ["a", "b"]))
    assert nb.read_records(notebook) == {"alerts": 3, "rules": ["a", "b"]}


def test_read_records_keeps_the_last_value_of_a_name() -> None:
    notebook = _notebook_with_outputs(_record_output("alerts", 3), _record_output("alerts", 5))
    assert nb.read_records(notebook) == {"alerts": 5}


def test_read_records_ignores_ordinary_json_outputs() -> None:
    plain = {"output_type": "display_data", "data": {"application/json": {"name": "a", "value": 1}}, "metadata": {}}
    assert nb.read_records(_notebook_with_outputs(plain)) == {}


def test_read_records_names_a_file_that_is_not_a_notebook(tmp_path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(nb.NotebookRecordError, match=r"broken\.ipynb:1:"):
        nb.read_records(path)


def test_record_rejects_values_that_are_not_json() -> None:
    with pytest.raises(nb.NotebookRecordError, match="'when'.*datetime"):
        nb.record("when", __import__("datetime").datetime(2026, 1, 1))


def test_record_rejects_nan() -> None:
    with pytest.raises(nb.NotebookRecordError, match="'ratio'"):
        nb.record("ratio", float("nan"))


def test_cell_errors_lists_error_outputs() -> None:
    error = {"output_type": "error", "ename": "KeyError", "evalue": "'x'", "traceback": []}
    assert nb.cell_errors(_notebook_with_outputs(error)) == [
        {"cell": 0, "ename": "KeyError", "evalue": "'x'"}
    ]


def test_setup_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="'live'"):
        nb.setup("live")


def test_figure_summary_counts_points_and_totals() -> None:
    fig = go.Figure([go.Bar(name="Warning", x=["a", "b"], y=[2, 3]), go.Bar(name="Notice", x=["a"], y=[1])])
    fig.update_layout(title="Alerts by rule")
    assert nb.figure_summary(fig) == {
        "title": "Alerts by rule",
        "traces": [
            {"name": "Warning", "type": "bar", "points": 2, "total": 5},
            {"name": "Notice", "type": "bar", "points": 1, "total": 1},
        ],
    }


def test_figure_summary_reads_horizontal_bars_from_x() -> None:
    fig = go.Figure(go.Bar(x=[4, 6], y=["r1", "r2"], orientation="h"))
    assert nb.figure_summary(fig)["traces"][0]["total"] == 10


def test_yaml_blocks_split_a_file_at_top_level_keys() -> None:
    text = "# header\n\n# the driver\ndriver:\n  kind: modern_ebpf\n\n# output\ntty: true\n"
    blocks = nb.yaml_blocks(text)
    assert [(b.key, b.line) for b in blocks] == [("driver", 4), ("tty", 8)]
    assert blocks[0].text == "# the driver\ndriver:\n  kind: modern_ebpf"
    assert blocks[1].comment == "output"


def test_record_round_trip_through_a_real_kernel(tmp_path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "from falco_lab.lab import nb\nnb.record('tests', {'shell': {'detected': True}})"
        )
    )
    source, target = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(notebook, source)
    papermill.execute_notebook(str(source), str(target), kernel_name="python3", progress_bar=False)
    assert nb.read_records(target) == {"tests": {"shell": {"detected": True}}}
    outputs = json.loads(target.read_text())["cells"][0]["outputs"]
    assert all("".join(text) == "" for text in outputs[0]["data"].values())  # nothing shows on the page


def test_yaml_block_preview_cuts_long_blocks() -> None:
    block = nb.yaml_blocks("customRules:\n" + "".join(f"  line{i}: x\n" for i in range(10)))[0]
    assert block.preview(max_lines=3).splitlines() == [
        "customRules:",
        "  line0: x",
        "  line1: x",
        "    ... (8 more lines of customRules)",
    ]


RULES_TEXT = """\
- list: shells
  items: [sh]

# The rule below
- rule: Shell
  desc: a shell
  condition: proc.name in (shells)

# next
- macro: m
  condition: evt.type = execve
"""


def test_yaml_item_returns_the_item_as_written() -> None:
    assert (
        nb.yaml_item(RULES_TEXT, "rule", "Shell")
        == "- rule: Shell\n  desc: a shell\n  condition: proc.name in (shells)"
    )


def test_yaml_item_names_what_is_missing() -> None:
    with pytest.raises(KeyError, match="no '- rule: Nope' item"):
        nb.yaml_item(RULES_TEXT, "rule", "Nope")

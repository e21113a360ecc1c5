"""The ``make run`` runner (falco_lab.lab.runner) on tiny throw-away notebooks, and the helpers notebooks share."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from falco_lab.lab import nb, runner
from falco_lab.workshop import steps


def _write_notebook(path: Path, *sources: str, parameters: str = "mode = 'simulate'\nout_dir = '.'") -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in sources)
    nbformat.write(notebook, path)


def test_parse_parameters_reads_literals_and_text() -> None:
    assert runner.parse_parameters(["seed=7", "mode=simulate", "sizes=[1, 2]"]) == {
        "seed": 7,
        "mode": "simulate",
        "sizes": [1, 2],
    }


def test_parse_parameters_rejects_a_missing_equals_sign() -> None:
    with pytest.raises(ValueError, match="'seed' is not NAME=VALUE"):
        runner.parse_parameters(["seed"])


def test_find_notebooks_filters_by_prefix(tmp_path) -> None:
    for name in ("01_a.ipynb", "02_b.ipynb", "10_c.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in runner.find_notebooks(tmp_path, ["02", "10_c"])] == ["02_b.ipynb", "10_c.ipynb"]


def test_run_reports_a_failing_notebook_and_the_missing_report(tmp_path) -> None:
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_ok.ipynb", "from falco_lab.lab import nb\nnb.record('rules_loaded', 4)")
    _write_notebook(notebooks / "02_bad.ipynb", "raise RuntimeError('boom')")
    run = runner.run_workshop(tmp_path / "build", notebooks_dir=notebooks, log=lambda *_: None)
    assert [n.ok for n in run.notebooks] == [True, False]
    assert "RuntimeError: boom" in run.notebooks[1].error
    assert not run.report_written and not run.ok
    text = "\n".join(runner.summary_lines(run))
    assert "02_bad" in text and "FAILED" in text
    assert "4 rules loaded" in text
    assert "tests:   not recorded" in text
    assert "report.html was NOT written" in text


def test_run_passes_only_declared_parameters_and_finds_the_report(tmp_path) -> None:
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _write_notebook(
        notebooks / "05_report.ipynb",
        "from pathlib import Path\nfrom falco_lab.lab import nb\n"
        "p = Path(out_dir) / 'report.html'\np.write_text('<html></html>')\n"
        "nb.record('report_path', str(p))\nnb.record('mode', mode)",
    )
    run = runner.run_workshop(
        tmp_path / "build", notebooks_dir=notebooks, parameters={"seed": 3}, log=lambda *_: None
    )
    assert run.ok and run.report_written
    assert run.notebooks[0].parameters == {"mode": "simulate", "out_dir": str((tmp_path / "build").resolve())}
    assert (tmp_path / "build" / "notebooks" / "05_report.ipynb").exists()


def test_each_executed_notebook_gets_an_html_copy_with_its_outputs(tmp_path) -> None:
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_ok.ipynb", "print('hello from the kernel')")
    runner.run_workshop(tmp_path / "build", notebooks_dir=notebooks, log=lambda *_: None)
    html = (tmp_path / "build" / "notebooks" / "01_ok.html").read_text(encoding="utf-8")
    assert "hello from the kernel" in html


def test_main_exits_non_zero_when_a_notebook_fails(tmp_path, capsys) -> None:
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_bad.ipynb", "1 / 0")
    code = runner.main(["run", "--out", str(tmp_path / "build"), "--notebooks", str(notebooks)])
    assert code == 1
    assert "ZeroDivisionError" in capsys.readouterr().out


def _steps():
    import pandas as pd

    return pd.DataFrame(
        {
            "test": ["shell", "shell", "etc"],
            "pod": ["p-shell", "p-shell", "p-etc"],
            "namespace": ["falco-lab"] * 3,
            "expected_rules": [["Shell TTY"], ["Shell no TTY"], ["Etc mounted"]],
        }
    )


def test_alerts_per_test_attributes_alerts_by_pod() -> None:
    import pandas as pd

    alerts = pd.DataFrame(
        {
            "rule": ["Shell TTY", "Shell no TTY", "Etc mounted", "Etc mounted"],
            "k8s.pod.name": ["p-shell", "p-shell", "p-etc", "p-etc"],
            "k8s.ns.name": ["falco-lab", "falco-lab", "falco-lab", "other"],
        }
    )
    table = steps.alerts_per_test(_steps(), alerts)
    assert table[["test", "alerts", "detected"]].values.tolist() == [["shell", 2, True], ["etc", 1, True]]


def test_alerts_per_test_names_the_missing_rule() -> None:
    import pandas as pd

    alerts = pd.DataFrame({"rule": ["Shell TTY"], "k8s.pod.name": ["p-shell"], "k8s.ns.name": ["falco-lab"]})
    table = steps.alerts_per_test(_steps(), alerts).set_index("test")
    assert not table.loc["shell", "detected"]
    assert table.loc["shell", "missing"] == ["Shell no TTY"]
    assert table.loc["etc", "alerts"] == 0


def test_alerts_per_test_without_pod_fields_detects_nothing() -> None:
    import pandas as pd

    table = steps.alerts_per_test(_steps(), pd.DataFrame({"rule": ["Shell TTY"]}))
    assert not table["detected"].any()


def test_rules_choice_without_upstream_is_the_project_file_alone() -> None:
    choice = nb.rules_choice("", use_upstream_rules=False)
    assert [p.name for p in choice.paths] == ["falco-lab_rules.yaml"]
    assert choice.description.startswith("the project's own rules alone")


def test_rules_choice_finds_upstream_rulesets_in_a_directory() -> None:
    from tests.conftest import shared_file

    upstream = shared_file("upstream/falco_rules.yaml").parent
    choice = nb.rules_choice(str(upstream))
    assert [p.name for p in choice.paths] == [
        "falco_rules.yaml",
        "falco-incubating_rules.yaml",
        "falco-sandbox_rules.yaml",
        "falco-lab_rules.yaml",
        "falco-lab_upstream-tuning.yaml",
    ]
    assert choice.paths[0].parent == upstream
    assert "upstream" in choice.description


def test_rules_choice_says_plainly_when_no_upstream_ruleset_is_found(monkeypatch) -> None:
    from falco_lab.rules.fetch import UpstreamRulesNotFound
    from falco_lab.simulate import detect

    def nowhere(*_args, **_kwargs):
        raise UpstreamRulesNotFound("upstream rules not found")

    monkeypatch.setattr(detect, "find_upstream_rules", nowhere)
    choice = nb.rules_choice("")
    assert [p.name for p in choice.paths] == ["falco-lab_rules.yaml"]
    assert "no upstream ruleset found" in choice.description


RULES_BEFORE = """\
- rule: Shell
  desc: d
  condition: evt.type = execve and proc.name = sh
  output: shell %proc.cmdline
  priority: WARNING
"""

RULES_AFTER = """\
- rule: Shell
  desc: d
  condition: evt.type = execve and proc.name = sh and not proc.cmdline startswith "sh -c probe"
  output: shell %proc.cmdline
  priority: WARNING

- rule: Curl
  desc: d
  condition: evt.type = execve and proc.name = curl
  output: curl %proc.cmdline
  priority: NOTICE
"""


def test_compare_rulesets_counts_added_and_removed_alerts_per_rule() -> None:
    from falco_lab.rules import load_rules_text

    events = [
        {"evt.type": "execve", "evt.time": 1_000, "proc.name": "sh", "proc.cmdline": "sh -c probe"},
        {"evt.type": "execve", "evt.time": 2_000, "proc.name": "sh", "proc.cmdline": "sh -i"},
        {"evt.type": "execve", "evt.time": 3_000, "proc.name": "curl", "proc.cmdline": "curl x"},
    ]
    table = nb.compare_rulesets(load_rules_text(RULES_BEFORE), load_rules_text(RULES_AFTER), events)
    assert table.to_dict("records") == [
        {"rule": "Curl", "before": 0, "after": 1, "added": 1, "removed": 0},
        {"rule": "Shell", "before": 2, "after": 1, "added": 0, "removed": 1},
    ]


def test_summary_reads_tests_alerts_and_files_from_the_records(tmp_path) -> None:
    report = tmp_path / "report.html"
    report.write_text("x" * 2048)
    records = {
        "mode": "simulate",
        "rules_loaded": 97,
        "rules_source": "upstream stable rulesets and the project's rules",
        "tests": {"shell": {"detected": True, "alerts": 4}, "etc": {"detected": False, "alerts": 0}},
        "test_alerts": 4,
        "events_loaded": 90,
        "incident_alerts": 140,
        "findings": ["[Critical] something"],
    }
    run = runner.WorkshopRun(
        out=tmp_path,
        notebooks=[runner.NotebookRun("01_x", tmp_path / "a", tmp_path / "b", {}, 1.0, "", records)],
        seconds=3.0,
        report=report,
        report_written=True,
    )
    text = "\n".join(runner.summary_lines(run))
    assert "97 rules loaded from upstream stable rulesets and the project's rules" in text
    assert "tests:   1/2 detected; shell: detected (4 alerts), etc: NOT detected (0 alerts)" in text
    assert "4 from the three tests (03); 90 events analysed (04); 140 in the post-mortem window (05)" in text
    assert "(2 kB)" in text and "result:    OK" in text

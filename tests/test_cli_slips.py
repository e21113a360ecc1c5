"""``falco-lab`` command-line slips (issue 13, item 8): each says what is wrong and where."""

from __future__ import annotations

import pytest

from falco_lab.cli import main


def test_report_on_a_file_with_no_alerts_says_so_and_exits_non_zero(tmp_path, capsys) -> None:
    empty = tmp_path / "alerts.jsonl"
    empty.write_text("")
    assert main(["report", str(empty), "-o", str(tmp_path / "r.html")]) == 1
    assert f"no alerts in {empty}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["simulate", "--out", "a.jsonl", "--bogus"], "usage: falco-lab simulate "),
        (["rules", "validate", "x.yaml", "--bogus"], "usage: falco-lab rules validate "),
        (["cluster", "manifests", "--bogus"], "usage: falco-lab cluster manifests "),
    ],
)
def test_a_wrong_flag_prints_the_usage_of_its_subcommand(argv, usage, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert "error: unrecognized arguments: --bogus" in err


def test_validate_with_an_undefined_macro_hints_at_loading_its_file_first(tmp_path, capsys) -> None:
    macros = tmp_path / "macros.yaml"
    macros.write_text("- macro: is_nc\n  condition: proc.name = nc\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- rule: Netcat\n  desc: nc ran\n  condition: evt.type = execve and is_nc\n"
        "  output: nc (%proc.cmdline)\n  priority: WARNING\n"
    )
    assert main(["rules", "validate", str(rules), str(macros)]) == 1
    captured = capsys.readouterr()
    assert "Undefined macro 'is_nc' used in filter." in captured.out  # Falco's own message, unchanged
    assert (
        f"hint: macro 'is_nc' is defined in {macros}; Falco loads files in the order given: "
        f"load that file first: falco-lab rules validate {macros} {rules}"
    ) in captured.err

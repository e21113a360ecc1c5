"""Falco's own log lines: engine, rules files, errors."""

from __future__ import annotations

from falco_lab.cluster.falco_logs import analyse_falco_log

START = """Fri Nov 27 08:00:00 2026: Falco version: 0.44.1 (x86_64)
Fri Nov 27 08:00:00 2026: Loading rules from:
Fri Nov 27 08:00:00 2026:    /etc/falco/falco_rules.yaml | schema validation: ok
Fri Nov 27 08:00:00 2026:    /etc/falco/rules.d/falco-lab_rules.yaml | schema validation: ok
Fri Nov 27 08:00:01 2026: Opening 'syscall' source with modern BPF probe.
{"rule":"x","priority":"Notice"}
"""


def test_healthy_start():
    status = analyse_falco_log(START)
    assert status.modern_ebpf and status.rules_ok
    assert list(status.rules_files) == [
        "/etc/falco/falco_rules.yaml",
        "/etc/falco/rules.d/falco-lab_rules.yaml",
    ]
    assert status.alerts == 1 and status.errors == []


def test_kmod_engine_is_not_modern_ebpf():
    status = analyse_falco_log(START.replace("modern BPF probe", "Kernel module"))
    assert status.engine == "Kernel module" and not status.modern_ebpf


def test_rule_errors_are_collected():
    log = START + "Fri Nov 27 08:00:02 2026: Error: /etc/falco/rules.d/x.yaml: LOAD_ERR_COMPILE_CONDITION\n"
    status = analyse_falco_log(log)
    assert not status.rules_ok and "LOAD_ERR_COMPILE_CONDITION" in status.errors[0]


def test_nothing_loaded_yet_is_not_ok():
    status = analyse_falco_log("")
    assert status.engine is None and not status.rules_ok


def test_the_configuration_file_is_not_a_rules_file():
    log = "Fri Nov 27 08:00:00 2026:    /etc/falco/falco.yaml | schema validation: ok\n" + START
    status = analyse_falco_log(log)
    assert "/etc/falco/falco.yaml" not in status.rules_files
    assert status.config_files == {"/etc/falco/falco.yaml": "ok"}


def test_iso_8601_prefixes_are_read_too():
    iso = "\n".join(
        line.replace("Fri Nov 27 08:00:00 2026", "2026-11-27T08:00:00+0000").replace(
            "Fri Nov 27 08:00:01 2026", "2026-11-27T08:00:01+0000"
        )
        for line in START.splitlines()
    )
    status = analyse_falco_log(iso)
    assert status.modern_ebpf and status.rules_ok and len(status.rules_files) == 2


def test_missing_rules_names_the_expected_files_not_listed():
    status = analyse_falco_log(START)
    assert status.missing_rules(
        ["/etc/falco/rules.d/falco-lab_rules.yaml", "/etc/falco/rules.d/falco-lab_upstream-tuning.yaml"]
    ) == ["/etc/falco/rules.d/falco-lab_upstream-tuning.yaml"]


def test_a_rotated_log_saw_no_startup():
    assert not analyse_falco_log('{"rule":"r"}\n').saw_startup

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

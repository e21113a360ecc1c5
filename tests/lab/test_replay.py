"""Replaying the public attacker-session capture through rules, present and absent."""

from __future__ import annotations

from falco_lab.lab.replay import ATTACK_CAPTURE, replay_capture
from falco_lab.rules import RulesFile, load_rules
from tests.capture._files import capture

TYPED = """\
- rule: Typed In Container
  desc: a program started from a terminal in a container
  condition: evt.type = execve and container.id != host and proc.tty != 0
  output: typed (command=%proc.cmdline name=%proc.name)
  priority: NOTICE
- rule: Shell Exec In Container
  desc: a shell exec'd in a container
  condition: evt.type = execve and container.id != host and proc.name = bash
  output: shell (command=%proc.cmdline)
  priority: WARNING
"""


def test_the_session_fires_the_rule_for_the_command_typed_in_the_container() -> None:
    replay = replay_capture(
        ATTACK_CAPTURE, load_rules(RulesFile("r.yaml", TYPED)), dir=capture(ATTACK_CAPTURE).parent
    )
    assert replay.fired[["rule", "alerts", "command", "container"]].values.tolist() == [
        ["Typed In Container", 1, "ls", "697956520d89"]
    ]
    assert (
        replay.message.startswith(f"Replayed {ATTACK_CAPTURE} (")
        and "1 alert(s) from 1 of 2 rules" in replay.message
    )


def test_a_silent_rule_is_explained_on_the_first_event_it_looks_at() -> None:
    rules = load_rules(RulesFile("r.yaml", TYPED))
    replay = replay_capture(ATTACK_CAPTURE, rules, dir=capture(ATTACK_CAPTURE).parent)
    text = replay.explain(rules, "Shell Exec In Container")
    assert "(execve by ls" in text
    assert "FALSE   proc.name = bash    [proc.name = 'ls']" in text


def test_an_absent_capture_is_said_plainly_with_the_command_to_get_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FALCO_LAB_CAPTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rules = load_rules(RulesFile("r.yaml", TYPED))
    replay = replay_capture(ATTACK_CAPTURE, rules)
    assert not replay.available and replay.fired.empty
    assert f"run `falco-lab capture fetch {ATTACK_CAPTURE}` to get it" in replay.message
    assert replay.explain(rules, "Shell Exec In Container") == replay.message

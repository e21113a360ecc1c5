"""The package's public names load on first use (PEP 562), so importing the schema stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import falco_lab.events as events


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_every_public_name_resolves_from_its_module() -> None:
    for name in events.__all__:
        value = getattr(events, name)
        assert getattr(sys.modules[f"falco_lab.events.{events._EXPORTS[name]}"], name) is value


def test_dir_lists_every_public_name() -> None:
    assert set(events.__all__) <= set(dir(events))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        events.no_such_name  # noqa: B018


def test_importing_the_rules_engine_loads_no_http_client_and_no_charts() -> None:
    loaded = _modules_after("import falco_lab.rules")
    assert "falco_lab.priorities" in loaded
    assert not loaded & {"falco_lab.events.sidekick_ui", "requests", "plotly"}


def test_using_a_name_imports_only_its_module() -> None:
    loaded = _modules_after("from falco_lab.events import load_report")
    assert "falco_lab.events.load_diagnostics" in loaded
    assert not loaded & {"falco_lab.events.load", "falco_lab.events.charts", "plotly"}

"""Values are checked against the chart's own keys: data generated from the real chart 9.1.0."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from falco_lab.cluster.chart_keys import CHART_KEYS_FILE, chart_facts, check_values
from falco_lab.workshop import chart
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_chart_keys", ROOT / "tools" / "gen_chart_keys.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_packaged_facts_are_what_the_chart_in_shared_gives():
    chart_dir = shared_file("upstream/charts/falco/Chart.yaml").parent
    gen = _generator()
    assert CHART_KEYS_FILE.read_text(encoding="utf-8") == gen.render(gen.chart_facts(chart_dir)), (
        "run python tools/gen_chart_keys.py"
    )


def test_the_facts_are_of_the_pinned_chart():
    facts = chart_facts()
    assert (facts.chart, facts.version) == (chart.CHART_NAME, chart.CHART_VERSION)
    assert set(facts.subcharts) == {"falcosidekick", "k8s-metacollector", "falco-talon"}


def test_the_generator_walks_mappings_and_leaves_empty_ones_free(tmp_path):
    (tmp_path / "charts" / "sub").mkdir(parents=True)
    (tmp_path / "Chart.yaml").write_text(
        "name: c\nversion: 1.0.0\ndependencies:\n  - name: sub\n    alias: side\n    version: '1.*'\n"
    )
    (tmp_path / "values.yaml").write_text("a:\n  b: 1\n  podLabels: {}\nside: {}\nlist: [1]\n")
    (tmp_path / "charts" / "sub" / "Chart.yaml").write_text("name: sub\nversion: 1.2.3\n")
    (tmp_path / "charts" / "sub" / "values.yaml").write_text("x:\n  annotations:\n    k: v\n")
    facts = _generator().chart_facts(tmp_path)
    assert facts["subcharts"] == {"side": "1.2.3"}
    assert facts["keys"] == [
        ["a"], ["a", "b"], ["a", "podLabels"], ["global"], ["list"], ["side"], ["side", "x"],
        ["side", "x", "annotations"],
    ]  # fmt: skip
    assert facts["free"] == [["a", "podLabels"], ["global"], ["side", "x", "annotations"]]


def test_the_generator_check_fails_on_drift(tmp_path, monkeypatch, capsys):
    gen = _generator()
    stale = tmp_path / "chart_keys.json"
    stale.write_text(json.dumps({"keys": []}))
    monkeypatch.setattr(gen, "OUT", stale)
    chart_dir = shared_file("upstream/charts/falco/Chart.yaml").parent
    assert gen.main(["--chart", str(chart_dir), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


@pytest.mark.parametrize(
    "values",
    [
        {"tolerations": [{"operator": "Exists", "effect": "NoSchedule"}]},
        {"nodeSelector": {"kubernetes.io/os": "linux", "anything": "goes"}},
        {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}},
        {"image": {"registry": "public.ecr.aws", "repository": "falcosecurity/falco", "tag": "0.44.1"}},
        {"falco": {"webserver": {"enabled": True, "listen_port": 8765}}},
        {"falcosidekick": {"webui": {"image": {"tag": "2.3.0"}}}},
        {"podAnnotations": {"example.com/owner": "security"}},
        {"global": {"imageRegistry": "mirror.example"}},
    ],
    ids=lambda v: next(iter(v)),
)
def test_keys_the_chart_reads_are_accepted(values):
    assert check_values(values) == []


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"tolerationz": []}, "tolerationz"),
        ({"falco": {"webserver": {"enabeld": True}}}, "falco.webserver.enabeld"),  # codespell:ignore enabeld
        ({"falcosidekick": {"webui": {"imag": {"tag": "x"}}}}, "falcosidekick.webui.imag"),
        ({"falco-talon": {"nosuch": 1}}, "falco-talon.nosuch"),
    ],
)
def test_other_keys_are_rejected_with_their_path(values, key):
    (problem,) = check_values(values)
    assert problem.key == key and "not a key of chart falco 9.1.0" in problem.message

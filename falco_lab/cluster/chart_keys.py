"""Checking values files against the ``falcosecurity/falco`` chart itself.

The chart has no values schema: a misspelt or outdated key (the original workshop's
``ebpf.enabled``, ``auditLog.enabled``, ``falco.jsonOutput`` ...) is silently ignored
and the install "works" while configuring nothing. :func:`check_values` therefore
accepts exactly the keys the pinned chart's defaults define, its sub-charts' under
their prefix (``falcosidekick.``, ``k8s-metacollector.``, ``falco-talon.``), with
free-form mappings left free, and explains the outdated ones.  The keys are data
generated from the chart (``tools/gen_chart_keys.py``), not a hand list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Facts generated from the chart and its sub-charts by ``tools/gen_chart_keys.py`` (a test
#: fails when they and ``../shared/upstream/charts/falco`` disagree).
CHART_KEYS_FILE = Path(__file__).resolve().parent / "data" / "chart_keys.json"


@dataclass(frozen=True, slots=True)
class ChartFacts:
    """The key paths a chart's defaults define, and which mappings are free-form."""

    chart: str
    version: str
    subcharts: dict[str, str]
    keys: frozenset[tuple[str, ...]]
    free: frozenset[tuple[str, ...]]

    def is_free(self, path: tuple[str, ...]) -> bool:
        """True when ``path`` is inside (or is) a free-form mapping."""
        return any(path[:n] in self.free for n in range(1, len(path) + 1))


@cache
def chart_facts(path: str | None = None) -> ChartFacts:
    """The packaged chart facts (or those of ``path``)."""
    source = Path(path) if path else CHART_KEYS_FILE
    data = json.loads(source.read_text(encoding="utf-8"))
    return ChartFacts(
        chart=data["chart"],
        version=data["version"],
        subcharts=dict(data["subcharts"]),
        keys=frozenset(tuple(k) for k in data["keys"]),
        free=frozenset(tuple(k) for k in data["free"]),
    )


#: Keys chart 9.x refuses to render (``falco.removedConfigGuard``).
REMOVED_KEYS: frozenset[str] = frozenset({"driver.ebpf", "driver.gvisor", "falco.grpc", "falco.grpc_output"})

#: ``driver.kind`` values chart 9.x accepts (``ebpf`` and ``gvisor`` fail to render).
DRIVER_KINDS: frozenset[str] = frozenset({"modern_ebpf", "kmod", "auto", "modern-bpf", "module"})

#: Keys of the original workshop (chart 1.x) and what replaced them.
LEGACY_KEYS: dict[str, str] = {
    "ebpf": "driver.kind: modern_ebpf (chart >= 4; the legacy probe is gone in 9.0)",
    "auditLog": "the k8saudit-eks plugin in a second release (values-k8saudit-eks.yaml)",
    "falco.rulesFile": "falco.rules_files",
    "falco.rules_file": "falco.rules_files",
    "falco.jsonOutput": "falco.json_output",
    "falco.jsonIncludeOutputProperty": "falco.json_include_output_property",
    "falco.jsonIncludeTagsProperty": "falco.json_include_tags_property",
    "falco.logStderr": "falco.log_stderr",
    "falco.logSyslog": "falco.log_syslog",
    "falco.logLevel": "falco.log_level",
    "falco.programOutput": "falco.http_output (falcosidekick); the image is distroless",
    "leastPrivileged": "driver.modernEbpf.leastPrivileged",
    "collectors.docker": "collectors.containerEngine.engines.docker",
    "collectors.containerd": "collectors.containerEngine.engines.containerd",
    "collectors.crio": "collectors.containerEngine.engines.cri",
}


@dataclass(frozen=True, slots=True)
class ValuesProblem:
    """One key in a values file that chart 9.x would ignore or reject."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def iter_keys(values: Mapping, prefix: str = "") -> Iterator[str]:
    """Yield the dotted path of every key in ``values``: mappings are walked, free-form ones not."""
    facts = chart_facts()
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping) and not facts.is_free(tuple(path.split("."))):
            yield from iter_keys(value, path + ".")


def _walk(values: Mapping, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        path = (*prefix, str(key))
        yield path
        if isinstance(value, Mapping):
            yield from _walk(value, path)


def check_values(values: Mapping) -> list[ValuesProblem]:
    """Every key of ``values`` that the pinned chart (with its sub-charts) does not define.

    Keys are checked against the chart's own defaults (:data:`CHART_KEYS_FILE`); inside a
    free-form mapping (``nodeSelector``, ``customRules``, annotations...) anything goes.
    Keys removed in chart 9 and keys of the original workshop are explained.  Returns an
    empty list for a good values file; a whole unknown sub-tree is one problem.
    """
    facts = chart_facts()
    problems: list[ValuesProblem] = []
    reported: list[tuple[str, ...]] = []
    for path in _walk(values, ()):
        if any(path[: len(r)] == r for r in reported) or facts.is_free(path[:-1]):
            continue
        dotted = ".".join(path)
        if dotted in REMOVED_KEYS:
            problems.append(
                ValuesProblem(dotted, "removed in chart 9.0: the chart refuses to render with it")
            )
        elif dotted in LEGACY_KEYS:
            problems.append(ValuesProblem(dotted, f"ignored by chart 9.x; use {LEGACY_KEYS[dotted]}"))
        elif path not in facts.keys:
            problems.append(
                ValuesProblem(
                    dotted,
                    f"not a key of chart {facts.chart} {facts.version} or its sub-charts (misspelt or outdated?)",
                )
            )
        else:
            continue
        reported.append(path)
    driver = values.get("driver")
    kind = driver.get("kind") if isinstance(driver, Mapping) else None
    if kind is not None and kind not in DRIVER_KINDS:
        problems.append(
            ValuesProblem(
                "driver.kind", f"{kind!r} is not accepted by chart 9.x (use one of modern_ebpf, kmod, auto)"
            )
        )
    return problems

"""Facts about the ``falcosecurity/falco`` chart 9.x values that falco-lab relies on.

The chart has no values schema: a misspelt or outdated key (the original workshop's
``ebpf.enabled``, ``auditLog.enabled``, ``falco.jsonOutput`` ...) is silently ignored
and the install "works" while configuring nothing. :func:`check_values` therefore
accepts only the keys listed here (each one read by chart 9.1.0 or its
``falcosidekick`` 0.12.x sub-chart, see ``shared/docs/deploy-eks.md`` §1.3-1.6 and
§2.2) and explains the outdated ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_ENGINES = ("docker", "podman", "containerd", "cri", "lxc", "libvirt_lxc", "bpm")

#: Dotted paths of the chart-9.x values falco-lab may set (leaves).
KNOWN_KEYS: frozenset[str] = frozenset(
    {
        "tty",
        "resources.requests.cpu",
        "resources.requests.memory",
        "resources.limits.cpu",
        "resources.limits.memory",
        "controller.kind",
        "controller.deployment.replicas",
        "serviceAccount.create",
        "serviceAccount.name",
        # driver
        "driver.enabled",
        "driver.kind",
        "driver.sysfsMountPath",
        "driver.loader.enabled",
        "driver.modernEbpf.leastPrivileged",
        "driver.modernEbpf.bufSizePreset",
        "driver.modernEbpf.dropFailedExit",
        "driver.modernEbpf.cpusForEachBuffer",
        "driver.modernEbpf.disableIterators",
        "driver.modernEbpf.sysfsMount",
        "driver.kmod.bufSizePreset",
        "driver.kmod.dropFailedExit",
        # collectors (container plugin, k8s-metacollector)
        "collectors.enabled",
        "collectors.containerEngine.enabled",
        "collectors.containerEngine.pluginRef",
        "collectors.containerEngine.labelMaxLen",
        "collectors.containerEngine.withSize",
        "collectors.containerEngine.hooks",
        *(f"collectors.containerEngine.engines.{e}.{k}" for e in _ENGINES for k in ("enabled", "sockets")),
        "collectors.kubernetes.enabled",
        # falcoctl
        "falcoctl.artifact.install.enabled",
        "falcoctl.artifact.follow.enabled",
        "falcoctl.config.artifact.allowedTypes",
        "falcoctl.config.artifact.install.refs",
        "falcoctl.config.artifact.install.resolveDeps",
        "falcoctl.config.artifact.follow.refs",
        "falcoctl.config.artifact.follow.every",
        # falco.yaml (snake_case, mirrors Falco's configuration)
        "falco.rules_files",
        "falco.rule_matching",
        "falco.priority",
        "falco.json_output",
        "falco.json_include_output_property",
        "falco.json_include_tags_property",
        "falco.json_include_output_fields_property",
        "falco.json_include_message_property",
        "falco.time_format_iso_8601",
        "falco.log_stderr",
        "falco.log_syslog",
        "falco.log_level",
        "falco.stdout_output.enabled",
        "falco.http_output.enabled",
        "falco.http_output.url",
        "falco.watch_config_files",
        "falco.append_output",
        "falco.plugins",
        "falco.load_plugins",
        # falcosidekick sub-chart
        "falcosidekick.enabled",
        "falcosidekick.fullfqdn",
        "falcosidekick.replicaCount",
        "falcosidekick.service.type",
        "falcosidekick.service.port",
        "falcosidekick.config.customfields",
        "falcosidekick.config.customtags",
        "falcosidekick.config.debug",
        "falcosidekick.webui.enabled",
        "falcosidekick.webui.replicaCount",
        "falcosidekick.webui.loglevel",
        "falcosidekick.webui.ttl",
        "falcosidekick.webui.user",
        "falcosidekick.webui.disableauth",
        "falcosidekick.webui.existingSecret",
        "falcosidekick.webui.image.tag",
        "falcosidekick.webui.service.type",
        "falcosidekick.webui.service.port",
        "falcosidekick.webui.redis.enabled",
        "falcosidekick.webui.redis.storageEnabled",
        "falcosidekick.webui.redis.storageSize",
        "falcosidekick.webui.redis.storageClass",
    }
)

#: Mappings whose keys are free-form (file names, annotation names ...).
OPEN_MAPPINGS: frozenset[str] = frozenset(
    {
        "customRules",
        "serviceAccount.annotations",
        "falcosidekick.service.annotations",
        "falcosidekick.webui.service.annotations",
    }
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
    """Yield the dotted path of every key in ``values``: mappings are walked, open ones not."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping) and path not in OPEN_MAPPINGS:
            yield from iter_keys(value, path + ".")


def _is_known(path: str) -> bool:
    return path in KNOWN_KEYS or path in OPEN_MAPPINGS or any(k.startswith(path + ".") for k in KNOWN_KEYS)


def check_values(values: Mapping) -> list[ValuesProblem]:
    """Every key of ``values`` that is not one falco-lab knows chart 9.x reads.

    Returns an empty list for a good values file.
    """
    problems: list[ValuesProblem] = []
    reported: list[str] = []
    for path in iter_keys(values):
        if any(path.startswith(p + ".") for p in reported):
            continue  # one message for a whole unknown sub-tree
        if path in REMOVED_KEYS:
            problems.append(ValuesProblem(path, "removed in chart 9.0: the chart refuses to render with it"))
        elif path in LEGACY_KEYS:
            problems.append(ValuesProblem(path, f"ignored by chart 9.x; use {LEGACY_KEYS[path]}"))
        elif not _is_known(path):
            problems.append(
                ValuesProblem(path, "not a chart-9.x key falco-lab knows (misspelt or outdated?)")
            )
        else:
            continue
        reported.append(path)
    kind = values.get("driver", {}).get("kind") if isinstance(values.get("driver"), Mapping) else None
    if kind is not None and kind not in DRIVER_KINDS:
        problems.append(
            ValuesProblem(
                "driver.kind", f"{kind!r} is not accepted by chart 9.x (use one of modern_ebpf, kmod, auto)"
            )
        )
    return problems

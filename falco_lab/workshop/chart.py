"""The Helm chart falco-lab installs: the one place its version is pinned.

``falcosecurity/falco`` 9.1.0 ships Falco 0.44.1 (modern eBPF and kmod drivers only),
pulls the ``falcosidekick`` 0.12.x sub-chart and installs rules with falcoctl.  Both modes
read these facts: cluster mode runs the install, simulate mode shows the same command.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

#: Chart repository, passed to helm with ``--repo`` (no ``helm repo add`` state needed).
CHART_REPO = "https://falcosecurity.github.io/charts"
CHART_NAME = "falco"
#: Pinned chart version. Change it here only; ``values.yaml`` is checked against chart 9.x keys.
CHART_VERSION = "9.1.0"
#: Falco version the pinned chart deploys (its appVersion).
FALCO_VERSION = "0.44.1"
#: Major chart version whose keys ``chart_keys`` describes.
CHART_MAJOR = 9

#: Release and namespace of the main (syscall) Falco installation.
RELEASE = "falco"
FALCO_NAMESPACE = "falco"
#: Optional second release reading EKS audit logs (``values-k8saudit-eks.yaml``).
AUDIT_RELEASE = "falco-k8saudit"

#: Rules artifacts falcoctl installs, at pinned tags (``values.yaml`` must list exactly these).
RULES_REFS: tuple[str, ...] = (
    "falco-rules:5.1.0",
    "falco-incubating-rules:6.0.1",
    "falco-sandbox-rules:6.1.0",
)
#: ``falco.rules_files`` in load order: stable, incubating, sandbox, then customRules.
RULES_FILES: tuple[str, ...] = (
    "/etc/falco/falco_rules.yaml",
    "/etc/falco/falco-incubating_rules.yaml",
    "/etc/falco/falco-sandbox_rules.yaml",
    "/etc/falco/rules.d",
)

#: Object names the chart renders for release ``falco``.
DAEMONSET = RELEASE
SIDEKICK_DEPLOYMENT = f"{RELEASE}-falcosidekick"
UI_DEPLOYMENT = f"{RELEASE}-falcosidekick-ui"
UI_SERVICE = f"{RELEASE}-falcosidekick-ui"
UI_PORT = 2802
REDIS_STATEFULSET = f"{RELEASE}-falcosidekick-ui-redis"
#: Secret holding the UI credentials (``FALCOSIDEKICK_UI_USER=user:password``), made by falco-lab.
UI_SECRET = "falco-lab-ui-credentials"
UI_SECRET_KEY = "FALCOSIDEKICK_UI_USER"
#: customRules file names: each is mounted as /etc/falco/rules.d/<name>.
#: The project's own rules: self-contained, they load with or without the upstream rulesets.
CUSTOM_RULES_FILE = "falco-lab_rules.yaml"
#: Tuning of upstream items (an ``override`` append to an upstream list): loads only after
#: the upstream rulesets and the project's rules.
UPSTREAM_TUNING_FILE = "falco-lab_upstream-tuning.yaml"
#: Every customRules file, in the order Falco reads them from rules.d (file-name order).
CUSTOM_RULES_FILES: tuple[str, ...] = (CUSTOM_RULES_FILE, UPSTREAM_TUNING_FILE)

#: The package's data: the project's rules files (the single source of truth for
#: ``customRules``) and the values files.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
#: The values files, shipped with the package.  In a source checkout the top-level
#: ``values.yaml`` and ``values-k8saudit-eks.yaml`` are the ones people edit and pass to helm;
#: these are byte-identical copies (``tests/test_packaging.py`` keeps them so).
VALUES_FILE = DATA_DIR / "values.yaml"
AUDIT_VALUES_FILE = DATA_DIR / "values-k8saudit-eks.yaml"
#: Where the project's rules files live.
RULES_DIR = DATA_DIR
#: The project's own rules file.
RULES_FILE = RULES_DIR / CUSTOM_RULES_FILE
#: The upstream tuning file (load it after the upstream rulesets and :data:`RULES_FILE`).
UPSTREAM_TUNING_RULES_FILE = RULES_DIR / UPSTREAM_TUNING_FILE
#: The files behind ``customRules``, in load order.
CUSTOM_RULES_PATHS: tuple[Path, ...] = tuple(RULES_DIR / name for name in CUSTOM_RULES_FILES)

#: How long helm itself waits for the release (``--wait --timeout``).
HELM_WAIT_TIMEOUT = "10m"


def helm_install_args(
    *,
    release: str = RELEASE,
    namespace: str = FALCO_NAMESPACE,
    values: Sequence[Path | str] = (VALUES_FILE,),
    set_string: Mapping[str, str] | None = None,
    wait_timeout: str = HELM_WAIT_TIMEOUT,
) -> list[str]:
    """Arguments of ``helm upgrade --install`` for the pinned chart (install and upgrade alike).

    The chart is fetched with ``--repo``/``--version`` (no ``helm repo add`` state needed);
    each values file becomes ``--values`` and each pair ``--set-string key=value``.
    """
    args = [
        "upgrade",
        "--install",
        release,
        CHART_NAME,
        "--repo",
        CHART_REPO,
        "--version",
        CHART_VERSION,
        "--namespace",
        namespace,
        "--create-namespace",
        "--wait",
        "--timeout",
        wait_timeout,
    ]
    for path in values:
        args += ["--values", str(path)]
    for key, value in (set_string or {}).items():
        args += ["--set-string", f"{key}={value}"]
    return args


def helm_install_command(binary: str = "helm", **kwargs: object) -> str:
    """The shell-quoted ``helm upgrade --install`` command line (no kube context)."""
    return shlex.join([binary, *helm_install_args(**kwargs)])  # type: ignore[arg-type]


def replica_counts(values: Path | str = VALUES_FILE) -> tuple[int, int]:
    """``(falcosidekick, falcosidekick-ui)`` replicas the values file asks for.

    Keys ``falcosidekick.replicaCount`` and ``falcosidekick.webui.replicaCount``; where a
    key is absent, the chart 9.1.0 default (2 for both) applies.
    """
    data = yaml.safe_load(Path(values).read_text(encoding="utf-8")) or {}
    sidekick = data.get("falcosidekick") or {}
    webui = sidekick.get("webui") or {}
    return int(sidekick.get("replicaCount", 2)), int(webui.get("replicaCount", 2))

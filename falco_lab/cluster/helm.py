"""Install, upgrade and uninstall Falco with the ``helm`` CLI (a subprocess with timeouts).

Commands are built as argument lists (no shell) and can be shown instead of run:
``dry_run=True`` returns the exact command line. Values are passed as files or
``--set-string`` pairs that never hold credentials (the UI password lives in a Secret).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError

#: Oldest Helm falco-lab supports (chart 9.x needs Helm 3.10+ features; Helm 4 works too).
MIN_HELM = (3, 10)
#: How long helm itself waits for the release (``--wait --timeout``).
WAIT_TIMEOUT = chart.HELM_WAIT_TIMEOUT

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, slots=True)
class HelmResult:
    """A finished helm command."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def command_line(self) -> str:
        return shlex.join(self.command)


class Helm:
    """The ``helm`` binary, run with a kube context and a timeout.

    Parameters
    ----------
    binary
        Path or name of helm (looked up on PATH).
    kube_context
        Passed as ``--kube-context`` (a context *name*).
    kubeconfig
        Passed as ``--kubeconfig`` when the cluster was reached through a non-default file.
    timeout
        Seconds before a helm process is killed (on top of helm's own ``--timeout``).
    """

    def __init__(
        self,
        binary: str = "helm",
        *,
        kube_context: str | None = None,
        kubeconfig: str | None = None,
        timeout: float = 900,
    ) -> None:
        self.binary = binary
        self.kube_context = kube_context
        self.kubeconfig = kubeconfig
        self.timeout = timeout

    def path(self) -> str | None:
        """Where helm is, or None when it is not installed."""
        return shutil.which(self.binary)

    def _base(self, *, with_context: bool = True) -> list[str]:
        base = [self.binary]
        if with_context and self.kubeconfig:
            base += ["--kubeconfig", self.kubeconfig]
        if with_context and self.kube_context and self.kube_context not in {"in-cluster", "(default)"}:
            base += ["--kube-context", self.kube_context]
        return base

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = None,
        check: bool = True,
        with_context: bool = True,
    ) -> HelmResult:
        """Run ``helm <args>``; raise :class:`ClusterError` on a missing binary, timeout or failure."""
        command = [*self._base(with_context=with_context), *args]
        if self.path() is None:
            raise ClusterError(
                f"helm not found on PATH (looked for {self.binary!r}); install Helm 3.10+ or 4"
            )
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout or self.timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"helm timed out after {exc.timeout:.0f} s: {shlex.join(command)}") from exc
        result = HelmResult(command, proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-5:]
            raise ClusterError(
                f"helm failed (exit {proc.returncode}): {shlex.join(command)}\n" + "\n".join(detail)
            )
        return result

    def version(self) -> tuple[int, int, int]:
        """Helm's client version, e.g. ``(3, 16, 2)``."""
        result = self.run(["version", "--short"], timeout=30, with_context=False)
        match = _VERSION.search(result.stdout)
        if not match:
            raise ClusterError(f"cannot read helm's version from {result.stdout.strip()!r}")
        return int(match[1]), int(match[2]), int(match[3])

    # -- commands -----------------------------------------------------------------

    def install_args(self, **kwargs: Any) -> list[str]:
        """Arguments of ``helm upgrade --install`` (see :func:`falco_lab.workshop.chart.helm_install_args`)."""
        return chart.helm_install_args(**kwargs)

    def install(self, *, dry_run: bool = False, **kwargs) -> str:
        """Install or upgrade the release; with ``dry_run`` only return the command line."""
        args = self.install_args(**kwargs)
        command_line = shlex.join([*self._base(), *args])
        if dry_run:
            return command_line
        result = self.run(args)
        return f"{command_line}\n{result.stdout.strip()}"

    def uninstall(
        self, *, release: str = chart.RELEASE, namespace: str = chart.FALCO_NAMESPACE, dry_run: bool = False
    ) -> str:
        """Uninstall the release (waits for its resources to go); ``dry_run`` returns the command."""
        args = ["uninstall", release, "--namespace", namespace, "--wait", "--timeout", WAIT_TIMEOUT]
        command_line = shlex.join([*self._base(), *args])
        if dry_run:
            return command_line
        result = self.run(args)
        return f"{command_line}\n{result.stdout.strip()}"

    def status(self, *, release: str = chart.RELEASE, namespace: str = chart.FALCO_NAMESPACE) -> str | None:
        """The release's status (``deployed``, ``failed`` ...), or None when it is not installed."""
        result = self.run(
            ["status", release, "--namespace", namespace, "--output", "json"], check=False, timeout=60
        )
        if result.returncode != 0:
            if "not found" in result.stderr.lower():
                return None
            raise ClusterError(f"helm status failed: {result.stderr.strip()}")
        try:
            return str(json.loads(result.stdout)["info"]["status"])
        except (ValueError, KeyError, TypeError):
            return "unknown"


def audit_set_strings(*, region: str, eks_cluster: str, role_arn: str) -> dict[str, str]:
    """``--set-string`` pairs filling the placeholders of ``values-k8saudit-eks.yaml``."""
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ClusterError(f"{region!r} does not look like an AWS region (e.g. eu-west-1)")
    if not re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", role_arn):
        raise ClusterError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", eks_cluster):
        raise ClusterError(f"{eks_cluster!r} is not a valid EKS cluster name")
    return {
        "falco.plugins[0].init_config.region": region,
        "falco.plugins[0].open_params": eks_cluster,
        r"serviceAccount.annotations.eks\.amazonaws\.com/role-arn": role_arn,
    }

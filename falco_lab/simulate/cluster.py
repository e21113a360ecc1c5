"""``SimulatedCluster``: the :class:`~falco_lab.workshop.interface.Cluster` interface on a simulated EKS cluster.

Notebooks switch between a real cluster and this one with a single ``mode`` parameter.
Pods are created from the same manifests cluster mode applies; every action emits
syscall events into the simulated nodes; :meth:`SimulatedCluster.falco_alerts` runs the
rules engine over them (each node's Falco sees its own node) and
:meth:`SimulatedCluster.sidekick_events` returns what falcosidekick would have stored.

Everything it reports says it is simulated: the context is ``simulated-eks``, preflight
and readiness details say "simulated", and every sidekick event carries the custom field
``simulated=true``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from falco_lab.events.since import since_cutoff
from falco_lab.rules import RuleSet
from falco_lab.simulate import detect as detection
from falco_lab.simulate.actions import SimulationError, Simulator
from falco_lab.simulate.model import SIMULATED_CONTEXT, Namespace, Pod, mark_simulated, start_time_ns
from falco_lab.simulate.topology import build_world
from falco_lab.workshop import chart
from falco_lab.workshop.drivers import driver_advice
from falco_lab.workshop.interface import (
    PREFLIGHT_COLUMNS,
    READINESS_COLUMNS,
    ClusterError,
    ExecResult,
    PodNotReadyError,
)
from falco_lab.workshop.manifests import NAMESPACE, PROJECT_LABELS, namespace_manifest

_NS = 1_000_000_000

#: Host paths that exist on every simulated (AL2023 / Bottlerocket, Kubernetes 1.32) node, by kind.
#: There is no Docker on these nodes: ``/var/run/docker.sock`` does not exist.
NODE_PATHS: dict[str, str] = {
    "/": "Directory",
    "/etc": "Directory",
    "/proc": "Directory",
    "/sys": "Directory",
    "/dev": "Directory",
    "/root": "Directory",
    "/home": "Directory",
    "/var/log": "Directory",
    "/var/lib/kubelet": "Directory",
    "/var/lib/kubelet/pki": "Directory",
    "/lib/modules": "Directory",
    "/etc/kubernetes": "Directory",
    "/run/containerd/containerd.sock": "Socket",
    "/var/run/containerd/containerd.sock": "Socket",
    "/run/xtables.lock": "File",
    "/etc/hosts": "File",
}


class SimulatedCluster:
    """A simulated EKS cluster with Falco; implements :class:`falco_lab.workshop.interface.Cluster`.

    Parameters
    ----------
    nodes
        Number of worker nodes.
    seed
        Seed of every random choice (ids, pids, node names...).
    rules
        Rules files to load, exactly these, in order; default: upstream rulesets found
        locally, then the project's rules and its upstream tuning; the project's rules alone
        when no upstream ruleset is found (:func:`falco_lab.simulate.detect.choose_rules`).
    ruleset
        An already loaded ruleset (takes precedence over ``rules``).
    upstream_dir
        Where to look for upstream rulesets first.
    start
        Simulated start time.  When None the simulated clock follows the wall clock,
        so ``since=`` filters given real times work; with a fixed start, runs are
        reproducible.
    rule_matching
        ``"all"`` (the project's Helm values) or ``"first"`` (Falco's default).
    falco_installed
        Start with Falco already installed (``install_falco`` can still be called).
    """

    mode = "simulate"

    def __init__(
        self,
        *,
        nodes: int = 3,
        seed: int = 0,
        rules: Sequence[str | os.PathLike[str]] | None = None,
        ruleset: RuleSet | None = None,
        upstream_dir: str | os.PathLike[str] | None = None,
        start: datetime | None = None,
        rule_matching: str = "all",
        falco_installed: bool = False,
    ) -> None:
        self.context = SIMULATED_CONTEXT
        self.seed = seed
        self.rule_matching = rule_matching
        self._follow_wall_clock = start is None
        start_ns = time.time_ns() if start is None else start_time_ns(start)
        self.world = build_world(nodes, seed=seed)
        self.sim = Simulator(self.world, seed=seed, start_ns=start_ns)
        self.rules_choice, self.ruleset = detection.resolve_rules(rules, ruleset, upstream_dir=upstream_dir)
        self._alerts: list[dict[str, Any]] = []
        self._evaluated = -1
        if falco_installed:
            self.install_falco()

    def __repr__(self) -> str:
        return f"SimulatedCluster(context={self.context!r}, nodes={len(self.world.nodes)}, seed={self.seed})"

    # ------------------------------------------------------------------ clock
    def _now(self) -> int:
        if self._follow_wall_clock:
            self.sim.now = max(self.sim.now, time.time_ns())
        return self.sim.tick(10_000, 100_000)

    def _settle(self) -> None:
        """In wall-clock mode, return only once the real time has passed the last event's time.

        The simulated syscalls of an action are spread over a few milliseconds; waiting
        that out keeps every event before the moment the action returns, as on a real
        cluster (callers bracket steps with wall-clock timestamps).
        """
        if self._follow_wall_clock:
            ahead = self.sim.now - time.time_ns()
            if ahead > 0:
                time.sleep(ahead / _NS)

    def _datetime(self, ns: int) -> datetime:
        return datetime.fromtimestamp(ns / _NS, tz=UTC)

    # ------------------------------------------------------------------ install
    def preflight(self) -> pd.DataFrame:
        """Checks before installing, as cluster mode runs them, on the simulated nodes."""
        rows = [
            {
                "check": "kube context",
                "status": "ok",
                "detail": f"{self.context}: simulated EKS cluster (no kubeconfig, no AWS credentials used)",
            },
            {
                "check": "kubernetes version",
                "status": "ok",
                "detail": f"v{self.world.kubernetes_version} (simulated)",
            },
        ]
        for node in self.world.nodes.values():
            status, advice = driver_advice(node.kernel, node.ami_family)
            rows.append({"check": f"node {node.name}", "status": status, "detail": f"{advice} (simulated)"})
        rows.append({"check": "helm", "status": "ok", "detail": "not needed in simulate mode"})
        rows.append(
            {"check": "rules", "status": "ok", "detail": f"detection uses {self.rules_choice.description}"}
        )
        return pd.DataFrame(rows, columns=list(PREFLIGHT_COLUMNS))

    def install_falco(self, *, dry_run: bool = False) -> str:
        """Install Falco (simulated): return the helm command cluster mode would run.

        With ``dry_run`` nothing changes; otherwise the simulated cluster gets a Falco
        DaemonSet pod per node, falcosidekick and its UI.
        """
        command = chart.helm_install_command()
        if dry_run:
            return command
        self.sim.install_falco(at=self._now(), rules_files=[str(p) for p in self.rules_choice.paths])
        falco = self.world.falco
        return (
            f"simulated install (nothing was run): {command}\n"
            f"Falco {falco.falco_version} (chart {falco.chart_version}, driver {falco.driver}) on "
            f"{len(falco.daemonset_pods)} simulated nodes, falcosidekick and falcosidekick-ui"
        )

    def readiness(self) -> pd.DataFrame:
        """Is Falco up: one row per component, details marked as simulated."""
        falco = self.world.falco
        rows: list[dict[str, Any]] = []
        if not falco.installed:
            rows.append(
                {
                    "component": "falco daemonset",
                    "ready": False,
                    "detail": "not installed in the simulated cluster (call install_falco())",
                }
            )
        else:
            nodes = len(self.world.nodes)
            rows.append(
                {
                    "component": "falco daemonset",
                    "ready": len(falco.daemonset_pods) == nodes,
                    "detail": f"{len(falco.daemonset_pods)}/{nodes} pods ready, driver {falco.driver} (simulated)",
                }
            )
            for node, pod in sorted(falco.daemonset_pods.items()):
                rows.append(
                    {"component": f"falco pod {pod}", "ready": True, "detail": f"on {node} (simulated)"}
                )
            rows.append(
                {
                    "component": "falcosidekick",
                    "ready": True,
                    "detail": f"{falco.sidekick_replicas} replica(s) ready (simulated)",
                }
            )
            rows.append(
                {
                    "component": "falcosidekick-ui",
                    "ready": True,
                    "detail": f"{falco.ui_replicas} replica(s) ready (simulated)",
                }
            )
        return pd.DataFrame(rows, columns=list(READINESS_COLUMNS))

    # ------------------------------------------------------------------ pods
    def create_pod(self, manifest: dict, *, timeout: float = 120) -> str:
        """Create the pod (and its namespace if missing) and start it; return its name.

        A ``hostPath`` whose ``type`` does not match what exists on the node keeps the
        pod in ``ContainerCreating``, as on EKS: :class:`PodNotReadyError`.
        """
        metadata = manifest.get("metadata") or {}
        name = metadata.get("name")
        namespace = metadata.get("namespace") or "default"
        if not name:
            raise ClusterError("pod manifest has no metadata.name")
        if namespace not in self.world.namespaces:
            labels = namespace_manifest(namespace)["metadata"]["labels"] if namespace == NAMESPACE else {}
            self.world.namespaces[namespace] = Namespace(namespace, dict(labels))
        for volume in (manifest.get("spec") or {}).get("volumes") or []:
            host_path = volume.get("hostPath") if isinstance(volume, dict) else None
            if host_path and host_path.get("type") in (
                "Socket",
                "Directory",
                "File",
                "CharDevice",
                "BlockDevice",
            ):
                path = host_path.get("path", "")
                kind = NODE_PATHS.get(path)
                if kind != host_path["type"]:
                    what = "does not exist" if kind is None else f"is a {kind.lower()}"
                    raise PodNotReadyError(
                        name,
                        namespace,
                        f"ContainerCreating: MountVolume.SetUp failed for volume {volume.get('name')!r}: "
                        f"hostPath type check failed: {path} is not a {host_path['type'].lower()} "
                        f"(on the simulated node it {what})",
                    )
        try:
            pod = self.sim.create_pod(manifest, at=self._now())
        except SimulationError as exc:
            raise ClusterError(f"cannot create pod {namespace}/{name}: {exc}") from None
        self._settle()
        return pod.name

    def _pod(self, pod: str, namespace: str) -> Pod:
        found = self.world.pod(pod, namespace)
        if found is None or found.phase == "Deleted":
            raise ClusterError(f'pods "{pod}" not found in namespace {namespace}')
        return found

    def exec_in_pod(
        self, pod: str, command: Sequence[str], *, namespace: str = NAMESPACE, tty: bool = False
    ) -> ExecResult:
        """Run ``command`` in the pod's first container (simulated output), with or without a TTY."""
        target = self._pod(pod, namespace)
        if not command:
            raise ClusterError("exec needs a command")
        started = self._now()
        try:
            proc, result = self.sim.exec_in_container(target, list(command), tty=tty, at=started)
        except SimulationError as exc:
            raise ClusterError(f"exec in {namespace}/{pod}: {exc}") from None
        self.sim.exit(proc, result.exit_code)
        self._settle()
        return ExecResult(
            pod=pod,
            namespace=namespace,
            command=list(command),
            tty=tty,
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
            started=self._datetime(started),
            finished=self._datetime(self.sim.now),
        )

    def delete_pod(self, pod: str, *, namespace: str = NAMESPACE) -> None:
        """Delete the pod; a pod that does not exist is not an error."""
        found = self.world.pod(pod, namespace)
        if found is not None and found.phase != "Deleted":
            self.sim.delete_pod(found, at=self._now())
            self._settle()

    def cleanup(self) -> list[str]:
        """Delete every pod and namespace carrying the project's labels; return ``kind/namespace/name``."""
        removed: list[str] = []
        for pod in list(self.world.pods.values()):
            if pod.phase != "Deleted" and _labelled(pod.labels):
                self.sim.delete_pod(pod, at=self._now())
                removed.append(f"pod/{pod.namespace}/{pod.name}")
        for name, namespace in list(self.world.namespaces.items()):
            if _labelled(namespace.labels):
                del self.world.namespaces[name]
                removed.append(f"namespace/{name}")
        return removed

    # ------------------------------------------------------------------ events
    def syscall_events(self) -> pd.DataFrame:
        """Every syscall event the simulated nodes produced so far (one column per field), labelled simulated."""
        return self.sim.log.frame()

    def _falco_alerts(self) -> list[dict[str, Any]]:
        """Alerts for what happened since Falco was installed (it cannot see earlier events)."""
        if not self.world.falco.installed:
            return []
        if self._evaluated != len(self.sim.log):
            frame = self.sim.log.frame()
            if len(frame):
                frame = frame[frame["evt.rawtime"] >= self.world.falco.installed_ns].reset_index(drop=True)
            self._alerts = detection.detect(frame, self.ruleset, rule_matching=self.rule_matching)
            self._evaluated = len(self.sim.log)
        return self._alerts

    def falco_alerts(self, since: datetime | None = None) -> pd.DataFrame:
        """Falco's alerts so far (canonical events frame, no ``uuid``: Falco does not set one).

        Labelled simulated in ``attrs["simulated"]`` (Falco's own alerts carry no marker field).
        """
        return _since(detection.to_frame(self._falco_alerts()), since)

    def sidekick_events(self, since: datetime | None = None) -> pd.DataFrame:
        """Events as falcosidekick(-ui) stored them: with ``uuid`` and ``simulated=true``.

        Labelled simulated in ``attrs["simulated"]`` too.
        """
        return _since(detection.to_frame(detection.forward(self._falco_alerts(), seed=self.seed)), since)


def _labelled(labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in PROJECT_LABELS.items())


def _since(frame: pd.DataFrame, since: datetime | None) -> pd.DataFrame:
    if since is None or frame.empty:
        return frame
    return mark_simulated(frame[frame["time"] >= since_cutoff(since)].reset_index(drop=True))


__all__ = ["NODE_PATHS", "SimulatedCluster"]

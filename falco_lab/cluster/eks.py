"""``EKSCluster``: the real cluster, through the official ``kubernetes`` client and ``helm``."""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from falco_lab.cluster import pods as pod_ops
from falco_lab.cluster.helm import Helm, audit_set_strings
from falco_lab.cluster.kube import KubeClients, call, is_not_found, load_clients
from falco_lab.cluster.preflight import run_preflight
from falco_lab.cluster.readiness import FALCO_POD_SELECTOR, run_readiness
from falco_lab.cluster.streams import PortForwarder, exec_command, pod_for_service
from falco_lab.cluster.values import check_values, load_values
from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError, ExecResult
from falco_lab.workshop.manifests import NAMESPACE

log = logging.getLogger(__name__)


class EKSCluster:
    """A real Kubernetes cluster (EKS or any conformant one) with Falco installed by Helm.

    Build it with :meth:`from_config` (kubeconfig context or in-cluster). Only the
    context name is kept for display; credentials stay inside the client.
    """

    mode = "cluster"

    def __init__(
        self,
        clients: KubeClients,
        *,
        helm: Helm | None = None,
        values: Sequence[Path | str] = (chart.VALUES_FILE,),
        namespace: str = NAMESPACE,
    ) -> None:
        self.clients = clients
        self.context = clients.context
        self.helm = helm or Helm(kube_context=clients.context)
        self.values = [Path(v) for v in values]
        self.namespace = namespace

    @classmethod
    def from_config(
        cls,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        in_cluster: bool | None = None,
        helm: str = "helm",
        values: Sequence[Path | str] = (chart.VALUES_FILE,),
        namespace: str = NAMESPACE,
    ) -> EKSCluster:
        clients = load_clients(context=context, kubeconfig=kubeconfig, in_cluster=in_cluster)
        helm_cli = Helm(helm, kube_context=clients.context, kubeconfig=kubeconfig)
        return cls(clients, helm=helm_cli, values=values, namespace=namespace)

    def __repr__(self) -> str:
        return f"EKSCluster(context={self.context!r}, host={self.clients.host!r})"

    # -- install ---------------------------------------------------------------------

    def preflight(self) -> pd.DataFrame:
        return run_preflight(self.clients, self.helm, self.namespace)

    def check_values(self) -> list[str]:
        """Problems of the values files (unknown chart keys); empty when they are fine."""
        return values_problems(self.values)

    def ensure_ui_secret(self, *, dry_run: bool = False) -> str:
        """Create the UI credentials Secret (random password) unless it exists. Never shows the password."""
        ns, name, t = chart.FALCO_NAMESPACE, chart.UI_SECRET, self.clients.request_timeout
        try:
            call(
                f"read secret {ns}/{name}",
                self.clients.core.read_namespaced_secret,
                name,
                ns,
                _request_timeout=t,
            )
            return f"secret {ns}/{name} exists (kept)"
        except ClusterError as exc:
            if not is_not_found(exc):
                raise
        if dry_run:
            return f"would create secret {ns}/{name} with a random UI password"
        try:
            call(f"read namespace {ns}", self.clients.core.read_namespace, ns, _request_timeout=t)
        except ClusterError as exc:
            if not is_not_found(exc):
                raise
            call(
                f"create namespace {ns}",
                self.clients.core.create_namespace,
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                _request_timeout=t,
            )
        call(
            f"create secret {ns}/{name}",
            self.clients.core.create_namespaced_secret,
            ns,
            ui_secret_manifest(secrets.token_urlsafe(18)),
            _request_timeout=t,
        )
        return f"created secret {ns}/{name} (read it with kubectl; falco-lab never prints it)"

    def install_falco(self, *, dry_run: bool = False) -> str:
        problems = self.check_values()
        if problems:
            raise ClusterError(
                "values rejected (chart 9.x would ignore or refuse them):\n" + "\n".join(problems)
            )
        secret = self.ensure_ui_secret(dry_run=dry_run)
        command = self.helm.install(values=self.values, dry_run=dry_run)
        return f"{secret}\n{command}"

    def install_audit(self, *, region: str, eks_cluster: str, role_arn: str, dry_run: bool = False) -> str:
        """The optional second release reading EKS audit logs (``values-k8saudit-eks.yaml``)."""
        return self.helm.install(
            release=chart.AUDIT_RELEASE,
            values=[chart.AUDIT_VALUES_FILE],
            set_string=audit_set_strings(region=region, eks_cluster=eks_cluster, role_arn=role_arn),
            dry_run=dry_run,
        )

    def uninstall_falco(self, *, dry_run: bool = False) -> str:
        return self.helm.uninstall(dry_run=dry_run)

    def readiness(self) -> pd.DataFrame:
        return run_readiness(self.clients)

    # -- pods ------------------------------------------------------------------------

    def create_pod(self, manifest: dict, *, timeout: float = 120) -> str:
        return pod_ops.create_pod(self.clients, manifest, timeout=timeout)

    def exec_in_pod(
        self, pod: str, command: Sequence[str], *, namespace: str = NAMESPACE, tty: bool = False
    ) -> ExecResult:
        return exec_command(self.clients, pod, command, namespace=namespace, tty=tty)

    def delete_pod(self, pod: str, *, namespace: str = NAMESPACE) -> None:
        pod_ops.delete_pod(self.clients, pod, namespace)

    def cleanup(self) -> list[str]:
        """Remove what the project labelled; what RBAC kept from being searched is logged as a warning
        (``falco-lab cluster cleanup`` prints it; :func:`falco_lab.cluster.pods.cleanup` returns it)."""
        report = pod_ops.cleanup(self.clients, self.namespace)
        for note in report.unsearched:
            log.warning("cleanup did not search %s", note)
        return report.removed

    # -- events ----------------------------------------------------------------------

    def falco_alerts(self, since: datetime | None = None) -> pd.DataFrame:
        """Alerts from the Falco pods' logs (``falco_lab.events.load_pod_logs``).

        A pod whose log cannot be read is listed in the frame's load report; the
        alerts of the other pods are kept.
        """
        from falco_lab.events import load_pod_logs

        try:
            return load_pod_logs(
                self.clients.core,
                namespace=chart.FALCO_NAMESPACE,
                label_selector=FALCO_POD_SELECTOR,
                container="falco",
                since=since,
            )
        except (ApiException, Urllib3HTTPError, OSError) as exc:
            raise ClusterError(f"read Falco alerts from the pods in {chart.FALCO_NAMESPACE}: {exc}") from exc

    def ui_credentials(self) -> tuple[str, str]:
        """(user, password) of the sidekick UI, read from its Secret; kept in memory only."""
        ns, name = chart.FALCO_NAMESPACE, chart.UI_SECRET
        secret = call(
            f"read secret {ns}/{name}",
            self.clients.core.read_namespaced_secret,
            name,
            ns,
            _request_timeout=self.clients.request_timeout,
        )
        raw = (secret.data or {}).get(chart.UI_SECRET_KEY)
        if not raw:
            raise ClusterError(f"secret {ns}/{name} has no key {chart.UI_SECRET_KEY}")
        user, sep, password = base64.b64decode(raw).decode("utf-8").partition(":")
        if not sep:
            raise ClusterError(f"secret {ns}/{name}: {chart.UI_SECRET_KEY} is not in user:password form")
        return user, password

    def ui_port_forward(self) -> PortForwarder:
        """A port-forward to a falcosidekick-ui pod (use as a context manager; ``.url``)."""
        pod = pod_for_service(self.clients, chart.UI_SERVICE, chart.FALCO_NAMESPACE)
        return PortForwarder(self.clients, pod, chart.FALCO_NAMESPACE, chart.UI_PORT)

    def sidekick_events(self, since: datetime | None = None) -> pd.DataFrame:
        """Events stored by falcosidekick-ui, through a port-forward (no ``kubectl`` needed)."""
        from falco_lab.events import LoadError, load_events

        auth = self.ui_credentials()
        with self.ui_port_forward() as forward:
            try:
                return load_events(forward.url, auth=auth, since=since)
            except LoadError as exc:
                raise ClusterError(f"read events from falcosidekick-ui: {exc}") from exc


def values_problems(values: Sequence[Path | str]) -> list[str]:
    """Unknown or outdated chart keys in the values files, as ``file: key: reason`` lines."""
    problems = []
    for path in values:
        problems += [f"{path}: {p}" for p in check_values(load_values(path))]
    return problems


def install_command(
    helm: Helm, values: Sequence[Path | str] = (chart.VALUES_FILE,), *, dry_run: bool = True
) -> str:
    """Check the values files, then run (or with ``dry_run`` only show) ``helm upgrade --install``."""
    problems = values_problems(values)
    if problems:
        raise ClusterError("values rejected (chart 9.x would ignore or refuse them):\n" + "\n".join(problems))
    return helm.install(values=values, dry_run=dry_run)


def ui_secret_manifest(password: str, user: str = "admin") -> dict:
    """The Secret the sidekick UI reads its ``user:password`` from."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": chart.UI_SECRET,
            "namespace": chart.FALCO_NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "falco-lab"},
        },
        "type": "Opaque",
        "stringData": {chart.UI_SECRET_KEY: f"{user}:{password}"},
    }

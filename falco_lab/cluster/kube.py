"""Building the official ``kubernetes`` client, and turning its errors into clear ones.

Only the context *name* and the API server host are ever shown; tokens, certificates
and passwords stay inside the client configuration.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from falco_lab.workshop.interface import ClusterError

#: Seconds for one API request (connect, read); a stuck API server never hangs a notebook.
DEFAULT_REQUEST_TIMEOUT: tuple[float, float] = (5.0, 30.0)

T = TypeVar("T")


@dataclass(slots=True)
class KubeClients:
    """The API groups falco-lab uses, sharing one ``ApiClient``."""

    api_client: client.ApiClient
    context: str
    host: str
    request_timeout: tuple[float, float] = DEFAULT_REQUEST_TIMEOUT

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    @property
    def networking(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.api_client)

    @property
    def version(self) -> client.VersionApi:
        return client.VersionApi(self.api_client)


def kubeconfig_paths(kubeconfig: str | None = None) -> list[Path]:
    """The kubeconfig files the client would read: the argument, else ``$KUBECONFIG``, else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def load_clients(
    *,
    context: str | None = None,
    kubeconfig: str | None = None,
    in_cluster: bool | None = None,
    request_timeout: tuple[float, float] = DEFAULT_REQUEST_TIMEOUT,
) -> KubeClients:
    """Clients from the in-cluster service account or a kubeconfig context.

    Parameters
    ----------
    context
        Kube context to use (default: the current one).
    kubeconfig
        Path of the kubeconfig (default: ``$KUBECONFIG`` or ``~/.kube/config``).
    in_cluster
        True: use the pod's service account; False: only a kubeconfig; None (default):
        a kubeconfig when one exists, else the service account when running in a pod.

    Raises
    ------
    ClusterError
        Nothing usable was found, or the context cannot be used (for example the
        ``aws eks get-token`` credential plugin failed); the message never contains
        credentials.
    """
    configuration = client.Configuration()
    existing = [p for p in kubeconfig_paths(kubeconfig) if p.is_file()]
    if in_cluster or (in_cluster is None and not existing and os.environ.get("KUBERNETES_SERVICE_HOST")):
        _load_in_cluster(configuration)
        return from_configuration(configuration, context="in-cluster", request_timeout=request_timeout)
    if not existing:
        shown = ", ".join(str(p) for p in kubeconfig_paths(kubeconfig))
        raise ClusterError(
            f"no kubeconfig at {shown}; for EKS run `aws eks update-kubeconfig --name <cluster> --region <region>`"
        )
    config_file = os.pathsep.join(str(p) for p in existing)  # the client merges several files
    try:
        contexts, active = config.list_kube_config_contexts(config_file=config_file)
    except (config.ConfigException, ValueError, OSError) as exc:
        raise ClusterError(f"cannot read the kubeconfig: {exc}") from exc
    names = [c["name"] for c in contexts]
    chosen = context or str((active or {}).get("name") or "")
    if chosen not in names:
        raise ClusterError(
            f"kube context {chosen!r} not found in the kubeconfig (contexts: {', '.join(names) or 'none'})"
        )
    try:
        config.load_kube_config(config_file=config_file, context=chosen, client_configuration=configuration)
    except (config.ConfigException, ValueError, OSError) as exc:
        raise ClusterError(f"cannot use kube context {chosen!r}: {exc}") from exc
    return from_configuration(configuration, context=chosen, request_timeout=request_timeout)


def _load_in_cluster(configuration: client.Configuration) -> None:
    try:
        loader = config.incluster_config.InClusterConfigLoader(
            token_filename=config.incluster_config.SERVICE_TOKEN_FILENAME,
            cert_filename=config.incluster_config.SERVICE_CERT_FILENAME,
        )
        loader.load_and_set(configuration)
    except config.ConfigException as exc:
        raise ClusterError(f"no kubeconfig and not running in a cluster: {exc}") from exc


def from_configuration(
    configuration: client.Configuration,
    *,
    context: str,
    request_timeout: tuple[float, float] = DEFAULT_REQUEST_TIMEOUT,
) -> KubeClients:
    """Clients for an explicit ``Configuration`` (tests point it at a local server)."""
    return KubeClients(client.ApiClient(configuration), context, configuration.host, request_timeout)


def api_message(exc: ApiException) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except (TypeError, ValueError):
        pass
    return exc.reason or "no reason given"


def call(what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a client method; translate API and network errors into :class:`ClusterError`.

    ``what`` names the operation and object (``"read pod falco-lab/x"``) for the message.
    """
    try:
        return func(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 403:
            raise ClusterError(f"{what}: forbidden (HTTP 403): {api_message(exc)}") from exc
        if exc.status == 401:
            raise ClusterError(f"{what}: not authenticated (HTTP 401); refresh your credentials") from exc
        raise ClusterError(f"{what}: HTTP {exc.status}: {api_message(exc)}") from exc
    except (Urllib3HTTPError, OSError) as exc:
        raise ClusterError(f"{what}: API server unreachable: {type(exc).__name__}: {exc}") from exc
    except ValueError as exc:  # the client's models reject a malformed answer
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"{what}: unexpected answer from the API server: {first}") from exc


def read_or_none(what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """:func:`call` for a read: the object, or None when the API server answers 404."""
    try:
        return call(what, func, *args, **kwargs)
    except ClusterError as exc:
        if is_not_found(exc):
            return None
        raise


def api_status(exc: BaseException) -> int | None:
    """The HTTP status of ``exc`` (or of its cause) when the API server answered, else None."""
    cause = exc if isinstance(exc, ApiException) else exc.__cause__
    return cause.status if isinstance(cause, ApiException) else None


def is_not_found(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) is an HTTP 404 from the API server."""
    return api_status(exc) == 404


def is_conflict(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) is an HTTP 409 (the object already exists) from the API server."""
    return api_status(exc) == 409


def is_forbidden(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) is an HTTP 403 from the API server."""
    return api_status(exc) == 403


def is_namespace_terminating(exc: BaseException) -> bool:
    """True when the API refused to create an object because its namespace is being deleted.

    The API server answers 403 Forbidden with a ``NamespaceTerminating`` cause ("unable to
    create new content in namespace X because it is being terminated").
    """
    if not is_forbidden(exc):
        return False
    cause = exc if isinstance(exc, ApiException) else exc.__cause__
    try:
        body = json.loads(getattr(cause, "body", None) or "")
    except (TypeError, ValueError):
        return False
    if not isinstance(body, dict):
        return False
    causes = (body.get("details") or {}).get("causes") or []
    return any(c.get("reason") == "NamespaceTerminating" for c in causes if isinstance(c, dict)) or (
        "because it is being terminated" in str(body.get("message", ""))
    )


def name_of(obj: Any) -> str:
    """``metadata.name`` of an API object ("" when it has none)."""
    meta = getattr(obj, "metadata", None)
    return str(meta.name) if meta is not None and meta.name else ""


def namespace_of(obj: Any) -> str:
    """``metadata.namespace`` of an API object ("" for cluster-scoped objects)."""
    meta = getattr(obj, "metadata", None)
    return str(meta.namespace) if meta is not None and meta.namespace else ""


def labels_of(obj: Any) -> dict[str, str]:
    """``metadata.labels`` of an API object (empty when it has none)."""
    meta = getattr(obj, "metadata", None)
    return dict(meta.labels or {}) if meta is not None else {}

"""The mode-independent cluster interface.

Two implementations exist: ``falco_lab.simulate.SimulatedCluster`` (mode
``"simulate"``, the default, no cluster needed) and ``falco_lab.cluster.eks.EKSCluster``
(mode ``"cluster"``, a real cluster through the official ``kubernetes`` client and the
``helm`` CLI); ``falco_lab.lab.connect`` picks one.  Notebooks and
:mod:`falco_lab.workshop.steps` only use what is declared here, and neither mode imports
the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from falco_lab.errors import FalcoLabError
from falco_lab.workshop.manifests import NAMESPACE

if TYPE_CHECKING:  # pragma: no cover - annotations only: the contract needs no pandas to import
    import pandas as pd

#: The two implementations of :class:`Cluster`: the values of ``connect(mode=...)`` and of
#: every notebook's ``mode`` parameter.
MODES: tuple[str, ...] = ("simulate", "cluster")
#: Allowed values of the ``status`` column of :meth:`Cluster.preflight`.
PREFLIGHT_STATUSES: tuple[str, ...] = ("ok", "warn", "fail")
#: Columns of :meth:`Cluster.preflight`.
PREFLIGHT_COLUMNS: tuple[str, ...] = ("check", "status", "detail")
#: Columns of :meth:`Cluster.readiness`.
READINESS_COLUMNS: tuple[str, ...] = ("component", "ready", "detail")


class ClusterError(FalcoLabError):
    """A cluster operation failed; the message says which object and why (never credentials)."""


class PodNotReadyError(ClusterError):
    """A pod did not reach ``Running`` in time; ``reason`` holds what Kubernetes reported."""

    def __init__(self, pod: str, namespace: str, reason: str) -> None:
        super().__init__(f"pod {namespace}/{pod} is not running: {reason}")
        self.pod = pod
        self.namespace = namespace
        self.reason = reason


@dataclass(slots=True)
class ExecResult:
    """What one ``exec`` into a pod did.

    ``exit_code`` is None when the exit status could not be read (for example a
    stream that was closed early).
    """

    pod: str
    namespace: str
    command: list[str]
    tty: bool
    stdout: str
    stderr: str
    exit_code: int | None
    started: datetime
    finished: datetime | None = field(default=None)

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.exit_code == 0


@runtime_checkable
class Cluster(Protocol):
    """A Kubernetes cluster with Falco, real or simulated.

    Attributes
    ----------
    mode
        ``"simulate"`` or ``"cluster"``.
    context
        Kube context name (never credentials), or e.g. ``"simulated-eks"``.
    """

    mode: str
    context: str

    def preflight(self) -> pd.DataFrame:
        """Checks before installing: columns ``check``, ``status`` (ok/warn/fail), ``detail``."""
        ...

    def install_falco(self, *, dry_run: bool = False) -> str:
        """Install or upgrade Falco; return a description (with dry_run: the exact command)."""
        ...

    def readiness(self) -> pd.DataFrame:
        """Is Falco up: columns ``component``, ``ready`` (bool), ``detail``."""
        ...

    def create_pod(self, manifest: dict, *, timeout: float = 120) -> str:
        """Create the pod (and its namespace if missing), wait until Running, return its name.

        Raises :class:`PodNotReadyError` when it is not Running within ``timeout`` s.
        """
        ...

    def exec_in_pod(
        self, pod: str, command: Sequence[str], *, namespace: str = NAMESPACE, tty: bool = False
    ) -> ExecResult:
        """Run ``command`` in the pod's first container, with or without a TTY."""
        ...

    def delete_pod(self, pod: str, *, namespace: str = NAMESPACE) -> None:
        """Delete the pod; a pod that does not exist is not an error."""
        ...

    def cleanup(self) -> list[str]:
        """Remove everything the project labelled; return ``kind/namespace/name`` of each object."""
        ...

    def falco_alerts(self, since: datetime | None = None) -> pd.DataFrame:
        """Falco's alerts (canonical events frame, ``falco_lab.events.schema``)."""
        ...

    def sidekick_events(self, since: datetime | None = None) -> pd.DataFrame:
        """Events as falcosidekick(-ui) stored them (canonical events frame, with ``uuid``)."""
        ...


__all__ = [
    "MODES",
    "PREFLIGHT_COLUMNS",
    "PREFLIGHT_STATUSES",
    "READINESS_COLUMNS",
    "Cluster",
    "ClusterError",
    "ExecResult",
    "PodNotReadyError",
]

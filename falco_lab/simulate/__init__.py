"""Simulate mode: a simulated EKS cluster whose activity the real rules engine turns into alerts.

* :func:`simulate` runs a scenario (``workshop``, ``incident``, ``background``) and returns a
  :class:`Simulation` (syscall events, Falco alerts, sidekick events with ``uuid``).
* :class:`SimulatedCluster` implements the same ``Cluster`` interface as cluster mode.
* The world model (:class:`World` → :class:`Node` → :class:`Namespace` → :class:`Pod` →
  :class:`Container` → :class:`Process`) and :class:`Simulator`, which applies actions to it and
  records the syscall events they cause.

Everything here is labelled as simulated (context ``simulated-eks``, ``simulated=true`` on
sidekick events); nothing talks to a real cluster.
"""

from falco_lab.simulate.actions import CommandResult, SimulationError, Simulator
from falco_lab.simulate.cluster import SimulatedCluster
from falco_lab.simulate.model import (
    SIMULATED_CONTEXT,
    Container,
    FalcoInstall,
    Mount,
    Namespace,
    Node,
    Pod,
    Process,
    Volume,
    World,
)
from falco_lab.simulate.scenario import SCENARIOS, Simulation, simulate
from falco_lab.simulate.syscalls import EventLog
from falco_lab.simulate.topology import build_world

__all__ = [
    "SCENARIOS",
    "SIMULATED_CONTEXT",
    "CommandResult",
    "Container",
    "EventLog",
    "FalcoInstall",
    "Mount",
    "Namespace",
    "Node",
    "Pod",
    "Process",
    "SimulatedCluster",
    "Simulation",
    "SimulationError",
    "Simulator",
    "Volume",
    "World",
    "build_world",
    "simulate",
]

"""The lab: what notebooks and ``make run`` use on top of both modes.

* :func:`connect` - a :class:`~falco_lab.workshop.Cluster` in simulate or cluster mode;
* :mod:`~falco_lab.lab.nb` - notebook helpers (recorded values, set-up, rules choice);
* :mod:`~falco_lab.lab.runner` - ``python -m falco_lab.lab.runner run`` (``make run``).
"""

from __future__ import annotations

from falco_lab.lab.connect import connect
from falco_lab.workshop.interface import MODES

__all__ = ["MODES", "connect"]

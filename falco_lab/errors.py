"""The root of every error falco-lab raises on purpose.

Each package derives its own errors from :class:`FalcoLabError` (``RuleError``,
``LoadError``, ``ClusterError``, ``SimulationError`` ...), so a caller, a notebook or the
CLI can catch the project's errors with one ``except`` and let real bugs through.
This module is the bottom of the layering (see ``ARCHITECTURE.md``): it imports nothing
from the project.
"""

from __future__ import annotations

__all__ = ["FalcoLabError"]


class FalcoLabError(Exception):
    """Root of every error falco-lab raises on purpose."""

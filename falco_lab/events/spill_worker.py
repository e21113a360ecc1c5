"""Entry point of a spill worker process: ``python -m falco_lab.events.spill_worker READ_FD WRITE_FD``.

A module of its own, so that the worker's classes are those of :mod:`falco_lab.events.spill`
(what it sends back unpickles in the parent) and no user script is imported again, as
``multiprocessing``'s spawn would.
"""

from __future__ import annotations

import sys

from falco_lab.events.spill import serve

if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))

"""Read real syscall captures (``.scap``) into Falco field values.

``is_capture(path)`` tells a capture by its content; ``load_capture(path)`` gives a DataFrame
whose columns are field names (``proc.name``, ``fd.name``, ``evt.arg.flags`` ...), which
``RuleSet.evaluate`` and ``Condition.mask`` take as is; ``capture_events(path)`` streams the same
rows as dicts.  The layers below: :mod:`.reader` (blocks), :mod:`.table` (event table),
:mod:`.params` (parameter decoding and printing), :mod:`.state` (threads, fds, fields).
"""

from __future__ import annotations

from falco_lab.capture.load import capture_events, load_capture
from falco_lab.capture.reader import CaptureError, CaptureReader, is_capture
from falco_lab.capture.state import CaptureState

__all__ = ["CaptureError", "CaptureReader", "CaptureState", "capture_events", "is_capture", "load_capture"]

"""falcosidekick webhook payloads -> canonical frame.

falcosidekick's ``webhook`` output POSTs the Falco JSON alert (plus a ``uuid``); its
``WebUI`` output POSTs ``{"event": <alert>, "outputs": ["WebUI", ...]}``.  Either shape,
a list of them, or the JSON text/bytes of either, is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from falco_lab.events.jsonl import Chunk
from falco_lab.events.load_diagnostics import Problem
from falco_lab.events.validate import alerts_to_frame


def unwrap(payload: object) -> object:
    """The alert inside a payload: ``payload["event"]`` for the UI wrapper, else ``payload``."""
    if isinstance(payload, Mapping) and "event" in payload and "rule" not in payload:
        return payload["event"]
    return payload


def read_webhook(payloads: object, source: str = "<webhook>") -> Chunk:
    """Validate webhook payload(s) and return the canonical frame and problems.

    Parameters
    ----------
    payloads : dict, list of dict, str or bytes
        One payload, several, or their JSON encoding.
    source : str
        Name used in problems; each problem says which payload (``payload 3``).
    """
    if isinstance(payloads, (bytes, bytearray, memoryview, str)):
        try:
            payloads = orjson.loads(payloads)
        except orjson.JSONDecodeError as exc:
            return Chunk(
                source, alerts_to_frame([], source)[0], [Problem(source, None, f"invalid JSON: {exc}")]
            )
    items: Sequence[Any] = payloads if isinstance(payloads, list) else [payloads]
    alerts = [unwrap(item) for item in items]
    labels = [f"payload {i + 1}" for i in range(len(alerts))]
    frame, problems = alerts_to_frame(alerts, source, labels=labels)
    return Chunk(source, frame, problems)

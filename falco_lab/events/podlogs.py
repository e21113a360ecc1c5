"""Falco alerts from the logs of the Falco DaemonSet's pods (official ``kubernetes`` client).

With ``json_output: true`` Falco writes one JSON alert per line on stdout, interleaved
with its own plain-text log lines.  As Falco's own test harness does, only lines that
start with ``{`` are taken as alerts; the others are skipped and counted
(``LoadReport.skipped``).  A line that starts with ``{`` but is not a valid alert is a
problem, reported with the pod and its line number in that pod's log.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from falco_lab.events.frame import concat_frames
from falco_lab.events.jsonl import DEFAULT_MAX_LINE_BYTES, Chunk, read_jsonl_bytes
from falco_lab.events.load_diagnostics import Problem
from falco_lab.events.since import Since, since_cutoff

#: The chart's defaults: namespace, pod label and container of Falco.
FALCO_NAMESPACE = "falco"
FALCO_LABEL_SELECTOR = "app.kubernetes.io/name=falco"
FALCO_CONTAINER = "falco"


def core_v1_api() -> Any:
    """A ``kubernetes.client.CoreV1Api`` from the kubeconfig (or in-cluster config)."""
    from kubernetes import client, config

    try:
        config.load_kube_config()
    except config.ConfigException:
        config.load_incluster_config()
    return client.CoreV1Api()


def split_pod_log(text: bytes) -> tuple[bytes, list[int], int]:
    """Keep the lines starting with ``{``; return them, their line numbers and the skipped count."""
    kept: list[bytes] = []
    numbers: list[int] = []
    skipped = 0
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if line.lstrip(b" \t").startswith(b"{"):
            kept.append(line)
            numbers.append(number)
        else:
            skipped += 1
    return b"\n".join(kept) + (b"\n" if kept else b""), numbers, skipped


def read_pod_log_text(
    text: str | bytes, source: str, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Chunk:
    """Parse one pod's log (as returned by ``read_namespaced_pod_log``)."""
    data = text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else bytes(text)
    alerts, numbers, skipped = split_pod_log(data)
    chunk = read_jsonl_bytes(alerts, source, max_line_bytes=max_line_bytes)
    problems = [Problem(p.file, numbers[p.line - 1] if p.line else None, p.reason) for p in chunk.problems]
    return Chunk(source, chunk.frame, problems, chunk.skipped + skipped)


def read_pod_logs(
    api: Any = None,
    *,
    namespace: str = FALCO_NAMESPACE,
    label_selector: str = FALCO_LABEL_SELECTOR,
    container: str = FALCO_CONTAINER,
    since: Since | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> list[Chunk]:
    """Read the Falco alerts of every pod matching ``label_selector`` in ``namespace``.

    Parameters
    ----------
    api : kubernetes.client.CoreV1Api, optional
        Default: :func:`core_v1_api`.
    since : str or timedelta, optional
        Only log lines newer than this window (``since_seconds`` of the API).

    Returns
    -------
    list of Chunk
        One per pod, named ``pod/<namespace>/<name>``.  A pod whose log cannot be read
        gives an empty chunk with one problem saying why (the others still load).
    """
    from kubernetes.client.exceptions import ApiException

    api = api or core_v1_api()
    pods = api.list_namespaced_pod(namespace, label_selector=label_selector)
    chunks = []
    for pod in sorted(pods.items, key=lambda p: p.metadata.name):
        name = pod.metadata.name
        source = f"pod/{namespace}/{name}"
        kwargs: dict[str, Any] = {"container": container, "_preload_content": False}
        if since is not None:
            window = pd.Timestamp.now(tz="UTC") - since_cutoff(since)
            kwargs["since_seconds"] = max(1, int(window.total_seconds()) + 1)
        try:
            response = api.read_namespaced_pod_log(name, namespace, **kwargs)
        except ApiException as exc:
            empty = concat_frames([])
            chunks.append(
                Chunk(
                    source, empty, [Problem(source, None, f"cannot read log: HTTP {exc.status} {exc.reason}")]
                )
            )
            continue
        text = response.data if hasattr(response, "data") else response
        chunks.append(read_pod_log_text(text, source, max_line_bytes=max_line_bytes))
    return chunks


def load_pod_logs(api: Any = None, **options: Any) -> pd.DataFrame:
    """Shortcut: ``load_events`` over the Falco pods' logs (see :func:`read_pod_logs`)."""
    from falco_lab.events.load import frame_from_chunks

    return frame_from_chunks(read_pod_logs(api, **options), since=options.get("since"))

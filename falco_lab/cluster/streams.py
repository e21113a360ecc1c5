"""Exec into pods and port-forward to them through the API server's streaming endpoints.

Both use ``kubernetes.stream``: no ``kubectl`` process is involved.  The client ignores
``_request_timeout`` for a stream opened with ``_preload_content=False``, so the
websocket's own timeout bounds the connect and every read here; websocket, SSL and
socket errors become :class:`ClusterError` naming the pod and the step (connect, read),
and a refusal (e.g. HTTP 403 on ``pods/exec`` or ``pods/portforward``) shows the API
server's reason.
"""

from __future__ import annotations

import json
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import websocket
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward, stream

from falco_lab.cluster.kube import KubeClients, call, name_of
from falco_lab.workshop.interface import ClusterError, ExecResult

#: Seconds an exec may run before it is cut off.
EXEC_TIMEOUT = 60.0

T = TypeVar("T")
#: One stream connect at a time changes the client's websocket class (see _connect_timeout).
_TIMEOUT_LOCK = threading.Lock()
_HANDSHAKE = re.compile(r"Handshake status (?P<code>\d+)(?: (?P<reason>[A-Za-z ]+?))?(?: -\+-\+-|$)")


def _status_message(body: object) -> str | None:
    try:
        data = json.loads(body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))
    except ValueError:
        return None
    return str(data["message"]) if isinstance(data, dict) and data.get("message") else None


def stream_failure(exc: BaseException) -> str:
    """A readable reason for a failed stream: the API server's status and message when it refused.

    The client wraps a refused websocket handshake into ``ApiException(status=0)``; the
    original ``WebSocketBadStatusException`` (its context) carries the status and the
    API server's ``Status`` body.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, websocket.WebSocketBadStatusException):
            message = _status_message(seen.resp_body)
            return f"HTTP {seen.status_code}" + (f": {message}" if message else "")
        seen = seen.__cause__ or seen.__context__
    text = str(getattr(exc, "reason", None) or exc)
    match = _HANDSHAKE.search(text)
    if match:
        return f"HTTP {match['code']}"
    return f"{type(exc).__name__}: {text}"[:500]


class _TimedWebSocket(websocket.WebSocket):
    """A websocket whose connect and reads time out after :data:`_CONNECT_TIMEOUT` seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sock_opt.timeout = _CONNECT_TIMEOUT[0]


_CONNECT_TIMEOUT: list[float | None] = [None]


@contextmanager
def _connect_timeout(seconds: float) -> Iterator[None]:
    """Make the client's stream connect time out after ``seconds``.

    ``kubernetes.stream`` builds its ``websocket.WebSocket`` without a timeout (and ignores
    ``_request_timeout`` for streams), so a silent API server or proxy would block the
    connect forever; for the duration of one connect its module uses a subclass that sets
    the timeout.  One connect at a time (a lock), the client restored afterwards.
    """
    from kubernetes.stream import ws_client

    with _TIMEOUT_LOCK:
        original = ws_client.WebSocket
        _CONNECT_TIMEOUT[0] = seconds
        ws_client.WebSocket = _TimedWebSocket  # type: ignore[misc]
        try:
            yield
        finally:
            ws_client.WebSocket = original  # type: ignore[misc]
            _CONNECT_TIMEOUT[0] = None


#: Errors of a websocket stream (socket timeouts are ``OSError``).
STREAM_ERRORS: tuple[type[BaseException], ...] = (
    ApiException,
    websocket.WebSocketException,
    ssl.SSLError,
    OSError,
)


def _open(what: str, step: Callable[[], T], timeout: float) -> T:
    try:
        with _connect_timeout(timeout):
            return step()
    except STREAM_ERRORS as exc:
        raise ClusterError(f"{what}: connect: {stream_failure(exc)}") from exc


def exec_command(
    clients: KubeClients,
    pod: str,
    command: Sequence[str],
    *,
    namespace: str,
    tty: bool = False,
    container: str | None = None,
    timeout: float = EXEC_TIMEOUT,
) -> ExecResult:
    """Run ``command`` in a pod, like ``kubectl exec [-it]``.

    With ``tty`` a terminal is allocated (and stdin kept open, as ``-it`` does), so
    the process has a controlling TTY; stderr then arrives merged into stdout.
    """
    started = datetime.now(UTC)
    kwargs: dict[str, Any] = {
        "command": list(command),
        "stdout": True,
        "stderr": True,
        "stdin": tty,
        "tty": tty,
    }
    if container:
        kwargs["container"] = container
    what = f"exec in pod {namespace}/{pod}"
    connect_timeout, read_timeout = clients.request_timeout
    resp = _open(
        what,
        lambda: stream(
            clients.core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            _preload_content=False,
            **kwargs,
        ),
        connect_timeout,
    )
    stdout, stderr = [], []
    deadline = time.monotonic() + timeout
    try:
        resp.sock.settimeout(read_timeout)
        while resp.is_open() and time.monotonic() < deadline:
            resp.update(timeout=0.2)
            if resp.peek_stdout():
                stdout.append(resp.read_stdout())
            if resp.peek_stderr():
                stderr.append(resp.read_stderr())
        timed_out = resp.is_open()
    except STREAM_ERRORS as exc:
        raise ClusterError(f"{what}: read: {stream_failure(exc)}") from exc
    finally:
        resp.close()
    exit_code = None
    if not timed_out:
        try:
            exit_code = resp.returncode
        except (KeyError, IndexError, TypeError, ValueError):
            exit_code = None
    if timed_out:
        stderr.append(f"[falco-lab: exec cut off after {timeout:g} s]")
    return ExecResult(
        pod=pod,
        namespace=namespace,
        command=list(command),
        tty=tty,
        stdout="".join(stdout),
        stderr="".join(stderr),
        exit_code=exit_code,
        started=started,
        finished=datetime.now(UTC),
    )


def pod_for_service(clients: KubeClients, service: str, namespace: str) -> str:
    """Name of a Running pod behind ``service`` (what ``kubectl port-forward svc/...`` picks)."""
    svc = call(
        f"read service {namespace}/{service}",
        clients.core.read_namespaced_service,
        service,
        namespace,
        _request_timeout=clients.request_timeout,
    )
    selector = ",".join(f"{k}={v}" for k, v in ((svc.spec.selector if svc.spec else None) or {}).items())
    if not selector:
        raise ClusterError(f"service {namespace}/{service} has no selector")
    pods = call(
        f"list pods of service {namespace}/{service}",
        clients.core.list_namespaced_pod,
        namespace,
        label_selector=selector,
        _request_timeout=clients.request_timeout,
    ).items
    running = [name_of(p) for p in pods if p.status and p.status.phase == "Running"]
    if not running:
        raise ClusterError(f"no Running pod behind service {namespace}/{service}")
    return sorted(running)[0]


class PortForwarder:
    """Forward ``127.0.0.1:<local_port>`` to a pod port through the API server.

    Use as a context manager; ``url`` is then the local base URL. Each local TCP
    connection gets its own port-forward stream.
    """

    def __init__(self, clients: KubeClients, pod: str, namespace: str, port: int) -> None:
        self.clients, self.pod, self.namespace, self.port = clients, pod, namespace, port
        #: Why port-forward streams failed (the first few), for the caller's error message.
        self.errors: list[str] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def local_port(self) -> int:
        if self._listener is None:
            raise ClusterError("port-forward is not running")
        return self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def _open_stream(self) -> Any:
        forward = _open(
            f"port-forward to pod {self.namespace}/{self.pod}:{self.port}",
            lambda: portforward(
                self.clients.core.connect_get_namespaced_pod_portforward,
                self.pod,
                self.namespace,
                ports=str(self.port),
            ),
            self.clients.request_timeout[0],
        )
        forward.websocket.settimeout(None)  # an idle forward is fine; the relay selects
        return forward

    def __enter__(self) -> PortForwarder:
        # one stream first: a refusal (RBAC on pods/portforward, pod gone) is an error with its reason
        self._open_stream().close()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        thread = threading.Thread(
            target=self._accept, name=f"port-forward {self.pod}:{self.port}", daemon=True
        )
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._listener is not None:
            self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._relay, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _relay(self, conn: socket.socket) -> None:
        try:
            forward = self._open_stream()
        except ClusterError as exc:
            if len(self.errors) < 5:
                self.errors.append(str(exc))
            conn.close()
            return
        remote = forward.socket(self.port)
        remote.setblocking(True)
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([conn, remote], [], [], 0.2)
                if conn in readable:
                    data = conn.recv(65536)
                    if not data:
                        break
                    remote.sendall(data)
                if remote in readable:
                    data = remote.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()
            forward.close()

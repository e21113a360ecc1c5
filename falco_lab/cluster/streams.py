"""Exec into pods and port-forward to them through the API server's streaming endpoints.

Both use ``kubernetes.stream``: no ``kubectl`` process is involved.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward, stream

from falco_lab.cluster.kube import KubeClients, api_message, call, name_of
from falco_lab.workshop.interface import ClusterError, ExecResult

#: Seconds an exec may run before it is cut off.
EXEC_TIMEOUT = 60.0


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
    kwargs = {"command": list(command), "stdout": True, "stderr": True, "stdin": tty, "tty": tty}
    if container:
        kwargs["container"] = container
    try:
        resp = stream(
            clients.core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            _preload_content=False,
            _request_timeout=clients.request_timeout[0],
            **kwargs,
        )
    except ApiException as exc:
        raise ClusterError(f"exec in pod {namespace}/{pod}: {api_message(exc)}") from exc
    stdout, stderr = [], []
    deadline = time.monotonic() + timeout
    try:
        while resp.is_open() and time.monotonic() < deadline:
            resp.update(timeout=0.2)
            if resp.peek_stdout():
                stdout.append(resp.read_stdout())
            if resp.peek_stderr():
                stderr.append(resp.read_stderr())
        timed_out = resp.is_open()
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

    def __enter__(self) -> PortForwarder:
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
            forward = portforward(
                self.clients.core.connect_get_namespaced_pod_portforward,
                self.pod,
                self.namespace,
                ports=str(self.port),
            )
        except ApiException:
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

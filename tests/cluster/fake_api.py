"""A small in-memory Kubernetes API server on 127.0.0.1 for the cluster helpers' tests.

It speaks the REST paths falco-lab uses (version; nodes; namespaces; pods create/get/
list/delete/patch/log; events; secrets; services; daemonsets; deployments;
networkpolicies), answers with Kubernetes ``Status`` objects on errors, and lets a
test inject faults: an HTTP status or a hang for a method and path pattern, and pods
that never become ready.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from kubernetes import client

from falco_lab.cluster.kube import KubeClients, from_configuration

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4-eks-2d5f260",
    "gitCommit": "0000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.22",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def node(
    name: str,
    kernel: str = "6.1.115-126.197.amzn2023.x86_64",
    os_image: str = "Amazon Linux 2023",
    operating_system: str = "linux",
    **labels,
):
    return {
        "metadata": {"name": name, "labels": dict(labels)},
        "status": {
            "nodeInfo": {
                "kernelVersion": kernel,
                "osImage": os_image,
                "containerRuntimeVersion": "containerd://1.7.27",
                "architecture": "amd64",
                "bootID": "b",
                "kubeProxyVersion": "v1.31.4",
                "kubeletVersion": "v1.31.4",
                "machineID": "m",
                "operatingSystem": operating_system,
                "systemUUID": "s",
            }
        },
    }


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


#: The ``reason`` the API server gives with each status code (for injected faults).
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "AlreadyExists",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def _fault(code: int, method: str, path: str) -> dict:
    """A fault as the API server words it (e.g. RBAC: 'pods is forbidden: User ... cannot list ...')."""
    parts = path.strip("/").split("/")
    resource = next((p for p in reversed(parts) if p in _RESOURCES), parts[-1])
    collection = parts[-1] in _RESOURCES and parts[-1] not in ("log", "exec", "portforward", "scale")
    verbs = {"POST": "create", "PATCH": "patch", "DELETE": "delete", "PUT": "update"}
    verb = ("list" if collection else "get") if method == "GET" else verbs.get(method, method.lower())
    group = parts[1] if parts[0] == "apis" else ""
    if code == 403:
        if "namespaces" in parts[:-1]:
            scope = f'in the namespace "{parts[parts.index("namespaces") + 1]}"'
        else:
            scope = "at the cluster scope"
        message = (
            f'{resource} is forbidden: User "workshop-user" cannot {verb} resource "{resource}" '
            f'in API group "{group}" {scope}'
        )
    else:
        message = f"injected HTTP {code} for {method} {path}"
    return _status(code, _REASONS.get(code, "Unknown"), message, {"kind": resource})


_RESOURCES = {
    "pods",
    "namespaces",
    "networkpolicies",
    "secrets",
    "services",
    "nodes",
    "events",
    "daemonsets",
    "deployments",
    "replicasets",
    "statefulsets",
    "log",
    "exec",
    "portforward",
    "scale",
}


def _matches(labels: dict, selector: str | None) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


class FakeKube:
    """State and faults of the fake API server."""

    def __init__(self) -> None:
        self.nodes: list[dict] = [node("ip-10-0-1-23.eu-west-1.compute.internal")]
        self.namespaces: dict[str, dict] = {}
        self.pods: dict[tuple[str, str], dict] = {}
        self.secrets: dict[tuple[str, str], dict] = {}
        self.services: dict[tuple[str, str], dict] = {}
        self.daemonsets: dict[tuple[str, str], dict] = {}
        self.deployments: dict[tuple[str, str], dict] = {}
        self.replicasets: dict[tuple[str, str], dict] = {}
        self.statefulsets: dict[tuple[str, str], dict] = {}
        self.policies: dict[tuple[str, str], dict] = {}
        self.events: dict[str, list[dict]] = {}
        self.logs: dict[tuple[str, str], str] = {}
        #: pods whose restart count goes up by one at every list of their namespace (crash loop)
        self.restarting: set[str] = set()
        #: pod name -> "running" (default: Running on the 2nd read), "never" (stays Pending), "fail"
        self.pod_behaviour: dict[str, str] = {}
        #: (METHOD, path regex) -> HTTP status, or "hang" (sleep longer than the client waits)
        self.faults: dict[tuple[str, str], int | str] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.hang_seconds = 3.0
        #: exec calls seen: (namespace, pod, command, tty)
        self.execs: list[tuple[str, str, list[str], bool]] = []
        #: exit code the next execs report
        self.exec_exit_code = 0
        #: (host, port) that port-forward streams are connected to, and the ports asked for
        self.portforward_target: tuple[str, int] | None = None
        self.portforwards: list[tuple[str, str, str]] = []
        #: how many API requests a deleted pod / namespace stays, terminating, before it is gone
        #: (a real API server keeps it for the grace period / until its content is deleted)
        self.pod_termination_requests = 0
        self.namespace_termination_requests = 0
        self._terminating_pods: dict[tuple[str, str], int] = {}
        self._terminating_namespaces: dict[str, int] = {}

    # -- helpers used by tests ---------------------------------------------------------

    def add_namespace(self, name: str, labels: dict | None = None, phase: str = "Active") -> None:
        self.namespaces[name] = {
            "metadata": {"name": name, "labels": labels or {}},
            "status": {"phase": phase},
        }

    def add_pod(
        self,
        namespace: str,
        name: str,
        labels: dict | None = None,
        phase: str = "Running",
        node_name: str = "n1",
        owner: tuple[str, str] | None = None,
        ready: bool | None = None,
        restarts: int = 0,
    ):
        meta: dict = {"name": name, "namespace": namespace, "labels": labels or {}}
        if owner is not None:
            meta["ownerReferences"] = [_owner_ref(*owner)]
        self.pods[(namespace, name)] = {
            "metadata": meta,
            "spec": {"nodeName": node_name, "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": phase},
        }
        if ready is not None:
            self.pods[(namespace, name)]["status"].update(
                conditions=[{"type": "Ready", "status": "True" if ready else "False"}],
                containerStatuses=[
                    {
                        "name": "c",
                        "ready": ready,
                        "restartCount": restarts,
                        "image": "busybox",
                        "imageID": "",
                        "state": {"running": {}},
                    }
                ],
            )

    def add_replicaset(self, namespace: str, name: str, deployment: str | None = None) -> None:
        meta: dict = {"name": name, "namespace": namespace}
        if deployment is not None:
            meta["ownerReferences"] = [_owner_ref("Deployment", deployment)]
        self.replicasets[(namespace, name)] = {"metadata": meta, "spec": {"replicas": 1, "selector": {}}}

    def add_workload(self, kind: str, namespace: str, name: str, replicas: int = 2) -> None:
        """A Deployment or StatefulSet (``kind``), to be scaled by the response."""
        store = self.deployments if kind == "Deployment" else self.statefulsets
        store[(namespace, name)] = {
            "metadata": {"name": name, "namespace": namespace, "generation": 1},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": {"replicas": replicas},
        }

    def calls(self, method: str, pattern: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.search(pattern, p))

    # -- request handling --------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, object]:
        with self.lock:
            self.requests.append((method, path))
            self._tick_terminations()
            for (m, pattern), fault in self.faults.items():
                if m == method and re.search(pattern, path):
                    if fault == "hang":
                        break
                    return int(fault), _fault(int(fault), method, path)
            else:
                return self._route(method, path, query, body)
        time.sleep(self.hang_seconds)
        return 504, _status(504, "Timeout", "hung")

    def _tick_terminations(self) -> None:
        """Objects being deleted disappear after their number of requests (grace periods)."""
        for key in list(self._terminating_pods):
            self._terminating_pods[key] -= 1
            if self._terminating_pods[key] < 0:
                del self._terminating_pods[key]
                self.pods.pop(key, None)
        for name in list(self._terminating_namespaces):
            self._terminating_namespaces[name] -= 1
            if self._terminating_namespaces[name] < 0:
                del self._terminating_namespaces[name]
                self.namespaces.pop(name, None)
                self.pods = {k: v for k, v in self.pods.items() if k[0] != name}

    def _route(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, object]:
        sel = query.get("labelSelector", [None])[0]
        parts = path.strip("/").split("/")
        if path.rstrip("/") == "/version":
            return 200, VERSION
        if path == "/api/v1/nodes":
            return 200, {"kind": "NodeList", "items": self.nodes}
        if path == "/api/v1/pods":
            items = [p for p in self.pods.values() if _matches(p["metadata"].get("labels", {}), sel)]
            return 200, {"kind": "PodList", "items": items}
        if path == "/apis/networking.k8s.io/v1/networkpolicies":
            items = [p for p in self.policies.values() if _matches(p["metadata"].get("labels", {}), sel)]
            return 200, {"kind": "NetworkPolicyList", "items": items}
        if path == "/api/v1/namespaces":
            if method == "POST":
                name = body["metadata"]["name"]
                if name in self._terminating_namespaces:
                    return 409, _status(
                        409,
                        "AlreadyExists",
                        f'object is being deleted: namespaces "{name}" already exists',
                        {"name": name, "kind": "namespaces"},
                    )
                if name in self.namespaces:
                    return 409, _status(
                        409,
                        "AlreadyExists",
                        f'namespaces "{name}" already exists',
                        {"name": name, "kind": "namespaces"},
                    )
                self.namespaces[name] = {**copy.deepcopy(body), "status": {"phase": "Active"}}
                return 201, self.namespaces[name]
            items = [n for n in self.namespaces.values() if _matches(n["metadata"].get("labels", {}), sel)]
            return 200, {"kind": "NamespaceList", "items": items}
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4:
            name = parts[3]
            if name not in self.namespaces:
                return 404, _status(404, "NotFound", f'namespaces "{name}" not found')
            if method == "DELETE":
                if self.namespace_termination_requests > 0:
                    self.namespaces[name]["status"] = {"phase": "Terminating"}
                    self.namespaces[name]["metadata"]["deletionTimestamp"] = "2026-12-04T09:00:00Z"
                    self._terminating_namespaces.setdefault(name, self.namespace_termination_requests)
                    return 200, self.namespaces[name]
                self.namespaces.pop(name)
                self.pods = {k: v for k, v in self.pods.items() if k[0] != name}
                return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
            if method == "PATCH":
                meta = self.namespaces[name]["metadata"]
                for key in ("labels", "annotations"):
                    meta.setdefault(key, {}).update((body or {}).get("metadata", {}).get(key, {}))
            return 200, self.namespaces[name]
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) >= 5:
            return self._namespaced_core(method, parts[3], parts[4:], query, body, sel)
        if parts[:4] == ["apis", "apps", "v1", "namespaces"] and len(parts) in (7, 8):
            store = {
                "daemonsets": self.daemonsets,
                "deployments": self.deployments,
                "replicasets": self.replicasets,
                "statefulsets": self.statefulsets,
            }.get(parts[5])
            obj = store.get((parts[4], parts[6])) if store is not None else None
            if obj is None:
                return 404, _status(404, "NotFound", f'{parts[5]}.apps "{parts[6]}" not found')
            if len(parts) == 8 and parts[7] == "scale" and parts[5] in ("deployments", "statefulsets"):
                if method == "PATCH":
                    obj["spec"]["replicas"] = (
                        (body or {}).get("spec", {}).get("replicas", obj["spec"]["replicas"])
                    )
                return 200, {
                    "kind": "Scale",
                    "apiVersion": "autoscaling/v1",
                    "metadata": {"name": parts[6], "namespace": parts[4]},
                    "spec": {"replicas": obj["spec"]["replicas"]},
                    "status": {"replicas": obj.get("status", {}).get("replicas", 0)},
                }
            return 200, obj
        if parts[:4] == ["apis", "networking.k8s.io", "v1", "namespaces"] and parts[5] == "networkpolicies":
            ns = parts[4]
            if method == "GET" and len(parts) == 6:
                items = [
                    p
                    for (n, _), p in self.policies.items()
                    if n == ns and _matches(p["metadata"].get("labels", {}), sel)
                ]
                return 200, {"kind": "NetworkPolicyList", "items": items}
            if method == "POST":
                key = (ns, body["metadata"]["name"])
                if key in self.policies:
                    return 409, _status(409, "AlreadyExists", "already exists")
                self.policies[key] = copy.deepcopy(body)
                return 201, body
            if method == "DELETE" and len(parts) == 7:
                if self.policies.pop((ns, parts[6]), None) is None:
                    return 404, _status(404, "NotFound", "not found")
                return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        return 404, _status(404, "NotFound", f"the fake API does not serve {method} {path}")

    def _namespaced_core(self, method, ns, rest, query, body, sel):
        kind = rest[0]
        if kind in ("pods", "secrets", "services") and ns not in self.namespaces and method == "POST":
            return 404, _status(
                404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"}
            )
        if (
            kind in ("pods", "secrets", "services")
            and ns in self._terminating_namespaces
            and method == "POST"
        ):
            name = (body or {}).get("metadata", {}).get("name", "")
            return 403, _status(
                403,
                "Forbidden",
                f'{kind} "{name}" is forbidden: unable to create new content in namespace {ns} because it is being terminated',
                {
                    "name": name,
                    "kind": kind,
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {ns} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )
        if kind == "events":
            return 200, {"kind": "EventList", "items": self.events.get(ns, [])}
        if kind == "secrets":
            if method == "POST":
                key = (ns, body["metadata"]["name"])
                self.secrets[key] = copy.deepcopy(body)
                return 201, body
            obj = self.secrets.get((ns, rest[1]))
            return (200, obj) if obj else (404, _status(404, "NotFound", f'secrets "{rest[1]}" not found'))
        if kind == "services":
            obj = self.services.get((ns, rest[1]))
            return (200, obj) if obj else (404, _status(404, "NotFound", f'services "{rest[1]}" not found'))
        if kind != "pods":
            return 404, _status(404, "NotFound", f"no {kind}")
        if len(rest) == 1:
            if method == "POST":
                name = body["metadata"]["name"]
                if (ns, name) in self.pods:
                    return 409, _status(
                        409, "AlreadyExists", f'pods "{name}" already exists', {"name": name, "kind": "pods"}
                    )
                pod = copy.deepcopy(body)
                pod["metadata"]["namespace"] = ns
                pod["status"] = {"phase": "Pending"}
                pod["_reads"] = 0
                self.pods[(ns, name)] = pod
                return 201, _public(pod)
            items = [
                _public(p)
                for (n, _), p in self.pods.items()
                if n == ns and _matches(p["metadata"].get("labels", {}), sel)
            ]
            for item in items:
                if item["metadata"]["name"] in self.restarting:
                    for cs in item["status"].get("containerStatuses", []):
                        cs["restartCount"] += 1
            return 200, {"kind": "PodList", "items": items}
        name = rest[1]
        pod = self.pods.get((ns, name))
        if pod is None:
            return 404, _status(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"})
        if len(rest) == 3 and rest[2] == "log":
            return 200, self.logs.get((ns, name), "")
        if method == "DELETE":
            if self.pod_termination_requests > 0:
                pod["metadata"]["deletionTimestamp"] = "2026-12-04T09:00:00Z"
                self._terminating_pods.setdefault((ns, name), self.pod_termination_requests)
                return 200, _public(pod)
            self.pods.pop((ns, name))
            return 200, _public(pod)
        if method == "PATCH":
            meta = pod["metadata"]
            for key in ("labels", "annotations"):
                meta.setdefault(key, {}).update(body.get("metadata", {}).get(key, {}))
            return 200, _public(pod)
        self._advance(pod)
        return 200, _public(pod)

    def _advance(self, pod: dict) -> None:
        if "_reads" not in pod:
            return
        pod["_reads"] += 1
        behaviour = self.pod_behaviour.get(pod["metadata"]["name"], "running")
        if behaviour == "running" and pod["_reads"] >= 2:
            pod["status"] = {"phase": "Running"}
        elif behaviour == "never":
            pod["status"] = {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "name": "busybox",
                        "ready": False,
                        "restartCount": 0,
                        "image": "busybox",
                        "imageID": "",
                        "state": {"waiting": {"reason": "ContainerCreating"}},
                    }
                ],
            }
        elif behaviour == "pull":
            pod["status"] = {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "name": "busybox",
                        "ready": False,
                        "restartCount": 0,
                        "image": "busybox",
                        "imageID": "",
                        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "pull access denied"}},
                    }
                ],
            }


def _owner_ref(kind: str, name: str) -> dict:
    api = "apps/v1" if kind in ("ReplicaSet", "StatefulSet", "DaemonSet", "Deployment") else "batch/v1"
    return {"apiVersion": api, "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}


def _public(pod: dict) -> dict:
    return {k: v for k, v in pod.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeKube

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _handshake(self, protocol: str = "v4.channel.k8s.io") -> None:
        accept = base64.b64encode(
            hashlib.sha1(
                (self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
            ).digest()
        ).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.wfile.flush()

    def _send_frame(self, payload: bytes, opcode: int = 0x2) -> None:
        head = bytes([0x80 | opcode])
        if len(payload) < 126:
            head += bytes([len(payload)])
        elif len(payload) < 65536:
            head += bytes([126]) + struct.pack("!H", len(payload))
        else:
            head += bytes([127]) + struct.pack("!Q", len(payload))
        self.wfile.write(head + payload)
        self.wfile.flush()

    def _read_frame(self) -> tuple[int, bytes]:
        """One client frame (clients always mask), unmasked."""
        first = self.rfile.read(2)
        if len(first) < 2:
            return 0x8, b""
        opcode, length = first[0] & 0x0F, first[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if first[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(length)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _portforward(self, url) -> None:
        """Relay channel 0 of a port-forward stream to ``fake.portforward_target``."""
        fake: FakeKube = self.server.fake  # type: ignore[attr-defined]
        parts = url.path.strip("/").split("/")
        port = parse_qs(url.query).get("ports", ["0"])[0]
        with fake.lock:
            fake.requests.append(("WS", url.path))
            fake.portforwards.append((parts[3], parts[5], port))
        self._handshake()
        number = int(port)
        for channel in (0, 1):
            self._send_frame(bytes([channel, number & 0xFF, number >> 8]))
        backend = socket.create_connection(fake.portforward_target)
        done = threading.Event()

        def upstream() -> None:
            while not done.is_set():
                opcode, data = self._read_frame()
                if opcode == 0x8:
                    break
                if opcode == 0x2 and data[:1] == b"\0":
                    backend.sendall(data[1:])
            done.set()
            backend.close()

        threading.Thread(target=upstream, daemon=True).start()
        try:
            while not done.is_set():
                chunk = backend.recv(65536)
                if not chunk:
                    break
                self._send_frame(b"\0" + chunk)
            self._send_frame(struct.pack("!H", 1000), opcode=0x8)
        except OSError:
            pass
        done.set()
        self.close_connection = True

    def _websocket(self, url) -> None:
        """Answer an exec upgrade like the API server: stdout on channel 1, status on channel 3."""
        fake: FakeKube = self.server.fake  # type: ignore[attr-defined]
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        namespace, pod = parts[3], parts[5]
        command, tty = query.get("command", []), query.get("tty", ["false"])[0].lower() == "true"
        with fake.lock:
            fake.requests.append(("WS", url.path))
            fake.execs.append((namespace, pod, command, tty))
            known = (namespace, pod) in fake.pods
        accept = base64.b64encode(
            hashlib.sha1(
                (self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
            ).digest()
        ).decode()
        if not known:
            self._send_status(
                404, _status(404, "NotFound", f'pods "{pod}" not found', {"name": pod, "kind": "pods"})
            )
            return
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("Sec-WebSocket-Protocol", "v4.channel.k8s.io")
        self.end_headers()
        code = fake.exec_exit_code
        if code == 0:
            status = {"metadata": {}, "status": "Success"}
        else:
            status = {
                "metadata": {},
                "status": "Failure",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        output = "falco-lab test 1\r\n65534\r\n" if tty else "falco-lab test 1\n65534\n"
        for channel, text in ((1, output), (3, json.dumps(status))):
            payload = bytes([channel]) + text.encode()
            self.wfile.write(
                bytes([0x82, len(payload)]) + payload
                if len(payload) < 126
                else bytes([0x82, 126]) + struct.pack("!H", len(payload)) + payload
            )
        self.wfile.write(bytes([0x88, 2]) + struct.pack("!H", 1000))
        self.wfile.flush()
        self.close_connection = True

    def _refuse_upgrade(self, url) -> bool:
        """Answer an upgrade as the API server does when a fault is injected for ("WS", path)."""
        fake: FakeKube = self.server.fake  # type: ignore[attr-defined]
        fault = next((f for (m, p), f in fake.faults.items() if m == "WS" and re.search(p, url.path)), None)
        if fault is None:
            return False
        with fake.lock:
            fake.requests.append(("WS", url.path))
        if fault == "hang":  # accept the connection, never answer the handshake
            time.sleep(fake.hang_seconds)
            self.close_connection = True
            return True
        parts = url.path.strip("/").split("/")
        namespace, pod, sub = parts[3], parts[5], parts[6]
        code = int(fault)
        if code == 403:
            message = (
                f'pods "{pod}" is forbidden: User "workshop-user" cannot create resource "pods/{sub}" '
                f'in API group "" in the namespace "{namespace}"'
            )
        else:
            message = f"injected HTTP {code} for {sub}"
        self._send_status(
            code, _status(code, _REASONS.get(code, "Unknown"), message, {"name": pod, "kind": "pods"})
        )
        return True

    def _send_status(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def _serve(self) -> None:
        url = urlparse(self.path)
        if self.headers.get("Upgrade", "").lower() == "websocket":
            if self._refuse_upgrade(url):
                return
            if url.path.endswith("/portforward"):
                self._portforward(url)
            else:
                self._websocket(url)
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        status, payload = self.server.fake.handle(self.command, url.path, parse_qs(url.query), body)  # type: ignore[attr-defined]
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _serve


class FakeApiServer:
    """Run :class:`FakeKube` on ``127.0.0.1:<free port>``; ``clients()`` points the real client at it."""

    def __init__(self) -> None:
        self.fake = FakeKube()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self.fake  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakeApiServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def clients(self, request_timeout: tuple[float, float] = (1.0, 1.0)) -> KubeClients:
        configuration = client.Configuration()
        configuration.host = self.url
        return from_configuration(configuration, context="fake-eks", request_timeout=request_timeout)

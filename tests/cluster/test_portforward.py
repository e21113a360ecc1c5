"""Port-forward to the sidekick UI through the API server, feeding the events loader."""

from __future__ import annotations

import base64
import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from falco_lab.cluster.eks import EKSCluster
from falco_lab.cluster.streams import PortForwarder
from falco_lab.workshop import chart
from falco_lab.workshop.interface import ClusterError
from tests.conftest import serve_http

PASSWORD = "s3cret-from-the-secret"
EVENT = {
    "uuid": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
    "output": "08:00:02.000000000: Warning Container started with a sensitive host directory mounted | pod=p",
    "priority": "Warning",
    "rule": "Falco Lab Sensitive Host Directory Mounted",
    "time": "2026-11-27T08:00:02.000000000Z",
    "source": "syscall",
    "output_fields": {"k8s.pod.name": "falco-lab-host-etc", "evt.time": 1795766402000000000},
    "hostname": "ip-10-0-1-23.eu-west-1.compute.internal",
    "tags": ["T1611", "falco_lab"],
}


class _UI(BaseHTTPRequestHandler):
    """The falcosidekick-ui search endpoint, with basic auth, as the real v2 API answers."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        expected = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            body, status = json.dumps("unauthorized").encode(), 401
        elif url.path == "/api/v1/events/search":
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            results = [EVENT] if page == 1 else []
            body = json.dumps(
                {"results": results, "statistics": {"returned": len(results), "all": 1}}
            ).encode()
            status = 200
        else:
            body, status = json.dumps({"message": "Not Found"}).encode(), 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def ui():
    with serve_http(_UI) as server:
        yield server.server_address


def _ui_objects(api, ui_address):
    ns = chart.FALCO_NAMESPACE
    api.fake.add_namespace(ns)
    api.fake.services[(ns, chart.UI_SERVICE)] = {
        "metadata": {"name": chart.UI_SERVICE},
        "spec": {"selector": {"app.kubernetes.io/name": "falcosidekick-ui"}},
    }
    api.fake.add_pod(ns, "falco-falcosidekick-ui-7d9f", {"app.kubernetes.io/name": "falcosidekick-ui"})
    api.fake.secrets[(ns, chart.UI_SECRET)] = {
        "metadata": {"name": chart.UI_SECRET},
        "data": {chart.UI_SECRET_KEY: base64.b64encode(f"admin:{PASSWORD}".encode()).decode()},
    }
    api.fake.portforward_target = ui_address


def test_port_forward_relays_http_through_the_api_server(api, ui):
    api.fake.portforward_target = ui
    api.fake.add_namespace("falco")
    api.fake.add_pod("falco", "ui-pod")
    with PortForwarder(api.clients(), "ui-pod", "falco", 2802) as forward:
        answer = requests.get(forward.url + "/api/v1/events/search", auth=("admin", PASSWORD), timeout=5)
    assert answer.status_code == 200 and answer.json()["statistics"]["all"] == 1
    # one stream checked on entry (rights, pod), one per local connection
    assert api.fake.portforwards == [("falco", "ui-pod", "2802")] * 2


def test_sidekick_events_are_loaded_through_the_port_forward_with_the_secret(api, ui):
    _ui_objects(api, ui)
    events = EKSCluster(api.clients()).sidekick_events()
    assert list(events["rule"]) == [EVENT["rule"]]
    assert list(events["uuid"]) == [EVENT["uuid"]]
    assert api.fake.portforwards[0][:2] == ("falco", "falco-falcosidekick-ui-7d9f")


def test_no_running_ui_pod_is_a_clear_error(api, ui):
    _ui_objects(api, ui)
    api.fake.pods.clear()
    with pytest.raises(ClusterError, match="no Running pod behind service falco/falco-falcosidekick-ui"):
        EKSCluster(api.clients()).sidekick_events()


def test_credentials_are_not_in_the_cluster_repr(api, ui):
    _ui_objects(api, ui)
    cluster = EKSCluster(api.clients())
    cluster.ui_credentials()
    assert PASSWORD not in repr(cluster) and PASSWORD not in repr(vars(cluster))


def test_a_refused_port_forward_shows_the_api_servers_reason(api, ui):
    api.fake.portforward_target = ui
    api.fake.add_namespace("falco")
    api.fake.add_pod("falco", "ui-pod")
    api.fake.faults[("WS", r"/portforward$")] = 403
    with pytest.raises(ClusterError) as caught, PortForwarder(api.clients(), "ui-pod", "falco", 2802):
        pass
    message = str(caught.value)
    assert message.startswith("port-forward to pod falco/ui-pod:2802: connect: HTTP 403")
    assert 'cannot create resource "pods/portforward"' in message
    assert "attempts" not in message


def test_sidekick_events_report_a_refused_port_forward_not_a_connection_failure(api, ui):
    _ui_objects(api, ui)
    api.fake.faults[("WS", r"/portforward$")] = 403
    with pytest.raises(ClusterError, match='cannot create resource "pods/portforward"'):
        EKSCluster(api.clients()).sidekick_events()

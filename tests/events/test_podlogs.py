"""Falco pod logs through the real ``kubernetes`` client, against a local fake API server."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from kubernetes import client

from falco_lab.events import load_pod_logs, load_report, read_pod_logs
from falco_lab.events.podlogs import read_pod_log_text
from tests.conftest import serve_http
from tests.events.helpers import alert

FALCO_STARTUP = (
    b"Thu Nov 26 10:00:00 2026: Falco version: 0.44.1 (x86_64)\n"
    b"Thu Nov 26 10:00:00 2026: Loading rules from:\n"
    b"Thu Nov 26 10:00:00 2026:    /etc/falco/falco_rules.yaml | schema validation: ok\n"
    b"Thu Nov 26 10:00:01 2026: Starting health webserver with threadiness 2, listening on 0.0.0.0:8765\n"
)


class FakeKubeAPI:
    def __init__(self) -> None:
        self.logs: dict[str, bytes] = {
            "falco-abcde": FALCO_STARTUP + orjson.dumps(alert(0)) + b"\n" + orjson.dumps(alert(2)) + b"\n",
            "falco-fghij": FALCO_STARTUP + orjson.dumps(alert(1)) + b"\n{truncated\n",
        }
        self.broken: set[str] = set()
        self.queries: list[tuple[str, dict]] = []


def make_handler(state: FakeKubeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            state.queries.append((url.path, query))
            parts = url.path.strip("/").split("/")
            if parts[:4] == ["api", "v1", "namespaces", "falco"] and parts[4:] == ["pods"]:
                items = [
                    {
                        "metadata": {
                            "name": name,
                            "namespace": "falco",
                            "labels": {"app.kubernetes.io/name": "falco"},
                        }
                    }
                    for name in sorted(state.logs, reverse=True)
                ]
                body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
                return self._send(200, json.dumps(body).encode(), "application/json")
            if len(parts) == 7 and parts[6] == "log" and parts[5] in state.logs:
                if parts[5] in state.broken:
                    status = {
                        "kind": "Status",
                        "status": "Failure",
                        "message": "container not ready",
                        "code": 500,
                    }
                    return self._send(500, json.dumps(status).encode(), "application/json")
                return self._send(200, state.logs[parts[5]], "text/plain")
            self._send(404, b'{"kind":"Status","code":404}', "application/json")

    return Handler


@pytest.fixture
def kube():
    state = FakeKubeAPI()
    with serve_http(make_handler(state)) as server:
        configuration = client.Configuration(host=f"http://127.0.0.1:{server.server_port}")
        state.api = client.CoreV1Api(client.ApiClient(configuration))
        yield state


def test_alert_lines_kept_and_falco_log_lines_skipped(kube):
    frame = load_pod_logs(kube.api)
    report = load_report(frame)
    assert frame["uuid"].tolist() == [alert(i)["uuid"] for i in range(3)]
    assert report.skipped == 8
    assert report.sources == ("pod/falco/falco-abcde", "pod/falco/falco-fghij")


def test_bad_alert_line_is_reported_with_its_line_in_the_pod_log(kube):
    report = load_report(load_pod_logs(kube.api))
    [problem] = report.problems
    assert (problem.file, problem.line) == ("pod/falco/falco-fghij", 6)
    assert problem.reason.startswith("invalid JSON")


def test_label_selector_container_and_since_are_sent(kube):
    read_pod_logs(kube.api, since="10min")
    list_query = kube.queries[0][1]
    assert list_query["labelSelector"] == ["app.kubernetes.io/name=falco"]
    log_queries = [q for path, q in kube.queries if path.endswith("/log")]
    assert all(q["container"] == ["falco"] for q in log_queries)
    assert all(590 <= int(q["sinceSeconds"][0]) <= 602 for q in log_queries)


def test_unreadable_pod_is_a_problem_and_the_others_still_load(kube):
    kube.broken.add("falco-abcde")
    frame = load_pod_logs(kube.api)
    assert frame["uuid"].tolist() == [alert(1)["uuid"]]
    problems = load_report(frame).problems
    assert problems[0].file == "pod/falco/falco-abcde"
    assert problems[0].reason.startswith("cannot read log: HTTP 500")


def test_log_text_as_str():
    chunk = read_pod_log_text(FALCO_STARTUP.decode() + json.dumps(alert(5)) + "\n", "pod/x")
    assert len(chunk.frame) == 1 and chunk.skipped == 4 and chunk.problems == []

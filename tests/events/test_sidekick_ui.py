"""The falcosidekick-ui client against a local server that answers like the real API."""

from __future__ import annotations

import base64
import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from falco_lab.events import (
    LoadError,
    SidekickUIClient,
    SidekickUIError,
    load_events,
    load_report,
    post_event,
)
from falco_lab.events.sidekick_ui import resolve_credentials
from tests.conftest import serve_http
from tests.events.helpers import REMOVE, alert

USER, PASSWORD = "admin", "s3cret-Pa55"


class FakeUI:
    """State of the fake falcosidekick-ui: events (newest first) and scripted failures."""

    def __init__(self) -> None:
        self.events = [alert(i) for i in reversed(range(7))]
        self.keyed_results = False
        self.fail_with_500 = 0
        self.slow_requests = 0
        self.delay = 0.0
        self.requests: list[dict[str, list[str]]] = []
        self.posted: list[dict] = []


def make_handler(state: FakeUI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left, as the timeout tests intend

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            state.requests.append(query)
            if state.slow_requests > 0:
                state.slow_requests -= 1
                time.sleep(state.delay)
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._send(401, {"message": "Unauthorized"})
            if state.fail_with_500 > 0:
                state.fail_with_500 -= 1
                return self._send(500, {"message": "redis: connection refused"})
            if url.path != "/api/v1/events/search":
                return self._send(404, {"message": "Not Found"})
            page = int(query.get("page", ["1"])[0])
            limit = int(query.get("limit", ["100"])[0])
            chosen = state.events[(page - 1) * limit : page * limit]
            results: object = {str(i): e for i, e in enumerate(chosen)} if state.keyed_results else chosen
            statistics = {"all": len(state.events)}
            if chosen:
                statistics["returned"] = len(chosen)  # omitempty in the real server
            return self._send(200, {"results": results, "statistics": statistics})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.posted.append(json.loads(self.rfile.read(length)))
            self._send(200, "{}")

    return Handler


@pytest.fixture
def ui():
    state = FakeUI()
    with serve_http(make_handler(state)) as server:
        state.url = f"http://127.0.0.1:{server.server_port}"
        yield state


def client(ui: FakeUI, **options: object) -> SidekickUIClient:
    return SidekickUIClient(ui.url, auth=f"{USER}:{PASSWORD}", backoff=0.01, **options)


def test_pages_through_all_events(ui):
    chunk = client(ui, page_size=3).load()
    assert len(chunk.frame) == 7
    assert [q["page"] for q in ui.requests] == [["1"], ["2"], ["3"]]
    assert all(q["limit"] == ["3"] for q in ui.requests)


def test_index_keyed_results_are_flattened_in_position_order(ui):
    ui.keyed_results = True
    pairs = client(ui, page_size=4).search()
    assert [e["uuid"] for _, e in pairs] == [e["uuid"] for e in ui.events]


def test_filters_become_query_parameters(ui):
    client(ui).search(
        since="24h",
        priority=["Warning", "Critical"],
        rule="Terminal shell in container",
        source="syscall",
        hostname="node-1",
        tags=["shell", "container"],
        filter="bash",
    )
    query = ui.requests[0]
    assert query["since"] == ["86400"]
    assert query["priority"] == ["Warning,Critical"]
    assert query["rule"] == ["Terminal shell in container"]
    assert query["source"] == ["syscall"] and query["hostname"] == ["node-1"]
    assert query["tags"] == ["shell,container"] and query["filter"] == ["bash"]


def test_wrong_password_is_401_without_echoing_credentials(ui):
    with pytest.raises(SidekickUIError) as caught:
        SidekickUIClient(ui.url, auth="admin:wrong-Secret-xyz", retries=0).search()
    assert caught.value.status == 401
    assert "wrong-Secret-xyz" not in str(caught.value) and "401" in str(caught.value)


def test_server_error_is_retried_then_succeeds(ui):
    ui.fail_with_500 = 2
    assert len(client(ui, retries=3).load().frame) == 7


def test_persistent_server_error_gives_up_with_the_server_message(ui):
    ui.fail_with_500 = 10
    with pytest.raises(SidekickUIError, match=r"HTTP 500 \(redis: connection refused\) \(3 attempts\)"):
        client(ui, retries=2).search()


def test_timeout_is_retried(ui):
    ui.slow_requests, ui.delay = 1, 0.5
    assert len(client(ui, timeout=0.2, retries=1).load().frame) == 7


def test_timeout_every_time_is_an_error(ui):
    ui.slow_requests, ui.delay = 5, 0.4
    with pytest.raises(SidekickUIError, match="timed out after 0.1 s"):
        client(ui, timeout=0.1, retries=1).search()


def test_connection_refused_is_an_error_naming_the_url():
    with pytest.raises(SidekickUIError, match="connection failed"):
        SidekickUIClient("http://127.0.0.1:9", auth="a:b", retries=0, timeout=0.5).search()


def test_max_events_stops_early(ui):
    assert len(client(ui, page_size=2).search(max_events=3)) == 3
    assert len(ui.requests) == 2


def test_bad_event_is_reported_by_page_and_position(ui):
    ui.events[4] = alert(99, priority=REMOVE)
    chunk = client(ui, page_size=3).load()
    assert len(chunk.frame) == 6
    [problem] = chunk.problems
    assert problem.reason == "page 2, result 2: missing required key 'priority'"
    assert problem.file == f"{ui.url}/api/v1/events/search"


def test_load_events_with_url_credentials_from_environment(ui, monkeypatch):
    monkeypatch.setenv("FALCOSIDEKICK_UI_USER", f"{USER}:{PASSWORD}")
    frame = load_events(ui.url, page_size=5, progress=False)
    assert len(frame) == 7
    assert load_report(frame).sources == (f"{ui.url}/api/v1/events/search",)


def test_credentials_in_url_never_appear_in_sources_or_repr(ui):
    url = ui.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    frame = load_events(url)
    assert PASSWORD not in " ".join(load_report(frame).sources)
    assert PASSWORD not in repr(SidekickUIClient(url))


def test_load_events_turns_ui_errors_into_load_error(ui):
    with pytest.raises(LoadError, match="401") as caught:
        load_events(ui.url, auth="admin:nope-Hidden", retries=0)
    assert "nope-Hidden" not in str(caught.value)


def test_credentials_repr_hides_everything():
    creds = resolve_credentials("admin:hunter2")
    assert "hunter2" not in repr(creds) and "admin" not in str(creds)


def test_malformed_credentials_are_not_echoed(monkeypatch):
    monkeypatch.setenv("FALCO_LAB_UI_USER", "no-colon-secret")
    with pytest.raises(SidekickUIError) as caught:
        resolve_credentials(None)
    assert "no-colon-secret" not in str(caught.value) and "FALCO_LAB_UI_USER" in str(caught.value)


def test_progress_bar_on_long_pull(ui, capsys):
    client(ui, page_size=1, progress=True).search()
    assert "7/7" in capsys.readouterr().err


def test_post_event_sends_the_falco_json(ui):
    assert post_event(ui.url, alert(0)) == 200
    assert ui.posted == [alert(0)]


def test_duplicates_across_shifting_pages_are_kept_once(ui):
    ui.events.insert(3, ui.events[2])  # page 2 starts with an event already seen on page 1
    pairs = client(ui, page_size=3).search()
    assert len(pairs) == 7
    assert len({e["uuid"] for _, e in pairs}) == 7


def test_a_pasted_api_url_is_reduced_to_its_server(ui):
    assert SidekickUIClient(f"{ui.url}/api/v1/events/search?limit=5").url == ui.url

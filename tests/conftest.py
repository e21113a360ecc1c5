"""Shared test set-up: where the reference data lives, and the cluster marker."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FALCO_LAB_SHARED", ROOT.parent / "shared"))

# The library finds upstream rulesets only where it is told (``dir=``, $FALCO_LAB_RULES_DIR, the
# fetch cache). The suite, and the notebooks it runs, use the reference copies of ../shared.
if "FALCO_LAB_RULES_DIR" not in os.environ and (SHARED / "upstream" / "falco_rules.yaml").is_file():
    os.environ["FALCO_LAB_RULES_DIR"] = str(SHARED / "upstream")
# Likewise the public captures the notebooks replay (``falco_lab.capture.fetch.find_capture``).
if "FALCO_LAB_CAPTURES_DIR" not in os.environ and (SHARED / "captures").is_dir():
    os.environ["FALCO_LAB_CAPTURES_DIR"] = str(SHARED / "captures")


def shared_file(relative: str) -> Path:
    """Path of a reference file under ``../shared``.

    On CI (``CI=true``) a missing file fails the test; elsewhere the test is skipped
    with a message that names the missing file.
    """
    path = SHARED / relative
    if not path.exists():
        message = f"reference file {path} is missing (set FALCO_LAB_SHARED or check out ../shared)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def required_tool(names: tuple[str, ...], message: str) -> str:
    """Path of the first of ``names`` on ``PATH``; when none is, the test fails on CI
    (``CI=true``, where ``make test`` installs it) and is skipped elsewhere with ``message``."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def serve_http(handler: Callable[..., object]) -> Iterator[ThreadingHTTPServer]:
    """Serve ``handler`` (a request handler class or factory) on 127.0.0.1, on a free port, in a
    thread; yield the server (``server.server_port``); shut it down and close it on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-cluster", action="store_true", help="run tests that need a real cluster")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-cluster"):
        return
    skip = pytest.mark.skip(reason="needs a real cluster: run with --run-cluster and a kubeconfig")
    for item in items:
        if item.get_closest_marker("cluster") is not None:
            item.add_marker(skip)

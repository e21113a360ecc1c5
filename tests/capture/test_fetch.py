"""capture fetch: the pinned registry agrees with ../shared, downloads are checked by sha256."""

from __future__ import annotations

import hashlib
import http.server
import re
from pathlib import Path

import pytest

from falco_lab.capture import CaptureError
from falco_lab.capture.fetch import CaptureNotFound, default_cache_dir, fetch, find_capture, public_captures
from tests.capture._files import CAPTURES, capture
from tests.conftest import serve_http, shared_file


def test_registry_is_the_shared_readme_table() -> None:
    readme = shared_file("captures/README.md").read_text(encoding="utf-8")
    registry = public_captures()
    assert sorted(registry) == sorted(CAPTURES)
    for name, entry in registry.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| {name} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert entry.sha256 == cells[5]
        assert entry.url == f"https://raw.githubusercontent.com/{cells[1]}/{cells[3]}/{cells[2]}"
        assert re.fullmatch(r"[0-9a-f]{40}", cells[3])


def test_shared_files_have_the_pinned_checksums() -> None:
    for name, entry in public_captures().items():
        assert hashlib.sha256(capture(name).read_bytes()).hexdigest() == entry.sha256


def _server(payload: bytes):  # type: ignore[no-untyped-def]
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return serve_http(Handler)


def test_fetch_keeps_a_download_with_the_pinned_checksum(tmp_path: Path) -> None:
    name = "falco__syscall.scap"
    with _server(capture(name).read_bytes()) as server:
        (path,) = fetch([name], tmp_path, url_override={name: f"http://127.0.0.1:{server.server_port}/x"})
    assert path.read_bytes() == capture(name).read_bytes()


def test_fetch_discards_a_download_with_another_checksum(tmp_path: Path) -> None:
    name = "falco__syscall.scap"
    with _server(b"not the capture") as server, pytest.raises(CaptureError, match="is not the pinned"):
        fetch([name], tmp_path, url_override={name: f"http://127.0.0.1:{server.server_port}/x"})
    assert not (tmp_path / name).exists()


def test_unknown_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="not a known public capture"):
        fetch(["nope.scap"], tmp_path)


def test_find_capture_uses_the_captures_dir_variable(tmp_path: Path, monkeypatch) -> None:
    name = "falco__syscall.scap"
    (tmp_path / name).write_bytes(capture(name).read_bytes())
    monkeypatch.setenv("FALCO_LAB_CAPTURES_DIR", str(tmp_path))
    assert find_capture(name) == tmp_path / name


def test_find_capture_looks_in_the_cache_fetch_writes_to(tmp_path: Path, monkeypatch) -> None:
    name = "falco__syscall.scap"
    monkeypatch.delenv("FALCO_LAB_CAPTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with _server(capture(name).read_bytes()) as server:
        fetch([name], default_cache_dir(), url_override={name: f"http://127.0.0.1:{server.server_port}/x"})
    assert find_capture(name) == tmp_path / "falco-lab" / "captures" / name


def test_a_missing_capture_says_how_to_get_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("FALCO_LAB_CAPTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(CaptureNotFound, match=r"run `falco-lab capture fetch falco__syscall.scap` to get it"):
        find_capture("falco__syscall.scap")


def test_a_local_copy_with_another_checksum_is_not_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("FALCO_LAB_CAPTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "falco__syscall.scap").write_bytes(b"tampered")
    with pytest.raises(CaptureNotFound, match="has another sha256 than the pinned one"):
        find_capture("falco__syscall.scap", dir=tmp_path)

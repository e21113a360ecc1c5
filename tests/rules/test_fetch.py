"""Fetching the pinned upstream rulesets (against a local HTTP server) and finding them."""

from __future__ import annotations

import functools
import http.server
import shutil

import pytest

from falco_lab.cli import main
from falco_lab.rules.fetch import (
    RULESETS,
    FetchError,
    UpstreamRulesNotFound,
    default_cache_dir,
    fetch_rules,
    find_upstream_rules,
    sha256_of,
)
from tests.conftest import serve_http, shared_file


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    """A server on 127.0.0.1 laid out like raw.githubusercontent.com/falcosecurity/rules."""
    root = tmp_path / "www"
    for pin in RULESETS:
        target = root / pin.ref / "rules" / pin.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_file(f"upstream/{pin.filename}"), target)
    handler = type("Handler", (_Handler,), {"requests": []})
    with serve_http(functools.partial(handler, directory=str(root))) as httpd:
        yield f"http://127.0.0.1:{httpd.server_port}", root, handler


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    monkeypatch.delenv("FALCO_LAB_RULES_DIR", raising=False)
    monkeypatch.delenv("FALCO_LAB_RULES_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_pins_match_the_reference_copies() -> None:
    for pin in RULESETS:
        assert sha256_of(shared_file(f"upstream/{pin.filename}")) == pin.sha256, pin.filename
    assert RULESETS[0].release == "falco-rules-5.1.0"


def test_fetch_downloads_and_verifies_every_ruleset(server, tmp_path) -> None:
    base, _, handler = server
    paths = fetch_rules(tmp_path / "dest", base_url=base)
    assert list(paths) == ["stable", "incubating", "sandbox"]
    for pin in RULESETS:
        assert sha256_of(paths[pin.key]) == pin.sha256
    assert handler.requests == [f"/{p.ref}/rules/{p.filename}" for p in RULESETS]


def test_verified_files_are_not_downloaded_again(server, tmp_path) -> None:
    base, _, handler = server
    fetch_rules(tmp_path / "dest", base_url=base)
    handler.requests.clear()
    fetch_rules(tmp_path / "dest", base_url=base)
    assert handler.requests == []


def test_checksum_mismatch_is_an_error_and_nothing_is_saved(server, tmp_path) -> None:
    base, root, _ = server
    stable = RULESETS[0]
    (root / stable.ref / "rules" / stable.filename).write_text("- list: tampered\n  items: []\n")
    with pytest.raises(FetchError, match="checksum mismatch for falco_rules.yaml"):
        fetch_rules(tmp_path / "dest", base_url=base, rulesets=["stable"])
    assert list((tmp_path / "dest").iterdir()) == []


def test_offline_gives_a_message_that_says_what_to_do(tmp_path) -> None:
    with pytest.raises(FetchError, match="copy it into .*FALCO_LAB_RULES_DIR"):
        fetch_rules(tmp_path / "dest", base_url="http://127.0.0.1:9", rulesets=["stable"], timeout=2)


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch) -> None:
    assert default_cache_dir() == tmp_path / "cache" / "falco-lab" / "rules"
    monkeypatch.setenv("FALCO_LAB_RULES_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


def test_find_prefers_an_explicit_directory(tmp_path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "falco_rules.yaml").write_text("- list: l\n  items: []\n")
    assert find_upstream_rules(mine, rulesets=["stable"]) == {"stable": mine / "falco_rules.yaml"}


def test_find_uses_the_directory_named_by_the_environment(tmp_path, monkeypatch) -> None:
    upstream = shared_file("upstream/falco_rules.yaml").parent
    monkeypatch.setenv("FALCO_LAB_RULES_DIR", str(upstream))
    found = find_upstream_rules(rulesets=["stable"])
    assert found["stable"] == upstream / "falco_rules.yaml"
    assert sha256_of(found["stable"]) == RULESETS[0].sha256


def test_find_falls_back_to_the_cache(server) -> None:
    fetch_rules(base_url=server[0], rulesets=["stable"])
    assert find_upstream_rules(rulesets=["stable"])["stable"] == default_cache_dir() / "falco_rules.yaml"


def test_find_does_not_look_next_to_the_source_tree(tmp_path) -> None:
    # ../shared/upstream holds the rulesets in the development set-up; unnamed, it is not used
    shared_file("upstream/falco_rules.yaml")
    with pytest.raises(UpstreamRulesNotFound):
        find_upstream_rules(rulesets=["stable"])


def test_find_reports_what_is_missing(tmp_path) -> None:
    with pytest.raises(UpstreamRulesNotFound) as info:
        find_upstream_rules(tmp_path / "empty")
    message = str(info.value)
    assert "falco_rules.yaml, falco-incubating_rules.yaml, falco-sandbox_rules.yaml" in message
    assert "falco-lab rules fetch" in message and "FALCO_LAB_RULES_DIR" in message


def test_cli_fetch(server, tmp_path, capsys) -> None:
    assert main(["rules", "fetch", "--dir", str(tmp_path / "d"), "--base-url", server[0]]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"stable: {tmp_path / 'd' / 'falco_rules.yaml'}"


def test_cli_fetch_failure_exit_code(tmp_path, capsys) -> None:
    assert main(["rules", "fetch", "--dir", str(tmp_path / "d"), "--base-url", "http://127.0.0.1:9"]) == 1
    assert capsys.readouterr().err.startswith("error: could not download the stable ruleset")

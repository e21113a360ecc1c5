"""``make run``: quiet kernels, an honest exit status, and the try of ``falco-lab rules fetch``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from falco_lab.lab import runner
from tests.conftest import shared_file


def _closed_port_url() -> str:
    """A local URL nothing listens on: every download is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def no_rules_anywhere(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FALCO_LAB_RULES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FALCO_LAB_RULES_BASE_URL", _closed_port_url())


def _notebook(path: Path, source: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook.cells.append(nbformat.v4.new_code_cell("mode = 'simulate'", metadata={"tags": ["parameters"]}))
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def test_offline_with_no_local_copy_it_says_so_once(no_rules_anywhere) -> None:
    said: list[str] = []
    assert runner.prepare_upstream_rules(timeout=2, log=said.append) is None
    assert said == ["offline: using the project's rules only"]


def test_offline_a_verified_local_copy_is_used_without_downloading(no_rules_anywhere, monkeypatch) -> None:
    upstream = shared_file("upstream/falco_rules.yaml").parent
    monkeypatch.setenv("FALCO_LAB_RULES_DIR", str(upstream))
    said: list[str] = []
    assert runner.prepare_upstream_rules(timeout=2, log=said.append) == str(upstream)
    assert said == [f"upstream rules: stable, incubating, sandbox from {upstream}"]


def test_the_kernels_print_nothing_of_their_own(tmp_path, no_rules_anywhere) -> None:
    # make run is its own process: run it so, and read what that process prints (a pytest
    # process also holds other tests' kernels and sockets, whose teardown is not make run's)
    _notebook(tmp_path / "nbs" / "01_ok.ipynb", "print('fine')")
    env = dict(os.environ, HOME=str(tmp_path / "no-such-home"))  # an unwritable home makes IPython warn
    env.pop("IPYTHONDIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "falco_lab.lab.runner", "run", "--out", str(tmp_path / "build"),
         "--notebooks", str(tmp_path / "nbs"), "--no-fetch-rules", "--only", "01"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert not re.search(r"WARNING|Warning:|Traceback|Assertion", done.stdout)


def test_make_run_exits_non_zero_and_names_the_failed_notebook(tmp_path, no_rules_anywhere, capfd) -> None:
    _notebook(tmp_path / "nbs" / "01_bad.ipynb", "raise RuntimeError('no luck')")
    code = runner.main(["run", "--out", str(tmp_path / "build"), "--notebooks", str(tmp_path / "nbs")])
    captured = capfd.readouterr()
    assert code == 1
    assert captured.out.count("offline: using the project's rules only") == 1
    assert re.search(r"^  01_bad +[\d.]+ s  FAILED \(cell \d+: RuntimeError: no luck\)$", captured.out, re.M)
    assert captured.out.rstrip().endswith("result:    FAILED")
    assert captured.err == "", "the kernel's own log must not be printed"


def test_offline_with_no_capture_anywhere_it_says_so_once(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FALCO_LAB_CAPTURES_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    said: list[str] = []
    name = "falco__psp_run_as_user_0_container.scap"
    assert runner.prepare_capture(timeout=2, log=said.append, url_override={name: _closed_port_url()}) is None
    assert said == [f"offline: the public capture {name} is absent (notebook 2 says how to fetch it)"]


def test_a_local_capture_is_used_without_downloading(monkeypatch) -> None:
    name = "falco__psp_run_as_user_0_container.scap"
    folder = shared_file(f"captures/{name}").parent
    monkeypatch.setenv("FALCO_LAB_CAPTURES_DIR", str(folder))
    said: list[str] = []
    assert (
        runner.prepare_capture(timeout=2, log=said.append, url_override={name: _closed_port_url()})
        == folder / name
    )
    assert said == [f"public capture: {folder / name}"]

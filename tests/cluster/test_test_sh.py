"""tests/test.sh: valid bash, same manifests as the Python helpers, cleanup on success and failure."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from falco_lab.workshop.manifests import NAMESPACE, SHELL_POD, all_manifests

SCRIPT = Path(__file__).resolve().parents[1] / "test.sh"

FAKE_KUBECTL = """#!/usr/bin/env bash
# fake kubectl: one line per call in $CALLS; the files given with -f are copied next to it
n=$(ls "$WORK" | grep -c '^manifest-' || true)
echo "$*" >> "$CALLS"
prev=""
for arg in "$@"; do
  if [[ "$prev" == "-f" ]]; then cat "$arg" > "$WORK/manifest-$n.yaml"; fi
  prev="$arg"
done
if [[ "$*" == *" wait "* && -n "$FAIL_WAIT" ]]; then echo "error: timed out waiting for the condition" >&2; exit 1; fi
if [[ "$*" == *" logs "* ]]; then
  echo '{"rule":"Falco Lab Shell Without Terminal In Container","priority":"Notice"}'
fi
exit 0
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def run_script(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "kubectl", FAKE_KUBECTL)
    _executable(bin_dir / "falco-lab", f'#!/bin/sh\nexec "{sys.executable}" -m falco_lab "$@"\n')
    calls = tmp_path / "calls.log"

    def run(**env: str) -> subprocess.CompletedProcess:
        full_env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "CALLS": str(calls),
            "WORK": str(tmp_path),
            "ALERT_WAIT": "0",
            "PYTHON": sys.executable,
            "FAIL_WAIT": "",
            **env,
        }
        proc = subprocess.run(
            ["bash", str(SCRIPT)],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        proc.calls = calls.read_text().splitlines() if calls.exists() else []  # type: ignore[attr-defined]
        proc.manifests = sorted(tmp_path.glob("manifest-*.yaml"))  # type: ignore[attr-defined]
        return proc

    return run


def test_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


def test_script_uses_the_project_manifests_namespace_and_a_cleanup_trap():
    text = SCRIPT.read_text()
    assert '"${MANIFESTS_CMD[@]}" ${SOCKET:+--socket "$SOCKET"} > "$MANIFESTS"' in text
    assert 'apply -f "$MANIFESTS"' in text and 'delete -f "$MANIFESTS"' in text
    assert f"NAMESPACE={NAMESPACE}" in text and f"SHELL_POD={SHELL_POD}" in text
    assert "trap cleanup EXIT" in text


def test_run_applies_exactly_the_python_manifests_runs_both_execs_and_cleans_up(run_script):
    proc = run_script()
    assert proc.returncode == 0, proc.stderr
    applied = list(yaml.safe_load_all(proc.manifests[0].read_text()))
    assert applied == all_manifests()
    execs = [c for c in proc.calls if " exec " in c]
    assert f"-n {NAMESPACE} exec {SHELL_POD} -- sh -c" in execs[-1]
    if shutil.which("script"):
        assert any("exec -it" in c for c in execs)
    assert proc.calls[-1].startswith("delete -f ")
    assert "Falco Lab Shell Without Terminal" in proc.stdout


def test_failed_step_still_deletes_the_pods_and_fails(run_script):
    proc = run_script(FAIL_WAIT="1")
    assert proc.returncode == 1
    assert not any(" exec " in c for c in proc.calls)
    assert proc.calls[-1].startswith("delete -f ") and "--ignore-not-found" in proc.calls[-1]
    assert list(yaml.safe_load_all(proc.manifests[-1].read_text())) == all_manifests()


def test_socket_can_be_switched_for_docker_nodes(run_script):
    proc = run_script(SOCKET="/var/run/docker.sock")
    assert proc.returncode == 0, proc.stderr
    applied = list(yaml.safe_load_all(proc.manifests[0].read_text()))
    assert applied == all_manifests(socket="/var/run/docker.sock")


def test_the_temporary_file_is_made_after_the_cleanup_trap():
    text = SCRIPT.read_text()
    assert text.index("trap cleanup EXIT") < text.index("MANIFESTS=$(mktemp")


def test_a_failure_to_print_the_manifests_leaves_no_temporary_file(run_script, tmp_path):
    broken = tmp_path / "bin" / "falco-lab"
    broken.write_text("#!/bin/sh\necho 'no falco_lab here' >&2\nexit 3\n")
    proc = run_script(PYTHON="/nonexistent/python", TMPDIR=str(tmp_path))
    assert proc.returncode == 3
    assert list(tmp_path.glob("falco-lab-manifests.*")) == []
    assert not any(c.startswith("delete") for c in proc.calls)


def test_the_manifests_are_printed_without_pandas():
    code = (
        "import runpy, sys\n"
        "sys.argv = ['m']\n"
        "try:\n    runpy.run_module('falco_lab.workshop.manifests', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert list(yaml.safe_load_all(proc.stdout)) == all_manifests()


@pytest.mark.parametrize(
    "script",
    [
        # util-linux: `script -q -e -c "command" file`
        '#!/usr/bin/env bash\n[[ "$1" == --version ]] && { echo "script from util-linux 2.39"; exit 0; }\n'
        '[[ "$1 $2 $3" == "-q -e -c" ]] || exit 9\nexec bash -c "$4"\n',
        # BSD/macOS: `script -q file command...`, no --version
        '#!/usr/bin/env bash\n[[ "$1" == --version ]] && exit 1\n[[ "$1 $2" == "-q /dev/null" ]] || exit 9\n'
        'shift 2\nexec "$@"\n',
    ],
    ids=["util-linux", "bsd"],
)
def test_test_1a_gets_a_terminal_with_either_script(run_script, tmp_path, script):
    _executable(tmp_path / "bin" / "script", script)
    proc = run_script()
    assert proc.returncode == 0, proc.stderr
    (tty_exec,) = [c for c in proc.calls if "exec -it" in c]
    assert tty_exec.endswith(f"-n {NAMESPACE} exec -it {SHELL_POD} -- sh -c echo falco-lab test 1; id -u")

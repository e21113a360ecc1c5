"""Fixtures of the cluster tests: a fake Kubernetes API server on 127.0.0.1, a fake helm."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cluster.fake_api import FakeApiServer


@pytest.fixture
def api():
    server = FakeApiServer().start()
    yield server
    server.stop()


FAKE_HELM = """#!/bin/sh
# fake helm: records its arguments (one per line, a call ends with ---), then acts as $FAKE_HELM_MODE says
for arg in "$@"; do printf '%s\\n' "$arg" >> "$FAKE_HELM_LOG"; done
echo --- >> "$FAKE_HELM_LOG"
[ "$1" = "--kubeconfig" ] && shift 2
[ "$1" = "--kube-context" ] && shift 2
case "$FAKE_HELM_MODE" in
  fail) echo "Error: INSTALLATION FAILED: context deadline exceeded" >&2; exit 1 ;;
  hang) sleep 5 ;;
esac
case "$1" in
  version) echo "${FAKE_HELM_VERSION:-v3.16.2+g13654a5}" ;;
  status)
    if [ -n "$FAKE_HELM_STATUS" ]; then printf '{"name":"falco","info":{"status":"%s"}}\\n' "$FAKE_HELM_STATUS"; exit 0; fi
    echo "Error: release: not found" >&2; exit 1 ;;
  *) echo "Release \\"falco\\" has been upgraded. Happy Helming!" ;;
esac
"""


@pytest.fixture
def fake_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``helm`` on PATH that appends its arguments to the returned log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text(FAKE_HELM)
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    log = tmp_path / "helm-calls.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    monkeypatch.delenv("FAKE_HELM_MODE", raising=False)
    monkeypatch.delenv("FAKE_HELM_STATUS", raising=False)
    return log


@pytest.fixture(scope="session")
def real_helm():
    """A real helm binary (see tests/cluster/real_helm.py): installed by the set-up when missing.

    Outside CI a helm that cannot be had is a skip saying why; with CI=true, a failure.
    """
    from tests.cluster.real_helm import HelmUnavailable, find_or_install_helm

    try:
        return find_or_install_helm()
    except HelmUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"a real helm is needed on CI: {exc}")
        pytest.skip(f"no real helm: {exc}")

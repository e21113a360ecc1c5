"""The package stands alone: its data ships in the wheel, and an installed wheel works away
from the source tree (no ``../shared``, no top-level ``values.yaml``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from falco_lab.workshop import chart

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "falco_lab"


@pytest.mark.parametrize("name", ["values.yaml", "values-k8saudit-eks.yaml"])
def test_the_packaged_values_file_is_a_byte_identical_copy_of_the_top_level_one(name: str) -> None:
    top, packaged = ROOT / name, PACKAGE / "data" / name
    assert packaged.read_bytes() == top.read_bytes(), (
        f"{packaged.relative_to(ROOT)} differs from {name}: the top-level file is the one people edit; "
        f"run `cp {name} {packaged.relative_to(ROOT)}`"
    )


def test_the_library_uses_the_packaged_values_files() -> None:
    assert chart.VALUES_FILE == PACKAGE / "data" / "values.yaml"
    assert chart.AUDIT_VALUES_FILE == PACKAGE / "data" / "values-k8saudit-eks.yaml"


# what reaching outside the package looks like: climbing from __file__ past the package root,
# or naming the development set-up's ../shared directory
_OUTSIDE = re.compile(r"parents\[[2-9]\]|\.parent\.parent\.parent|[\"'](\.\./)?shared[\"'/]")


def test_no_library_module_reads_the_source_tree_or_shared() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if _OUTSIDE.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# -- the built wheel, installed in a fresh venv -------------------------------------------------


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel built from this tree installed; returns the venv's bin directory."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    # a copy, so the build's build/ and *.egg-info never land in the checkout
    shutil.copytree(PACKAGE, source / "falco_lab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        ]
    )
    (wheel,) = dist.glob("falco_lab-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    # --system-site-packages reaches the *base* interpreter's packages, not those of the venv
    # running the tests (.venv): a path file makes the runtime dependencies visible. Plain paths
    # in a .pth are not scanned for .pth files, so the editable falco_lab of .venv stays out.
    purelib = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    outer = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])
    (purelib / "_falco_lab_test_deps.pth").write_text("\n".join(outer) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "values.yaml",
        "values-k8saudit-eks.yaml",
        "falco-lab_rules.yaml",
        "falco-lab_upstream-tuning.yaml",
    ):
        assert f"falco_lab/data/{data}" in names, f"{data} is not in the wheel"
    return venv / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory outside the checkout and an environment with no rules directory."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("FALCO_LAB_RULES_DIR", "PYTHONPATH", "VIRTUAL_ENV")
    }
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    work = tmp_path / "work"
    work.mkdir()
    return work, env


@pytest.mark.slow
def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, elsewhere) -> None:
    work, env = elsewhere
    code = "import falco_lab; from falco_lab.workshop import chart; print(falco_lab.__file__); print(chart.VALUES_FILE)"
    out = _run([str(installed / "python"), "-c", code], cwd=work, env=env).stdout.splitlines()
    venv = installed.parent
    assert Path(out[0]).is_relative_to(venv), out[0]
    assert (
        Path(out[1]).is_relative_to(venv) and Path(out[1]).read_bytes() == (ROOT / "values.yaml").read_bytes()
    )


@pytest.mark.slow
def test_falco_lab_simulate_runs_from_the_installed_wheel(installed: Path, elsewhere) -> None:
    work, env = elsewhere
    args = [
        str(installed / "falco-lab"),
        "simulate",
        "--scenario",
        "workshop",
        "--out",
        "alerts.jsonl",
        "--json",
    ]
    summary = json.loads(_run(args, cwd=work, env=env).stdout)
    assert summary["simulated"] is True
    # no upstream ruleset anywhere it may look: the project's own rules, from the package
    assert summary["rules"].startswith("the project's rules only"), summary["rules"]
    assert [Path(p).name for p in summary["rules_files"]] == ["falco-lab_rules.yaml"]
    assert Path(summary["rules_files"][0]).is_relative_to(installed.parent)
    alerts = (work / "alerts.jsonl").read_text().splitlines()
    assert summary["alerts"] == len(alerts) > 0
    assert {json.loads(line)["rule"] for line in alerts} == set(summary["by_rule"])
    assert all(rule.startswith("Falco Lab ") for rule in summary["by_rule"])


@pytest.mark.slow
def test_falco_lab_cluster_manifests_runs_from_the_installed_wheel(installed: Path, elsewhere) -> None:
    work, env = elsewhere
    out = _run([str(installed / "falco-lab"), "cluster", "manifests"], cwd=work, env=env).stdout
    documents = [d for d in yaml.safe_load_all(out) if d]
    kinds = [d["kind"] for d in documents]
    assert kinds[0] == "Namespace" and kinds.count("Pod") >= 3, kinds
    assert {d["metadata"].get("namespace") for d in documents if d["kind"] == "Pod"} == {"falco-lab"}

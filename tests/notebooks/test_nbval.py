"""nbval, in --nbval-lax mode, on the committed notebooks: cells tagged nbval-check-output must
reproduce their stored outputs (recorded values, validation messages, plotly figures).

Runs nbval in a subprocess so that it is the same command CI or a developer would type::

    FALCO_LAB_RULES_DIR=../shared/upstream .venv/bin/python -m pytest --nbval-lax \
        --nbval-sanitize-with tests/notebooks/nbval_sanitize.cfg notebooks/

The checked outputs were computed with the upstream rulesets of ``../shared/upstream``
(``tools/build_notebooks.py`` pins them the same way), hence ``FALCO_LAB_RULES_DIR``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]
SANITIZE = ROOT / "tests" / "notebooks" / "nbval_sanitize.cfg"


def test_nbval_lax_passes_on_the_committed_notebooks(tmp_path) -> None:
    upstream = shared_file("upstream/falco_rules.yaml").parent
    captures = shared_file("captures/README.md").parent
    env = dict(
        os.environ,
        PLOTLY_RENDERER="plotly_mimetype",
        FALCO_LAB_RULES_DIR=str(upstream),
        FALCO_LAB_CAPTURES_DIR=str(captures),
    )
    # byte-identical copies, so that what the notebooks write (../build/report.html) stays in tmp_path
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "values.yaml", tmp_path / "values.yaml")
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-sanitize-with", str(SANITIZE),
            "-p", "no:cacheprovider", "-q", "--no-header", "--rootdir", str(tmp_path), str(tmp_path / "notebooks"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip
    hint = "\n(outputs changed on purpose? rebuild: .venv/bin/python tools/build_notebooks.py)"
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:] + hint
    assert " passed" in proc.stdout and " failed" not in proc.stdout
    assert (tmp_path / "build" / "report.html").is_file()

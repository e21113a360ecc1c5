"""Simulate mode must not pay for the kubernetes client it never uses."""

import subprocess
import sys


def test_importing_simulate_does_not_load_the_kubernetes_client() -> None:
    code = "import sys, falco_lab.simulate; print('kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

"""pyarrow's allocator: the project picks jemalloc/malloc unless the user chose one."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import falco_lab.events.frame, pyarrow; print(pyarrow.default_memory_pool().backend_name)"


def _backend(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env_value is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_value
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_without_a_choice_the_pool_is_not_mimalloc() -> None:
    assert _backend(None) in {"jemalloc", "system"}


def test_the_users_choice_of_pool_is_kept() -> None:
    assert _backend("mimalloc") == "mimalloc"

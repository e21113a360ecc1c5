"""The ten shared captures (``../shared/captures``) the capture tests read."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import shared_file

CAPTURES = (
    "falco__cat_write.scap",
    "falco__connect_localhost.scap",
    "falco__open-multiple-files.scap",
    "falco__ping_sendto.scap",
    "falco__psp_privileged.scap",
    "falco__psp_run_as_user_0_container.scap",
    "falco__psp_run_as_user_65534_container.scap",
    "falco__psp_write_tmp_test.scap",
    "falco__syscall.scap",
    "libs__sample.scap",
)


def capture(name: str) -> Path:
    """Path of a shared capture; fails on CI and skips elsewhere when it is missing."""
    return shared_file(f"captures/{name}")

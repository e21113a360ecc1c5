"""Which Falco driver a node can run, from its kernel release (no cluster access needed).

Chart 9.x / Falco 0.44 have two drivers: ``modern_ebpf`` (CO-RE, built into the
falco binary; needs the BPF ring buffer and BTF, i.e. kernel 5.8 or newer) and
``kmod`` (a kernel module: needs a prebuilt module or kernel headers on the node).
"""

from __future__ import annotations

import re

#: The modern eBPF probe needs the BPF ring buffer and BTF: kernel 5.8 or newer.
MODERN_EBPF_MIN_KERNEL = (5, 8)

_KERNEL = re.compile(r"^(\d+)\.(\d+)")


def kernel_version(text: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a kernel release string such as ``6.1.115-126.197.amzn2023.x86_64``."""
    match = _KERNEL.match(text or "")
    return (int(match[1]), int(match[2])) if match else None


def driver_advice(kernel: str, os_image: str, operating_system: str = "linux") -> tuple[str, str]:
    """``(status, advice)`` for a node's kernel release, OS image and operating system.

    ``status`` is ok, warn or fail.  A node that is not Linux (``nodeInfo.operatingSystem``,
    e.g. a Windows node) runs no Falco driver at all: a warning, never "supported".
    """
    if (operating_system or "linux").lower() != "linux":
        return (
            "warn",
            f"{operating_system} node ({os_image or 'unknown OS'}): Falco's drivers are Linux-only; keep the "
            "DaemonSet off it (values.yaml sets nodeSelector kubernetes.io/os=linux)",
        )
    version = kernel_version(kernel)
    if version is None:
        return "warn", f"kernel {kernel!r} not recognised; check `uname -r` on the node"
    shown = f"kernel {kernel}, {os_image or 'unknown OS'}"
    if version >= MODERN_EBPF_MIN_KERNEL:
        return "ok", f"{shown}: modern_ebpf supported (needs BTF, which current EKS AMIs ship)"
    return (
        "fail",
        f"{shown}: modern_ebpf needs kernel >= 5.8 with BTF; move the node group to an AL2023 or "
        "Bottlerocket AMI, or set driver.kind=kmod (needs a prebuilt module or kernel headers)",
    )

"""Where falco-lab keeps what it downloads, and the checksum that decides whether a file is the one pinned.

One home for both, for every kind of pinned download (upstream rulesets, public captures).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["cache_dir", "sha256_of"]


def cache_dir(env_var: str, kind: str) -> Path:
    """``$<env_var>``, else ``$XDG_CACHE_HOME/falco-lab/<kind>``, else ``~/.cache/falco-lab/<kind>``."""
    env = os.environ.get(env_var)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "falco-lab" / kind


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

"""Download public captures by pinned URL and checksum (never committed into the project).

The registry (``data/public_captures.json``) names each capture with a URL pinned to a commit
and its sha256.  :func:`fetch` downloads into a folder (by default the cache,
:func:`default_cache_dir`), checks the sha256 before keeping the file, and leaves a file that is
already there with the right checksum alone.  :func:`find_capture` is what the notebooks call: it
looks in an explicit folder, then ``$FALCO_LAB_CAPTURES_DIR``, then the cache, as the rules'
:func:`falco_lab.rules.find_upstream_rules` does, and never anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from falco_lab.cache import cache_dir, sha256_of
from falco_lab.capture.reader import CaptureError
from falco_lab.errors import FalcoLabError

__all__ = [
    "CaptureNotFound",
    "PublicCapture",
    "default_cache_dir",
    "fetch",
    "find_capture",
    "public_captures",
]

MAX_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class PublicCapture:
    name: str
    url: str
    sha256: str
    what: str


@cache
def public_captures() -> dict[str, PublicCapture]:
    """The registry of public captures, by file name."""
    text = (
        resources.files("falco_lab.capture").joinpath("data/public_captures.json").read_text(encoding="utf-8")
    )
    return {
        row["name"]: PublicCapture(row["name"], row["url"], row["sha256"], row["what"])
        for row in json.loads(text)["captures"]
    }


class CaptureNotFound(FalcoLabError):
    """A public capture is nowhere to be found (the message says where it looked and how to get it)."""


def default_cache_dir() -> Path:
    """``$FALCO_LAB_CAPTURES_DIR``, else ``$XDG_CACHE_HOME/falco-lab/captures``, else ``~/.cache/falco-lab/captures``."""
    return cache_dir("FALCO_LAB_CAPTURES_DIR", "captures")


def find_capture(name: str, dir: str | os.PathLike[str] | None = None) -> Path:
    """The local copy of the public capture ``name`` with its pinned sha256.

    Looks in ``dir`` (if given), ``$FALCO_LAB_CAPTURES_DIR`` and the cache
    (:func:`default_cache_dir`); a file there with another checksum is not used.

    Raises
    ------
    CaptureNotFound
        Naming where it looked and the command that downloads the capture; also for a name
        that is not in the registry.
    """
    registry = public_captures()
    if name not in registry:
        raise CaptureNotFound(f"{name}: not a known public capture (known: {', '.join(sorted(registry))})")
    folders = [Path(dir).expanduser()] if dir is not None else []
    env = os.environ.get("FALCO_LAB_CAPTURES_DIR")
    if env:
        folders.append(Path(env).expanduser())
    folders.append(default_cache_dir())
    folders = list(dict.fromkeys(folders))
    wrong = []
    for folder in folders:
        path = folder / name
        if path.is_file():
            if sha256_of(path) == registry[name].sha256:
                return path
            wrong.append(str(path))
    mismatch = f"; {', '.join(wrong)} has another sha256 than the pinned one" if wrong else ""
    raise CaptureNotFound(
        f"the capture {name} is not here (looked in {', '.join(str(f) for f in folders)}){mismatch}: "
        f"run `falco-lab capture fetch {name}` to get it (needs internet access)"
    )


def fetch(
    names: list[str], folder: Path, *, timeout: float = 60.0, url_override: dict[str, str] | None = None
) -> list[Path]:
    """Download the named public captures into ``folder``; return their paths.

    ``url_override`` maps a name to another URL (a mirror); the checksum is still the pinned one.

    Raises
    ------
    CaptureError
        For an unknown name, a download error, a file over 64 MB, or a checksum mismatch
        (the downloaded bytes are then discarded).
    """
    registry = public_captures()
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise CaptureError(
            ", ".join(unknown), 0, f"not a known public capture (known: {', '.join(sorted(registry))})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        entry = registry[name]
        target = folder / name
        if target.is_file() and sha256_of(target) == entry.sha256:
            paths.append(target)
            continue
        url = (url_override or {}).get(name, entry.url)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - pinned https URL
                data = response.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CaptureError(url, 0, f"download failed: {exc}") from exc
        if len(data) > MAX_BYTES:
            raise CaptureError(url, MAX_BYTES, "download larger than 64 MB: refused")
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.sha256:
            raise CaptureError(url, 0, f"sha256 {digest} is not the pinned {entry.sha256}: file discarded")
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(data)
        partial.replace(target)
        paths.append(target)
    return paths

"""Upstream Falco rulesets for users: download at pinned versions, verify, cache, and find them.

``falco-lab rules fetch`` downloads the stable, incubating and sandbox rulesets of
``falcosecurity/rules`` from their public URLs, checks each against a pinned SHA-256 and stores it in
the cache directory.  :func:`find_upstream_rules` is what the simulator and the notebooks call to get
the files: it looks in an explicit directory, then ``$FALCO_LAB_RULES_DIR``, then the cache, and
says clearly what is missing and how to get it.  It never looks at the source tree or next to it:
reference copies elsewhere (such as ``../shared/upstream`` in the development set-up) are used
only when named with ``dir=`` or ``$FALCO_LAB_RULES_DIR``.

Pins
----
The checksums are those of the reference copies the project is tested against.  The stable ruleset
is the ``falco-rules-5.1.0`` release (tag commit ``6cbb113dd3fb``).  For incubating and sandbox the
reference copies do not record a release tag; we pin them to the same commit (they live in the same
repository, ``rules/`` folder) — that their content matches that commit is an assumption the checksum
check will expose if wrong.  Upstream files are never committed to this project.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from falco_lab.cache import cache_dir, sha256_of
from falco_lab.errors import FalcoLabError

__all__ = [
    "DEFAULT_BASE_URL",
    "RULESETS",
    "FetchError",
    "PinnedRuleset",
    "UpstreamRulesNotFound",
    "default_cache_dir",
    "fetch_rules",
    "find_upstream_rules",
    "sha256_of",
]

#: Where the raw files are served; ``{base}/{ref}/{path}`` (override with ``FALCO_LAB_RULES_BASE_URL``).
DEFAULT_BASE_URL = "https://raw.githubusercontent.com/falcosecurity/rules"
_STABLE_COMMIT = "6cbb113dd3fbcaf157c077414a57d2180f3e0eec"


@dataclass(frozen=True, slots=True)
class PinnedRuleset:
    """One upstream ruleset at a pinned version.

    Attributes
    ----------
    key
        ``stable``, ``incubating`` or ``sandbox`` (also the load order: the last two need stable first).
    filename
        File name, as upstream names it.
    ref
        Git ref the file is downloaded at.
    release
        The release tag, when known; None when the reference copy does not record it.
    sha256
        Expected SHA-256 of the file.
    """

    key: str
    filename: str
    ref: str
    release: str | None
    sha256: str

    @property
    def path(self) -> str:
        return f"rules/{self.filename}"

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.ref}/{self.path}"


RULESETS: tuple[PinnedRuleset, ...] = (
    PinnedRuleset(
        "stable",
        "falco_rules.yaml",
        "falco-rules-5.1.0",
        "falco-rules-5.1.0",
        "1c15d5d543635b76e31cca39d7df8bf4caf50a428613c314d92986a23bfcb617",
    ),
    PinnedRuleset(
        "incubating",
        "falco-incubating_rules.yaml",
        _STABLE_COMMIT,
        None,  # release tag not recorded for the reference copy
        "47bf87041e2f39ca336e7acf1ae4e6183771a92e81031f367d01f2b49cabe1ac",
    ),
    PinnedRuleset(
        "sandbox",
        "falco-sandbox_rules.yaml",
        _STABLE_COMMIT,
        None,  # release tag not recorded for the reference copy
        "6849ec5e9b55ba81ca5214559dc1a1c32e051acc0a7791da7841a850f853f59a",
    ),
)
_BY_KEY = {r.key: r for r in RULESETS}


class FetchError(FalcoLabError):
    """A download failed or a file did not match its pinned checksum."""


class UpstreamRulesNotFound(FalcoLabError):
    """The requested upstream rulesets are nowhere to be found (the message says how to get them)."""


def default_cache_dir() -> Path:
    """``$FALCO_LAB_RULES_DIR``, else ``$XDG_CACHE_HOME/falco-lab/rules``, else ``~/.cache/falco-lab/rules``."""
    return cache_dir("FALCO_LAB_RULES_DIR", "rules")


def _select(keys: Iterable[str] | None) -> list[PinnedRuleset]:
    if keys is None:
        return list(RULESETS)
    out = []
    for key in keys:
        if key not in _BY_KEY:
            raise ValueError(f"unknown ruleset {key!r}; expected one of {', '.join(_BY_KEY)}")
        out.append(_BY_KEY[key])
    return out


def fetch_rules(
    dest: str | os.PathLike[str] | None = None,
    *,
    rulesets: Iterable[str] | None = None,
    base_url: str | None = None,
    timeout: float = 30.0,
    force: bool = False,
) -> dict[str, Path]:
    """Download the pinned upstream rulesets into ``dest`` (default: :func:`default_cache_dir`).

    A file already there with the right checksum is kept (unless ``force``).  Each download is
    verified before it is stored; nothing unverified is ever left in ``dest``.

    Returns
    -------
    dict
        ruleset key → path, in load order.

    Raises
    ------
    FetchError
        Network failure (the message says how to provide the files by hand) or checksum mismatch.
    """
    import requests

    target = Path(dest).expanduser() if dest is not None else default_cache_dir()
    base = base_url or os.environ.get("FALCO_LAB_RULES_BASE_URL") or DEFAULT_BASE_URL
    target.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for pin in _select(rulesets):
        path = target / pin.filename
        if not force and path.exists() and sha256_of(path) == pin.sha256:
            out[pin.key] = path
            continue
        url = pin.url(base)
        try:
            response = requests.get(url, timeout=timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise FetchError(
                f"could not download the {pin.key} ruleset from {url}: {exc}. If this machine is offline, "
                f"download {pin.filename} (falcosecurity/rules, ref {pin.ref}) elsewhere and copy it into "
                f"{target}, or point FALCO_LAB_RULES_DIR at a directory that has it."
            ) from None
        digest = hashlib.sha256(response.content).hexdigest()
        if digest != pin.sha256:
            raise FetchError(
                f"checksum mismatch for {pin.filename} from {url}: expected sha256 {pin.sha256}, got {digest}; "
                "the file was not saved"
            )
        fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{pin.filename}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(response.content)
        os.replace(tmp, path)
        out[pin.key] = path
    return out


def find_upstream_rules(
    dir: str | os.PathLike[str] | None = None,
    *,
    rulesets: Iterable[str] | None = None,
) -> dict[str, Path]:
    """Locate the upstream rulesets, in load order (stable first).

    Looks, for each ruleset, in: ``dir`` (if given), ``$FALCO_LAB_RULES_DIR``, and the cache
    (:func:`default_cache_dir`); nowhere else.

    Parameters
    ----------
    dir
        A directory to look in first.
    rulesets
        Keys to find (``stable``, ``incubating``, ``sandbox``); all three by default.

    Returns
    -------
    dict
        ruleset key → path; pass ``*paths.values()`` to :func:`~falco_lab.rules.loading.loader.load_rules`.

    Raises
    ------
    UpstreamRulesNotFound
        Naming each missing file, where it was looked for, and how to provide it.
    """
    candidates: list[Path] = []
    if dir is not None:
        candidates.append(Path(dir).expanduser())
    env = os.environ.get("FALCO_LAB_RULES_DIR")
    if env:
        candidates.append(Path(env).expanduser())
    candidates.append(default_cache_dir())
    candidates = list(dict.fromkeys(candidates))
    found: dict[str, Path] = {}
    missing: list[PinnedRuleset] = []
    for pin in _select(rulesets):
        for folder in candidates:
            path = folder / pin.filename
            if path.is_file():
                found[pin.key] = path
                break
        else:
            missing.append(pin)
    if missing:
        names = ", ".join(p.filename for p in missing)
        places = ", ".join(str(c) for c in candidates)
        raise UpstreamRulesNotFound(
            f"upstream rules not found: {names} (looked in {places}). Run `falco-lab rules fetch` to download "
            "them (needs internet access), or copy the files from github.com/falcosecurity/rules into a "
            "directory and pass it as dir= or set FALCO_LAB_RULES_DIR."
        )
    return found

"""The simulator's application catalogue: data in ``data/apps.yaml``, loaded and checked here.

Each entry becomes an :class:`App` (a DaemonSet when ``per_node``, else a Deployment or
StatefulSet with ``replicas`` pods).  A bad catalogue is a :class:`CatalogueError` naming
the file, the line and the reason; nothing is guessed or dropped silently.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from falco_lab.errors import FalcoLabError

#: The catalogue shipped with the package.
APPS_FILE = Path(__file__).resolve().parent / "data" / "apps.yaml"

#: EKS's regional ECR (add-on images) and the workshop account's ECR (the shop's own images).
ECR = "602401143452.dkr.ecr.{region}.amazonaws.com"
APP_REGISTRY = "123456789012.dkr.ecr.{region}.amazonaws.com"
#: Placeholders an ``image`` may use.
IMAGE_PLACEHOLDERS = frozenset({"ecr", "registry"})
#: ``replicas: scale`` means this many replicas for a cluster of ``nodes`` nodes.
SCALE = "scale"


class CatalogueError(FalcoLabError, ValueError):
    """The app catalogue is not valid: the message names the file, the line and the reason."""


@dataclass(frozen=True, slots=True)
class App:
    """A long-running workload: a DaemonSet (``per_node``) or a Deployment/StatefulSet."""

    name: str
    namespace: str
    image: str
    command: tuple[str, ...]
    replicas: int = 1
    per_node: bool = False
    run_as_user: int | None = None
    host_paths: tuple[tuple[str, str, str], ...] = ()  # (host path, mount path, type)
    privileged: bool = False
    host_network: bool = False
    host_pid: bool = False
    role: str = ""  # web, api, db, cache, agent...
    labels: dict[str, str] = field(default_factory=dict)


_REQUIRED = ("name", "namespace", "image", "command")
_FLAGS = ("per_node", "privileged", "host_network", "host_pid")
_KEYS = frozenset({*_REQUIRED, *_FLAGS, "replicas", "run_as_user", "host_paths", "role", "labels"})
_HOST_PATH_KEYS = frozenset({"host", "mount", "type"})


@dataclass(frozen=True, slots=True)
class _Where:
    path: str
    lines: Mapping[str, int]
    line: int

    def error(self, reason: str, key: str | None = None) -> CatalogueError:
        line = self.lines.get(key, self.line) if key is not None else self.line
        return CatalogueError(f"{self.path}:{line}: {reason}")


def scaled_replicas(nodes: int) -> int:
    """What ``replicas: scale`` means on a cluster of ``nodes`` nodes."""
    return max(2, nodes // 2)


def _string(value: Any, key: str, where: _Where) -> str:
    if not isinstance(value, str) or not value:
        raise where.error(f"{key} must be a non-empty string, not {value!r}", key)
    return value


def _flag(value: Any, key: str, where: _Where) -> bool:
    if not isinstance(value, bool):
        raise where.error(f"{key} must be true or false, not {value!r}", key)
    return value


def _image(value: Any, where: _Where, region: str) -> str:
    text = _string(value, "image", where)
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    unknown = sorted(names - IMAGE_PLACEHOLDERS)
    if unknown:
        raise where.error(
            f"image uses unknown placeholder(s) {', '.join(unknown)}; known: {', '.join(sorted(IMAGE_PLACEHOLDERS))}",
            "image",
        )
    return text.format(ecr=ECR.format(region=region), registry=APP_REGISTRY.format(region=region))


def _host_paths(value: Any, where: _Where) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(value, list):
        raise where.error(f"host_paths must be a list, not {type(value).__name__}", "host_paths")
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != _HOST_PATH_KEYS:
            raise where.error(
                f"host_paths[{index}] must have exactly the keys host, mount, type; got {item!r}",
                "host_paths",
            )
        host = _string(item["host"], f"host_paths[{index}].host", where)
        mount = _string(item["mount"], f"host_paths[{index}].mount", where)
        kind = item["type"]
        if not isinstance(kind, str):
            raise where.error(f'host_paths[{index}].type must be a string ("" for none)', "host_paths")
        out.append((host, mount, kind))
    return tuple(out)


def _app(entry: Any, where: _Where, *, region: str, nodes: int) -> App:
    if not isinstance(entry, dict):
        raise where.error(f"an app must be a mapping, not {type(entry).__name__}")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}; known keys: {', '.join(sorted(_KEYS))}", unknown[0])
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise where.error(f"missing required key(s) {', '.join(missing)}")
    command = entry["command"]
    if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
        raise where.error("command must be a non-empty list of strings", "command")
    replicas = entry.get("replicas", 1)
    if replicas == SCALE:
        replicas = scaled_replicas(nodes)
    elif not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        raise where.error(f"replicas must be a positive integer or {SCALE!r}, not {replicas!r}", "replicas")
    run_as_user = entry.get("run_as_user")
    if run_as_user is not None and (
        not isinstance(run_as_user, int) or isinstance(run_as_user, bool) or run_as_user < 0
    ):
        raise where.error(f"run_as_user must be a uid (integer >= 0), not {run_as_user!r}", "run_as_user")
    labels = entry.get("labels", {})
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise where.error("labels must map strings to strings", "labels")
    role = entry.get("role", "")
    if not isinstance(role, str):
        raise where.error(f"role must be a string, not {role!r}", "role")
    return App(
        name=_string(entry["name"], "name", where),
        namespace=_string(entry["namespace"], "namespace", where),
        image=_image(entry["image"], where, region),
        command=tuple(command),
        replicas=replicas,
        run_as_user=run_as_user,
        host_paths=_host_paths(entry.get("host_paths", []), where),
        role=role,
        labels=dict(labels),
        **{flag: _flag(entry.get(flag, False), flag, where) for flag in _FLAGS},
    )


def parse_apps(text: str, *, path: str = "<apps>", region: str, nodes: int) -> list[App]:
    """The apps of a catalogue ``text`` (``path`` names it in errors), for ``region`` and ``nodes``.

    Raises
    ------
    CatalogueError
        On YAML errors, a missing ``apps`` list, unknown or missing keys, wrong types, an
        unknown image placeholder or two apps with the same namespace and name.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise CatalogueError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("apps"), list) or root is None:
        raise CatalogueError(f"{path}:1: expected a mapping with an 'apps' list")
    items = next(value for key, value in root.value if key.value == "apps").value
    apps: list[App] = []
    seen: dict[tuple[str, str], int] = {}
    for entry, node in zip(data["apps"], items, strict=True):
        lines = (
            {key.value: key.start_mark.line + 1 for key, _ in node.value}
            if isinstance(node, yaml.MappingNode)
            else {}
        )
        where = _Where(path, lines, node.start_mark.line + 1)
        app = _app(entry, where, region=region, nodes=nodes)
        if (app.namespace, app.name) in seen:
            raise where.error(
                f"app {app.namespace}/{app.name} is already defined at line {seen[app.namespace, app.name]}",
                "name",
            )
        seen[app.namespace, app.name] = where.line
        apps.append(app)
    return apps


@cache
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_apps(*, region: str, nodes: int, path: str | os.PathLike[str] | None = None) -> list[App]:
    """The apps of the catalogue file (default: the packaged :data:`APPS_FILE`)."""
    source = str(path or APPS_FILE)
    return parse_apps(_read(source), path=source, region=region, nodes=nodes)


__all__ = ["APPS_FILE", "App", "CatalogueError", "load_apps", "parse_apps", "scaled_replicas"]

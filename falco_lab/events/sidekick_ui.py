"""Client for the falcosidekick-ui v2 API, and a poster for falcosidekick's HTTP input.

``GET /api/v1/events/search`` (basic auth) answers
``{"results": [Event, ...] | {"0": Event, ...}, "statistics": {"returned": n, "all": N}}``,
newest first, one 1-based ``page`` of ``limit`` events at a time.  Filters
``priority``, ``rule``, ``source``, ``hostname`` and ``tags`` take comma-separated OR
lists, ``filter`` is free text and ``since`` a window such as ``24h``.

Credentials come from ``auth=`` (``"user:password"`` or a ``(user, password)`` pair),
from credentials embedded in the URL, or from ``FALCO_LAB_UI_USER`` /
``FALCOSIDEKICK_UI_USER`` (``user:password``, the UI's own variable).  They are never
printed, logged, shown in a ``repr`` or included in an error message.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from tqdm import tqdm

from falco_lab.errors import FalcoLabError
from falco_lab.events.jsonl import Chunk
from falco_lab.events.since import Since, since_param
from falco_lab.events.validate import alerts_to_frame

log = logging.getLogger(__name__)

#: Environment variables read for ``user:password`` when no ``auth`` is given, in order.
AUTH_ENV_VARS: tuple[str, ...] = ("FALCO_LAB_UI_USER", "FALCOSIDEKICK_UI_USER")
SEARCH_PATH = "/api/v1/events/search"
COUNT_PATH = "/api/v1/events/count"
#: Show a progress bar when a pull spans more pages than this (``progress=None``).
PROGRESS_MIN_PAGES = 5


class SidekickUIError(FalcoLabError):
    """The UI could not be queried (auth, HTTP error, timeout); never contains credentials."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    """Basic-auth credentials whose ``repr``/``str`` never reveal them."""

    user: str = field(repr=False)
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    __str__ = __repr__

    @classmethod
    def parse(cls, text: str, origin: str) -> Credentials:
        user, sep, password = text.partition(":")
        if not sep or not user or not password:
            raise SidekickUIError(f"credentials from {origin} must look like user:password (value not shown)")
        return cls(user, password)


def resolve_credentials(
    auth: str | tuple[str, str] | Credentials | None, env: Mapping[str, str] | None = None
) -> Credentials | None:
    """Credentials from ``auth``, else from the environment variables, else ``None``."""
    if isinstance(auth, Credentials):
        return auth
    if isinstance(auth, tuple):
        return Credentials(*auth)
    if isinstance(auth, str):
        return Credentials.parse(auth, "the auth parameter")
    env = os.environ if env is None else env
    for name in AUTH_ENV_VARS:
        if env.get(name):
            return Credentials.parse(env[name], f"${name}")
    return None


def split_url(url: str) -> tuple[str, Credentials | None]:
    """``http://user:pw@host:2802/`` -> (``http://host:2802``, credentials)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SidekickUIError(
            f"not an http(s) URL: {urlunsplit(parts._replace(netloc=parts.hostname or ''))!r}"
        )
    creds = None
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username is not None:
        creds = Credentials(parts.username, parts.password or "")
    path = parts.path.split("/api/v1", 1)[0].rstrip("/")  # a pasted API URL means its server
    return urlunsplit((parts.scheme, netloc, path, "", "")), creds


def _join(values: str | Iterable[str] | None) -> str | None:
    if values is None:
        return None
    if isinstance(values, str):
        return values
    return ",".join(values)


class SidekickUIClient:
    """Read events from a falcosidekick-ui (v2) server.

    Parameters
    ----------
    url : str
        Base URL, e.g. ``http://localhost:2802`` (credentials in it are taken out).
    auth : str or (str, str), optional
        ``"user:password"``; default: the URL's, then ``$FALCO_LAB_UI_USER``, then
        ``$FALCOSIDEKICK_UI_USER``.
    timeout : float
        Seconds per HTTP request (connect and read).
    retries : int
        Extra attempts after a connection error, a timeout or a 5xx answer.
    backoff : float
        First pause between attempts in seconds; doubles each time.
    page_size : int
        ``limit`` per request.
    progress : bool, optional
        Progress bar on/off; by default shown when more than ``PROGRESS_MIN_PAGES`` pages.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: str | tuple[str, str] | Credentials | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        page_size: int = 500,
        progress: bool | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url, url_creds = split_url(url)
        self._credentials = (
            resolve_credentials(auth) if auth is not None else url_creds or resolve_credentials(None)
        )
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.page_size = page_size
        self.progress = progress
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        auth = "set" if self._credentials else "none"
        return f"SidekickUIClient(url={self.url!r}, auth={auth})"

    # -- HTTP ---------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, Any]) -> dict:
        where = f"{self.url}{path}"
        auth = (self._credentials.user, self._credentials.password) if self._credentials else None
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._session.get(where, params=params, auth=auth, timeout=self.timeout)
            except requests.Timeout:
                last = f"timed out after {self.timeout:g} s"
                log.info("GET %s: %s (attempt %d)", where, last, attempt + 1)
                continue
            except requests.ConnectionError:
                last = "connection failed"
                log.info("GET %s: %s (attempt %d)", where, last, attempt + 1)
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code} {_server_message(response)}".rstrip()
                log.info("GET %s: %s (attempt %d)", where, last, attempt + 1)
                continue
            if response.status_code == 401:
                raise SidekickUIError(
                    f"GET {where}: 401 unauthorized; pass auth='user:password' or set "
                    f"{AUTH_ENV_VARS[0]} / {AUTH_ENV_VARS[1]}",
                    401,
                )
            if response.status_code >= 400:
                raise SidekickUIError(
                    f"GET {where}: HTTP {response.status_code} {_server_message(response)}".rstrip(),
                    response.status_code,
                )
            try:
                body = response.json()
            except ValueError:
                raise SidekickUIError(f"GET {where}: the answer is not JSON", response.status_code) from None
            if not isinstance(body, dict):
                raise SidekickUIError(f"GET {where}: expected a JSON object, got {type(body).__name__}")
            return body
        raise SidekickUIError(f"GET {where}: {last} ({self.retries + 1} attempts)")

    # -- API ----------------------------------------------------------------------------
    @staticmethod
    def query(
        *,
        since: Since | None = None,
        priority: str | Iterable[str] | None = None,
        rule: str | Iterable[str] | None = None,
        source: str | Iterable[str] | None = None,
        hostname: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        filter: str | None = None,
    ) -> dict[str, str]:
        """The query parameters for the given filters (``None`` means no filter)."""
        params = {
            "since": since_param(since) if since is not None else None,
            "priority": _join(priority),
            "rule": _join(rule),
            "source": _join(source),
            "hostname": _join(hostname),
            "tags": _join(tags),
            "filter": filter,
        }
        return {k: v for k, v in params.items() if v}

    def search(self, *, max_events: int | None = None, **filters: Any) -> list[tuple[str, dict]]:
        """All matching events, newest first, as ``(label, event)`` pairs.

        ``label`` says where an event came from (``page 2, result 17``).  Events seen
        twice (pages shift while new events arrive) are kept once, by ``uuid``.
        """
        params = self.query(**filters)
        events: list[tuple[str, dict]] = []
        seen: set[str] = set()
        page = 1
        bar = None
        try:
            while True:
                body = self._get(SEARCH_PATH, {**params, "page": page, "limit": self.page_size})
                results = _results(body.get("results"), f"{self.url}{SEARCH_PATH} page {page}")
                raw_stats = body.get("statistics")
                stats = raw_stats if isinstance(raw_stats, dict) else {}
                total = stats.get("all") if isinstance(stats.get("all"), int) else None
                if bar is None and total is not None and self._show_progress(total):
                    bar = tqdm(
                        total=total if max_events is None else min(total, max_events),
                        unit="event",
                        desc="falcosidekick-ui",
                    )
                before = len(events)
                for index, event in enumerate(results):
                    uuid = event.get("uuid") if isinstance(event, dict) else None
                    if isinstance(uuid, str):
                        if uuid in seen:
                            continue
                        seen.add(uuid)
                    events.append((f"page {page}, result {index + 1}", event))
                if results and len(events) == before:
                    return events  # a page of nothing new: the server ignores ``page``
                if bar is not None:
                    bar.update(len(results))
                if max_events is not None and len(events) >= max_events:
                    return events[:max_events]
                if len(results) < self.page_size or (total is not None and page * self.page_size >= total):
                    return events
                page += 1
        finally:
            if bar is not None:
                bar.close()

    def _show_progress(self, total: int) -> bool:
        if self.progress is not None:
            return self.progress
        return total > PROGRESS_MIN_PAGES * self.page_size

    def load(self, *, max_events: int | None = None, **filters: Any) -> Chunk:
        """Matching events as a :class:`~falco_lab.events.jsonl.Chunk` (canonical frame + problems)."""
        pairs = self.search(max_events=max_events, **filters)
        source = f"{self.url}{SEARCH_PATH}"
        frame, problems = alerts_to_frame([e for _, e in pairs], source, labels=[label for label, _ in pairs])
        return Chunk(source, frame, problems)

    def count_by(self, groupby: str, **filters: Any) -> dict[str, int]:
        """``GET /api/v1/events/count/<groupby>``: counts per priority, rule, source, tags or hostname."""
        body = self._get(f"{COUNT_PATH}/{groupby}", self.query(**filters))
        results = body.get("results") or {}
        return {str(k): int(v) for k, v in results.items()} if isinstance(results, dict) else {}


def _results(results: object, where: str) -> list:
    """``results`` as a list: an array, or an object keyed by position (``"0"``, ``"1"`` ...)."""
    if results is None:
        return []
    if isinstance(results, list):
        return results
    if isinstance(results, dict):

        def position(key: str) -> tuple[int, str]:
            return (int(key), "") if key.isdigit() else (1 << 62, key)

        return [results[k] for k in sorted(results, key=position)]
    raise SidekickUIError(f"{where}: 'results' is a {type(results).__name__}, expected an array or object")


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return f"({body['message'][:200]})"
    if isinstance(body, str):
        return f"({body[:200]})"
    return ""


def post_event(
    url: str, alert: Mapping[str, Any], *, timeout: float = 10.0, session: requests.Session | None = None
) -> int:
    """POST one Falco JSON alert to a falcosidekick-compatible ``url`` (``POST /``).

    Returns the HTTP status; raises :class:`SidekickUIError` on a non-2xx answer or a
    connection failure.
    """
    return post_events(url, [alert], timeout=timeout, session=session)[0]


def post_events(
    url: str,
    alerts: Sequence[Mapping[str, Any]],
    *,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> list[int]:
    """POST each alert in turn (falcosidekick takes one alert per request)."""
    base, creds = split_url(url)
    target = base + "/"
    auth = (creds.user, creds.password) if creds else None
    session = session or requests.Session()
    statuses = []
    for index, alert in enumerate(alerts):
        try:
            response = session.post(target, json=dict(alert), auth=auth, timeout=timeout)
        except requests.RequestException as exc:
            raise SidekickUIError(f"POST {target}: {type(exc).__name__} on alert {index + 1}") from None
        if not 200 <= response.status_code < 300:
            raise SidekickUIError(
                f"POST {target}: HTTP {response.status_code} on alert {index + 1} "
                f"{_server_message(response)}".rstrip(),
                response.status_code,
            )
        statuses.append(response.status_code)
    return statuses


__all__ = [
    "AUTH_ENV_VARS",
    "Credentials",
    "SidekickUIClient",
    "SidekickUIError",
    "post_event",
    "post_events",
    "resolve_credentials",
]

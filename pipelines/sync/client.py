"""Pull usage and costs from the OpenAI Admin API into the landing folder, as page files.

Every usage endpoint and the Costs API, daily buckets, grouped by every dimension each
endpoint supports, following ``next_page`` until ``has_more`` is false with each endpoint's
maximum ``limit``. Each response page is saved as the JSON a person would save, so
``radar_refresh`` ingests it like any export; downloading a day again writes newer files for
it, and the newest file wins. Then, with the same admin key (unless ``RADAR_SYNC_NAMES`` is
0), the names of the projects and users, and the API keys (with their owners) of every
project seen in those pages, so a caller is named as people know it.

The admin key is read from ``OPENAI_ADMIN_KEY`` and only ever put in the Authorization
header: it is never stored, logged, or included in an error message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Endpoint:
    name: str          # file prefix, and the contract's endpoint name
    path: str          # after /organization/
    group_by: tuple[str, ...]
    max_limit: int     # maximum number of daily buckets per page


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("completions", "usage/completions",
             ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"), 31),
    Endpoint("embeddings", "usage/embeddings",
             ("project_id", "user_id", "api_key_id", "model"), 31),
    Endpoint("moderations", "usage/moderations",
             ("project_id", "user_id", "api_key_id", "model"), 31),
    Endpoint("images", "usage/images",
             ("project_id", "user_id", "api_key_id", "model", "size", "source"), 31),
    Endpoint("audio_speeches", "usage/audio_speeches",
             ("project_id", "user_id", "api_key_id", "model"), 31),
    Endpoint("audio_transcriptions", "usage/audio_transcriptions",
             ("project_id", "user_id", "api_key_id", "model"), 31),
    Endpoint("vector_stores", "usage/vector_stores", ("project_id",), 31),
    Endpoint("code_interpreter_sessions", "usage/code_interpreter_sessions", ("project_id",), 31),
    Endpoint("file_searches", "usage/file_search_calls",
             ("project_id", "user_id", "api_key_id", "vector_store_id"), 31),
    Endpoint("web_searches", "usage/web_search_calls",
             ("project_id", "user_id", "api_key_id", "model", "context_level"), 31),
    Endpoint("costs", "costs", ("project_id", "line_item", "api_key_id"), 180),
)


class AdminApiError(RuntimeError):
    """The API refused or kept failing; the message says what to do, never the key."""


@dataclass
class SyncStats:
    requests: int = 0
    pages: int = 0
    buckets: int = 0
    retries: int = 0
    files: int = 0
    #: projects and users named by their lists; project API key lists: projects whose keys
    #: were asked for, keys listed, projects whose key list failed
    projects: int = 0
    users: int = 0
    key_lists: int = 0
    keys: int = 0
    key_list_errors: int = 0


#: what a 401/403 means for the Admin API's endpoints
ADMIN_KEY_HINT = ("The OpenAI Admin API needs an organization admin key in OPENAI_ADMIN_KEY "
                  "(a project API key is not enough), and the key must be valid and not "
                  "revoked.")
#: ... and for ``GET /v1/models``, which admin keys cannot call (they serve the
#: administration endpoints only)
MODELS_KEY_HINT = ("GET /v1/models needs an OpenAI API key (a project key) in OPENAI_API_KEY: "
                   "an admin key serves the administration endpoints only. The key must be "
                   "valid and not revoked.")


class OpenAIAdminClient:
    """A small, careful client: timeouts, retries with backoff on 429 and 5xx honouring
    ``Retry-After``, and a clear failure on 401/403 (``auth_hint`` says which key the
    endpoints need; ``key_variable`` names where it is read from)."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 30.0,
                 max_retries: int = 5, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None,
                 key_variable: str = "OPENAI_ADMIN_KEY",
                 auth_hint: str = ADMIN_KEY_HINT) -> None:
        if not api_key:
            raise AdminApiError(f"{key_variable} is not set. {auth_hint}")
        self.auth_hint = auth_hint
        # imported when a client is made: the code location (every run's start) loads this
        # module and would pay httpx's import, 0.13 s, for a job that rarely runs
        import httpx

        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/", timeout=timeout, transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "sunset-radar"})
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.stats = SyncStats()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIAdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        if response is not None and (value := response.headers.get("Retry-After")):
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    when = parsedate_to_datetime(value)
                    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
                except (TypeError, ValueError):
                    pass
        return self.backoff * (2 ** attempt) * (0.5 + random.random() / 2)

    def get(self, path: str, params: list[tuple[str, str | int]]) -> dict:
        import httpx

        for attempt in range(self.max_retries + 1):
            self.stats.requests += 1
            try:
                response = self._client.get(path, params=tuple(params))
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise AdminApiError(f"GET {path}: network error after {attempt + 1} "
                                        f"attempts ({type(exc).__name__})") from None
                self.stats.retries += 1
                self.sleep(self._retry_delay(None, attempt))
                continue
            if response.status_code in (401, 403):
                raise AdminApiError(f"GET {path}: HTTP {response.status_code}. {self.auth_hint}")
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.max_retries:
                    raise AdminApiError(f"GET {path}: HTTP {response.status_code} after "
                                        f"{attempt + 1} attempts")
                self.stats.retries += 1
                delay = self._retry_delay(response, attempt)
                log.warning("GET %s: HTTP %s, retrying in %.1fs", path, response.status_code,
                            delay)
                self.sleep(delay)
                continue
            if response.status_code >= 400:
                raise AdminApiError(f"GET {path}: HTTP {response.status_code}: "
                                    f"{_error_message(response)}")
            return response.json()
        raise AssertionError("unreachable")

    def pages(self, endpoint: Endpoint, start: dt.date, end: dt.date) -> Iterator[dict]:
        """Every page of one endpoint for the days ``start`` .. ``end`` (inclusive)."""
        params: list[tuple[str, str | int]] = [
            ("start_time", _epoch(start)), ("end_time", _epoch(end + dt.timedelta(days=1))),
            ("bucket_width", "1d"), ("limit", endpoint.max_limit),
            *(("group_by", g) for g in endpoint.group_by),
        ]
        cursor: str | None = None
        while True:
            page = self.get(f"organization/{endpoint.path}",
                            params + ([("page", cursor)] if cursor else []))
            if page.get("object") != "page" or not isinstance(page.get("data"), list):
                raise AdminApiError(f"GET {endpoint.path}: the response is not a page object")
            self.stats.pages += 1
            self.stats.buckets += len(page["data"])
            yield page
            cursor = page.get("next_page")
            if not page.get("has_more") or not cursor:
                return

    def lists(self, path: str, params: Sequence[tuple[str, str | int]] = ()
              ) -> Iterator[dict]:
        """Every page of an Admin API list (a list object, 100 items a page at most, the next
        one ``after`` the page's ``last_id``): ``organization/projects``,
        ``organization/users``, ``organization/projects/{project_id}/api_keys``."""
        after: str | None = None
        while True:
            page = self.get(path, [*params, ("limit", 100),
                                   *([("after", after)] if after else [])])
            if page.get("object") != "list" or not isinstance(page.get("data"), list):
                raise AdminApiError(f"GET {path}: the response is not a list object")
            yield page
            after = page.get("last_id")
            if not page.get("has_more") or not after:
                return

    def models(self) -> list[dict]:
        """``GET /v1/models``: model objects, with ``shutdown_date`` where announced."""
        return self.get("models", []).get("data", [])


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def sync_range(client: OpenAIAdminClient, start: dt.date, end: dt.date, landing: Path,
               endpoints: tuple[Endpoint, ...] = ENDPOINTS, names: bool = True) -> SyncStats:
    """Download every endpoint for ``start`` .. ``end`` into ``landing/openai_api/``.

    Files are named for the endpoint, the range and the page number: fetching the same range
    again rewrites the same files (new content, so they are ingested again and, being the
    newest, win). Each is written under a temporary name and renamed, so the landing sensor
    never sees half a file.
    """
    folder = landing / "openai_api"
    folder.mkdir(parents=True, exist_ok=True)
    projects: set[str] = set()
    for endpoint in endpoints:
        for number, page in enumerate(client.pages(endpoint, start, end), start=1):
            _write(client, folder / f"{endpoint.name}_{start}_{end}_p{number:03d}.json", page)
            projects |= _project_ids(page)
    if names and projects:
        sync_directory(client, projects, folder)
    return client.stats


def sync_directory(client: OpenAIAdminClient, projects: set[str], folder: Path) -> None:
    """The names of the projects (archived ones too) and users, and the API keys of each of
    ``projects``, as list files in ``folder``."""
    client.stats.projects = sync_names(client, "organization/projects",
                                       [("include_archived", "true")], folder / "projects",
                                       "the projects") or 0
    client.stats.users = sync_names(client, "organization/users", [], folder / "users",
                                    "the users") or 0
    for project in sorted(projects):
        client.stats.key_lists += 1
        keys = sync_names(client, f"organization/projects/{quote(project, safe='')}/api_keys",
                          [], folder / f"api_keys_{re.sub(r'[^A-Za-z0-9_-]', '_', project)}",
                          f"the API keys of project {project}")
        if keys is None:
            client.stats.key_list_errors += 1
        else:
            client.stats.keys += keys


def sync_names(client: OpenAIAdminClient, path: str, params: Sequence[tuple[str, str | int]],
               stem: Path, what: str) -> int | None:
    """Save an Admin API list as ``<stem>_pNNN.json`` files (the newest list, rewritten on
    every sync) and say how many items it had. Names are a help, not usage: a list that
    cannot be read (an archived project, a key without the permission) is logged, its
    callers stay unnamed, and the sync goes on (None)."""
    items = 0
    try:
        for number, page in enumerate(client.lists(path, params), start=1):
            if page["data"]:
                _write(client, stem.with_name(f"{stem.name}_p{number:03d}.json"), page)
                items += len(page["data"])
    except AdminApiError as exc:
        log.warning("%s were not listed (their callers stay unnamed): %s", what, exc)
        return None
    return items


def _write(client: OpenAIAdminClient, path: Path, page: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(page), encoding="utf-8")
    os.replace(tmp, path)
    client.stats.files += 1


def _project_ids(page: dict) -> set[str]:
    """The project ids of a usage or costs page's results."""
    return {r["project_id"] for bucket in page["data"] if isinstance(bucket, dict)
            for r in bucket.get("results") or () if isinstance(r, dict)
            and isinstance(r.get("project_id"), str) and r["project_id"]}


def _error_message(response: httpx.Response) -> str:
    """What the API said went wrong, on one line: the ``error.message`` of OpenAI's error
    body, else the start of the body's text."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):  # not JSON, or JSON but not an object
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        error = error["message"]
    text = error if isinstance(error, str) and error.strip() else response.text
    return " ".join(text.split())[:300]

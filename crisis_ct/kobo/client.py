"""KoboToolbox API v2 client for the pull sync: assets, asset content, paged submissions.

The API key is a secret: it only travels in the Authorization header, only to the configured
host, and never appears in repr(), logs or exception messages.
"""
from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

__all__ = ["KoboAuthError", "KoboClient", "KoboError", "KoboNotFound", "KoboUnavailable"]

log = logging.getLogger(__name__)

# Statuses a proxy or an overloaded kpi answers while the request itself was fine.
_RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_PAGE_SIZE = 1000  # newer servers silently cap pages here


class KoboError(Exception):
    """Any failure talking to Kobo that the caller may want to report."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class KoboUnavailable(KoboError):
    """Kobo kept failing (429/5xx/network) after all retries; try again later, resume by _id."""


class KoboAuthError(KoboError):
    """The API key was refused (401) or lacks permission on the project (403)."""


class KoboNotFound(KoboError):
    """No such asset or submission (or not visible to this key)."""


class KoboClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30, max_retries: int = 6,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                 backoff_base: float = 1.0, backoff_cap: float = 120.0, max_retry_after: float = 600.0,
                 deadline: float = 120.0, session: requests.Session | None = None):
        """`timeout`: seconds for the connection and for each read; `deadline`: seconds for a
        whole response body to arrive."""
        if not base_url:
            raise ValueError("base_url is required (the Kobo server differs per operation)")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self._sleep = sleep
        self._rng = rng
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._session = session or requests.Session()
        self._origin = urlsplit(self.base_url)

    def __repr__(self) -> str:
        return f"KoboClient(base_url={self.base_url!r}, token='***')"

    # -- public API ------------------------------------------------------------------------
    def list_assets(self) -> list[dict[str, Any]]:
        assets: list[dict[str, Any]] = []
        url: str | None = self._url("/api/v2/assets/")
        params: dict[str, Any] | None = {"format": "json", "limit": MAX_PAGE_SIZE}
        while url:
            page = self._get_json(url, params)
            assets.extend(page.get("results") or [])
            url, params = self._next_url(page), None
        return assets

    def get_asset(self, uid: str) -> dict[str, Any]:
        """One asset including `content` (survey, choices, settings, translations)."""
        return self._get_json(self._url(f"/api/v2/assets/{uid}/"), {"format": "json"})

    def get_version(self, uid: str, version_uid: str) -> dict[str, Any]:
        """One deployed (or draft) version of an asset, with its `content`: what a submission's
        `__version__` (the kpi version uid) names."""
        return self._get_json(self._url(f"/api/v2/assets/{uid}/versions/{version_uid}/"), {"format": "json"})

    def get_submission(self, uid: str, kobo_id: int) -> dict[str, Any]:
        return self._get_json(self._url(f"/api/v2/assets/{uid}/data/{int(kobo_id)}/"), {"format": "json"})

    def iter_submission_pages(self, uid: str, *, after_id: int | None = None,
                              submitted_since: datetime | None = None,
                              page_size: int = MAX_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """Pages of submissions in increasing `_id`, following the server's `next` links.

        If this raises part-way, nothing is lost: the caller stores each page before asking
        for the next, and calls again with `after_id` = the highest `_id` it stored.
        """
        query: dict[str, Any] = {}
        if after_id is not None:
            query["_id"] = {"$gt": int(after_id)}
        if submitted_since is not None:
            query["_submission_time"] = {"$gte": _kobo_time(submitted_since)}
        params: dict[str, Any] | None = {
            "format": "json", "limit": max(1, min(int(page_size), MAX_PAGE_SIZE)),
            "sort": json.dumps({"_id": 1}),
        }
        if query:
            params["query"] = json.dumps(query)
        url: str | None = self._url(f"/api/v2/assets/{uid}/data/")
        seen: set[int] = set()
        while url:
            page = self._get_json(url, params)
            # Offset paging can repeat a record when the set shifts between pages; drop repeats
            # so the caller never sees an _id twice in one run (a set, not "> highest", so an
            # unsorted page can never make us drop a record).
            records = []
            for record in page.get("results") or []:
                kobo_id = _record_id(record)
                if kobo_id is not None and kobo_id in seen:
                    continue
                if kobo_id is not None:
                    seen.add(kobo_id)
                records.append(record)
            if records:
                yield records
            url, params = self._next_url(page), None

    def iter_validation_changes(self, uid: str, *, since_ts: int,
                                page_size: int = MAX_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """Pages of the submissions whose validation status was set at or after `since_ts`
        (Unix seconds): a review fires no hook and changes nothing else a sync could see."""
        # $gt one second earlier: two reviews within the second already seen are both read.
        query = {"_validation_status.timestamp": {"$gt": int(since_ts) - 1}}
        yield from self._pages(uid, {"query": json.dumps(query)}, page_size)

    def list_submission_ids(self, uid: str, *, page_size: int = MAX_PAGE_SIZE) -> list[int]:
        """Every `_id` the asset has now, or an exception: never a partial list.

        Keyset paging (`_id` above the last one read) rather than offsets: a deletion while
        the listing runs would shift offsets and make it skip a record that still exists.
        """
        ids: list[int] = []
        last: int | None = None
        url = self._url(f"/api/v2/assets/{uid}/data/")
        while True:
            params = {"format": "json", "limit": max(1, min(int(page_size), MAX_PAGE_SIZE)),
                      "sort": json.dumps({"_id": 1}), "fields": json.dumps(["_id"])}
            if last is not None:
                params["query"] = json.dumps({"_id": {"$gt": last}})
            page = self._get_json(url, params)
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise KoboUnavailable(f"Kobo answered {url_path(url)} without a list of results")
            page_ids = [_record_id(r) for r in results]
            if any(i is None for i in page_ids):
                raise KoboUnavailable(f"Kobo listed a record without an integer _id at {url_path(url)}")
            if last is not None and any(i <= last for i in page_ids):
                raise KoboUnavailable(f"Kobo's listing of {url_path(url)} is not in _id order")
            ids.extend(page_ids)
            if not page.get("next") or not page_ids:
                return ids
            last = page_ids[-1]

    # -- writing (project set-up) -------------------------------------------------------
    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             files: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        """One API call that may change something: (status, JSON body or None).

        Any status below 400 is returned (304 included); 4xx raise as for reads, with the
        server's message. A POST is retried only when the server says it did not process
        it (429, 503); PATCH, PUT and DELETE are idempotent and retried like reads."""
        response, parsed = self._request(method, self._url(path), params, body=body, files=files, data=data,
                                         expect_json=False)
        return response.status_code, parsed

    # -- HTTP ------------------------------------------------------------------------------
    def _pages(self, uid: str, extra: dict[str, Any], page_size: int) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] | None = {
            "format": "json", "limit": max(1, min(int(page_size), MAX_PAGE_SIZE)),
            "sort": json.dumps({"_id": 1}), **extra}
        url: str | None = self._url(f"/api/v2/assets/{uid}/data/")
        while url:
            page = self._get_json(url, params)
            records = [r for r in page.get("results") or [] if isinstance(r, dict)]
            if records:
                yield records
            url, params = self._next_url(page), None

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _next_url(self, page: dict[str, Any]) -> str | None:
        """`next` rebased on our configured origin: kpi behind a proxy often reports http://
        or an internal host name, and the token must never go anywhere else."""
        nxt = page.get("next")
        if not nxt:
            return None
        parts = urlsplit(nxt)
        return urlunsplit((self._origin.scheme, self._origin.netloc, parts.path, parts.query, ""))

    def _get_json(self, url: str, params: dict[str, Any] | None) -> Any:
        return self._request("GET", url, params)[1]

    def _request(self, method: str, url: str, params: dict[str, Any] | None, *, body: Any = None,
                 files: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
                 expect_json: bool = True) -> tuple[requests.Response, Any]:
        """The response and its parsed JSON body. A body that arrives cut short, is not JSON
        or takes longer than `deadline` seconds to arrive is a failure of the server like a
        5xx: retried with backoff, then KoboUnavailable."""
        headers = {"Authorization": f"Token {self._token}", "Accept": "application/json"}
        retry_statuses = _RETRY_STATUSES if method != "POST" else {429, 503}
        attempt = 0
        while True:
            failure: str
            wait: float | None = None
            try:
                response = self._session.request(method, url, params=params, headers=headers, json=body,
                                                 files=files, data=data, timeout=self.timeout, stream=True)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if method == "POST" and not isinstance(exc, requests.ConnectTimeout) \
                        and "refused" not in str(exc).lower():
                    raise KoboUnavailable(f"Kobo did not answer {method} {url_path(url)} "
                                          f"({type(exc).__name__}); it may or may not have been done") from None
                failure = f"network error ({type(exc).__name__})"
            else:
                status = response.status_code
                if status < 400:
                    try:
                        return response, self._parsed_body(response, expect_json)
                    except _BodyFailure as exc:
                        failure = str(exc)
                else:
                    try:
                        _raise_unless_retried(method, url, response, retry_statuses)
                    finally:
                        _close(response)
                    failure = f"HTTP {status}"
                    if status in (429, 503):  # the two statuses that may say when to come back
                        wait = _retry_after_seconds(response.headers.get("Retry-After"))
            if attempt >= self.max_retries:
                raise KoboUnavailable(f"Kobo unavailable for {url_path(url)} after "
                                      f"{attempt + 1} attempts (last: {failure})")
            if wait is None:
                wait = self._backoff(attempt)
            wait = min(max(wait, 0.0), self._max_retry_after)
            log.warning("kobo %s %s: %s, retrying in %.1fs", method, url_path(url), failure, wait)
            self._sleep(wait)
            attempt += 1

    def _parsed_body(self, response: requests.Response, expect_json: bool) -> Any:
        content = self._read_body(response)
        if not content.strip():
            if expect_json:
                raise _BodyFailure("an empty body")
            return None
        try:
            return json.loads(content)
        except ValueError:
            raise _BodyFailure("a body that is not JSON") from None

    def _read_body(self, response: requests.Response) -> bytes:
        """The whole body within the overall deadline: the socket time-out only bounds each
        read, and a proxy that drips a byte a second would never trip it."""
        raw = getattr(response, "raw", None)
        if raw is None or not hasattr(raw, "read1"):  # a test double with its content ready
            return response.content
        deadline = time.monotonic() + self.deadline
        chunks: list[bytes] = []
        try:
            while True:
                if time.monotonic() > deadline:
                    raise _BodyFailure(f"a body still arriving after {self.deadline:g}s")
                chunk = raw.read1(65536, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _BodyFailure(f"a body cut short ({type(exc).__name__})") from None
        finally:
            _close(response)

    def _backoff(self, attempt: int) -> float:
        # Exponential with jitter so many syncs that failed together do not return together.
        ceiling = min(self._backoff_cap, self._backoff_base * (2 ** attempt))
        return ceiling * (0.5 + 0.5 * self._rng())


class _BodyFailure(Exception):
    """The response body could not be read whole (message: what arrived instead)."""


def _close(response: requests.Response) -> None:
    close = getattr(response, "close", None)
    if close is not None:
        close()


def _server_message(response: requests.Response) -> str:
    """kpi's own words for a refused write (`detail` or `error`), short; never headers."""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - any unreadable body just has no message
        return ""
    if isinstance(body, dict):
        message = body.get("detail") or body.get("error") or body
    else:
        message = body
    return f": {str(message)[:300]}"


def _raise_unless_retried(method: str, url: str, response: requests.Response, retry_statuses: set[int]) -> None:
    status = response.status_code
    if status in (401, 403):
        raise KoboAuthError(f"Kobo refused the API key for {url_path(url)} (HTTP {status}): check the "
                            f"token and that its user can view this project's submissions", status)
    if status == 404:
        raise KoboNotFound(f"Kobo has no {url_path(url)} (HTTP 404)", status)
    if status not in retry_statuses:
        raise KoboError(f"Kobo answered HTTP {status} for {method} {url_path(url)}{_server_message(response)}",
                        status)


def url_path(url: str) -> str:
    """The path only: query strings may carry filters worth keeping out of messages."""
    return urlsplit(url).path


def _record_id(record: Any) -> int | None:
    value = record.get("_id") if isinstance(record, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kobo_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())

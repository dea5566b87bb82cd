"""A local HTTP server that answers like KoboToolbox API v2 (the parts crisis-ct uses).

Used as a context manager (or the `fake_kobo` fixture): it listens on 127.0.0.1, port chosen
by the OS. Tests put assets and records in, inject faults, and read the request log.
"""
from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict[str, str]
    authorization: str | None
    status: int


@dataclass
class _Fault:
    status: int
    retry_after: float | None


@dataclass
class _BodyFault:
    """How the next response body misbehaves: 'truncate' (Content-Length promises more than
    is sent), 'not_json', or 'drip' (a byte every `interval` seconds for `seconds`)."""

    kind: str
    seconds: float = 0.0
    interval: float = 0.05


@dataclass
class FakeAsset:
    uid: str
    name: str
    content: dict[str, Any]
    deployed_version_id: str | None
    date_modified: str = "2026-01-01T00:00:00.000000Z"
    deployment__active: bool = True
    records: list[dict[str, Any]] = field(default_factory=list)
    # Project set-up (fake_kobo_projects.py): the current (maybe undeployed) version, whether
    # it was ever deployed, "survey" or "block" (a library item), REST Services by uid.
    version_id: str | None = None
    deployed: bool = True
    asset_type: str = "survey"
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        self.version_id = self.version_id or self.deployed_version_id

    def summary(self, base: str) -> dict[str, Any]:
        return {"url": f"{base}/api/v2/assets/{self.uid}/", "uid": self.uid, "name": self.name,
                "asset_type": self.asset_type, "deployment__active": self.deployment__active,
                "has_deployment": self.deployed, "deployment__submission_count": len(self.records),
                "deployed_version_id": self.deployed_version_id, "version_id": self.version_id,
                "date_modified": self.date_modified}


class FakeKobo:
    def __init__(self, tokens: tuple[str, ...] = ("test-token",)):
        self.tokens = set(tokens)
        self.assets: dict[str, FakeAsset] = {}
        self.requests: list[LoggedRequest] = []
        self._faults: list[_Fault] = []
        self._body_faults: list[_BodyFault] = []
        self._matching_faults: list[tuple[Any, _Fault]] = []  # (predicate(path, params), fault)
        self.imports: dict[str, Any] = {}  # fake_kobo_projects.FakeImport by uid
        self.import_polls = 1  # GETs of an import that still answer "processing"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._init_versions()

    # -- state -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_asset(self, uid: str, *, name: str = "CT site assessment", content: dict | None = None,
                  version: str | None = "v1") -> FakeAsset:
        asset = FakeAsset(uid, name, content or {"survey": [], "choices": []}, version)
        self.assets[uid] = asset
        return asset

    def add_records(self, uid: str, records: list[dict[str, Any]]) -> None:
        with self._lock:
            self.assets[uid].records.extend(records)

    def replace_record(self, uid: str, kobo_id: int, record: dict[str, Any]) -> None:
        """An edit on the server: same `_id`, new content."""
        with self._lock:
            records = self.assets[uid].records
            for i, existing in enumerate(records):
                if existing.get("_id") == kobo_id:
                    records[i] = record
                    return
        raise KeyError(kobo_id)

    def fail_next(self, n: int, status: int = 429, retry_after: float | None = 1) -> None:
        """The next n requests (any endpoint) get `status`, as an overloaded proxy would answer
        (with `Retry-After: retry_after` unless it is None)."""
        with self._lock:
            self._faults.extend(_Fault(status, retry_after) for _ in range(n))

    def fail_matching(self, predicate, n: int, status: int = 503) -> None:
        """The next n requests for which predicate(path, params) is true get `status`."""
        with self._lock:
            self._matching_faults.extend((predicate, _Fault(status, None)) for _ in range(n))

    def misbehave_next(self, n: int, kind: str, *, seconds: float = 0.0, interval: float = 0.05) -> None:
        """The next n successful responses' bodies: 'truncate', 'not_json' or 'drip'."""
        with self._lock:
            self._body_faults.extend(_BodyFault(kind, seconds, interval) for _ in range(n))

    def take_body_fault(self) -> _BodyFault | None:
        with self._lock:
            return self._body_faults.pop(0) if self._body_faults else None

    def delete_record(self, uid: str, kobo_id: int) -> None:
        """A deletion in Kobo: the record is gone, nothing says it was there."""
        with self._lock:
            self.assets[uid].records = [r for r in self.assets[uid].records if r.get("_id") != kobo_id]

    def add_hook_log(self, uid: str, hook_uid: str, submission_id: int, *, status: int = 0,
                     status_code: int | None = 500, message: str = "Internal Server Error") -> None:
        from fake_kobo_projects import FakeHookLog, kpi_uid

        self.assets[uid].hooks[hook_uid]["logs"].append(
            FakeHookLog(kpi_uid("hl"), submission_id, status, status_code, message))

    def data_requests(self, uid: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.requests if "/data/" in r.path and (uid is None or f"/{uid}/" in r.path)]

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> "FakeKobo":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- request handling ----------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, authorization: str | None, raw_body: bytes = b"",
               content_type: str = "") -> tuple[int, dict, Any]:
        parts = urlsplit(raw_path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        status, headers, body = self._route(method, parts.path, params, authorization, raw_body, content_type)
        with self._lock:
            self.requests.append(LoggedRequest(method, parts.path, params, authorization, status))
        return status, headers, body

    def _route(self, method: str, path: str, params: dict[str, str], authorization: str | None,
               raw_body: bytes = b"", content_type: str = ""):
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
            if fault is None:
                for position, (predicate, matching) in enumerate(self._matching_faults):
                    if predicate(path, params):
                        fault = self._matching_faults.pop(position)[1]
                        break
        if fault is not None:
            headers = {"Retry-After": _number(fault.retry_after)} if fault.retry_after is not None else {}
            return fault.status, headers, {"detail": "injected failure"}
        if not authorization or not authorization.startswith("Token ") \
                or authorization.removeprefix("Token ") not in self.tokens:
            return 401, {}, {"detail": "Invalid token."}
        segments = [s for s in path.split("/") if s]
        from fake_kobo_projects import route_write

        body = None
        if raw_body and "json" in content_type:
            try:
                body = json.loads(raw_body)
            except ValueError:
                return 400, {}, {"detail": "JSON parse error"}
        with self._lock:
            answer = route_write(self, method, segments, params, body, content_type, raw_body)
        if answer is not None:
            return answer
        if method != "GET":
            return 405, {}, {"detail": "Method not allowed."}
        if segments[:2] != ["api", "v2"] or len(segments) < 3 or segments[2] != "assets":
            return 404, {}, {"detail": "Not found."}
        rest = segments[3:]
        if not rest:
            base = self.base_url
            results = [a.summary(base) for a in self.assets.values()]
            return 200, {}, {"count": len(results), "next": None, "previous": None, "results": results}
        asset = self.assets.get(rest[0])
        if asset is None:
            return 404, {}, {"detail": "Not found."}
        if len(rest) == 1:
            return 200, {}, {**asset.summary(self.base_url), "content": asset.content}
        if rest[1] == "versions":
            return self._versions_route(asset, rest[2:], params)
        if rest[1] != "data":
            return 404, {}, {"detail": "Not found."}
        if len(rest) == 3:
            record = next((r for r in asset.records if str(r.get("_id")) == rest[2]), None)
            return (200, {}, record) if record is not None else (404, {}, {"detail": "Not found."})
        return self._data_page(asset, path, params)

    def _data_page(self, asset: FakeAsset, path: str, params: dict[str, str]):
        try:
            query = json.loads(params.get("query", "{}"))
            sort = json.loads(params.get("sort", "{}"))
            limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)  # silently capped
            start = int(params.get("start", 0))
        except ValueError:
            return 400, {}, {"detail": "bad parameters"}
        try:
            fields = json.loads(params["fields"]) if "fields" in params else None
        except ValueError:
            return 400, {}, {"detail": "bad parameters"}
        with self._lock:
            records = [r for r in asset.records if _matches(r, query)]
        if sort.get("_id") in (1, -1):
            records.sort(key=lambda r: r.get("_id", 0), reverse=sort["_id"] == -1)
        page = records[start:start + limit]
        if fields:
            page = [{k: r[k] for k in fields if k in r} for r in page]

        def link(offset: int) -> str:
            return f"{self.base_url}{path}?{urlencode({**params, 'start': offset, 'limit': limit})}"

        return 200, {}, {
            "count": len(records),
            "next": link(start + limit) if start + limit < len(records) else None,
            "previous": link(max(0, start - limit)) if start > 0 else None,
            "results": page,
        }

    # -- form versions (kpi AssetVersion): kept apart from the rest to ease merging ------------
    def _init_versions(self) -> None:
        self.versions: dict[str, list[dict[str, Any]]] = {}  # asset uid -> versions, oldest first
        self.version_delay_s = 0.0  # answer the version detail this much later (a slow server)

    def deploy(self, uid: str, content: dict[str, Any] | None = None) -> str:
        """Deploy (or redeploy) `content` (default: the asset's): as kpi does, a content change
        makes a new version uid (`v` + 21 characters), an unchanged content keeps the last one.
        Returns the deployed version uid, which the asset's later records carry in `__version__`."""
        with self._lock:
            asset = self.assets[uid]
            content = json.loads(json.dumps(content if content is not None else asset.content))
            content_hash = hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()
            versions = self.versions.setdefault(uid, [])
            if not versions or versions[-1]["content_hash"] != content_hash:
                versions.append({"uid": _kpi_version_uid(), "content_hash": content_hash, "content": content,
                                 "date_deployed": f"2026-12-01T00:00:{len(versions):02d}.000000Z",
                                 "date_modified": f"2026-12-01T00:00:{len(versions):02d}.000000Z"})
            asset.content, asset.deployed_version_id = content, versions[-1]["uid"]
            asset.version_id = asset.deployed_version_id
            return asset.deployed_version_id

    def version_requests(self, uid: str) -> list[LoggedRequest]:
        return [r for r in self.requests if f"/{uid}/versions/" in r.path]

    def _versions_route(self, asset: FakeAsset, rest: list[str], params: dict[str, str]):
        with self._lock:
            versions = list(self.versions.get(asset.uid) or [
                {"uid": asset.deployed_version_id, "content": asset.content, "content_hash": "",
                 "date_deployed": asset.date_modified, "date_modified": asset.date_modified}])
        numbered = [{**v, "version_number": n} for n, v in enumerate(versions, start=1)]
        if rest:
            found = next((v for v in numbered if v["uid"] == rest[0]), None)
            if found is None:
                return 404, {}, {"detail": "Not found."}
            if self.version_delay_s:
                time.sleep(self.version_delay_s)
            return 200, {}, {**self._version_summary(asset, found), "content": found["content"]}
        newest_first = [self._version_summary(asset, v) for v in reversed(numbered)]
        limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        start = int(params.get("start", 0))
        path = f"/api/v2/assets/{asset.uid}/versions/"

        def link(offset: int) -> str:
            return f"{self.base_url}{path}?{urlencode({**params, 'start': offset, 'limit': limit})}"

        return 200, {}, {"count": len(newest_first),
                         "next": link(start + limit) if start + limit < len(newest_first) else None,
                         "previous": link(max(0, start - limit)) if start > 0 else None,
                         "results": newest_first[start:start + limit]}

    def _version_summary(self, asset: FakeAsset, version: dict[str, Any]) -> dict[str, Any]:
        return {"uid": version["uid"], "url": f"{self.base_url}/api/v2/assets/{asset.uid}/versions/{version['uid']}/",
                "content_hash": version["content_hash"], "version_number": version["version_number"],
                "date_deployed": version["date_deployed"], "date_modified": version["date_modified"]}


_KPI_UID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _kpi_version_uid() -> str:
    """A uid shaped like kpi's (`v` + 21 characters of shortuuid's alphabet)."""
    return "v" + "".join(random.choice(_KPI_UID_ALPHABET) for _ in range(21))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _matches(record: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, condition in query.items():
        value = record
        for part in key.split("."):  # "_validation_status.timestamp"
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(condition, dict):
            if value != condition:
                return False
            continue
        for op, operand in condition.items():
            if value is None:
                return False
            checks = {"$gt": lambda: value > operand, "$gte": lambda: value >= operand,
                      "$lt": lambda: value < operand, "$lte": lambda: value <= operand}
            if op not in checks or not checks[op]():
                return False
    return True


def _handler_for(kobo: FakeKobo):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, headers, body = kobo.handle(method, self.path, self.headers.get("Authorization"), raw,
                                                self.headers.get("Content-Type") or "")
            payload = b"" if body is None else json.dumps(body).encode()
            fault = kobo.take_body_fault() if status < 300 else None
            if fault is not None and fault.kind == "not_json":
                payload = b"<html>502 Bad Gateway</html>"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            promised = len(payload) * 2 + 10 if fault is not None and fault.kind == "truncate" else len(payload)
            self.send_header("Content-Length", str(promised))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault is not None and fault.kind == "drip":
                self._drip(payload, fault)
                return
            self.wfile.write(payload)
            if fault is not None and fault.kind == "truncate":
                self.close_connection = True

        def _drip(self, payload: bytes, fault) -> None:
            ends = time.monotonic() + fault.seconds
            try:
                for i in range(len(payload)):
                    if time.monotonic() > ends:
                        break
                    self.wfile.write(payload[i:i + 1])
                    self.wfile.flush()
                    time.sleep(fault.interval)
                else:
                    return
            except OSError:  # the client gave up on us, as it should
                pass
            self.close_connection = True

        def do_GET(self):  # noqa: N802 (http.server naming)
            self._answer("GET")

        def do_POST(self):  # noqa: N802
            self._answer("POST")

        def do_PATCH(self):  # noqa: N802
            self._answer("PATCH")

        def do_DELETE(self):  # noqa: N802
            self._answer("DELETE")

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler

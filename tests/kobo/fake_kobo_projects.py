"""The fake Kobo's project set-up and review routes (shared/kobo.md, checked against kpi):
XLSForm imports, deployment, REST Services (hooks) with their logs and retry, validation
status (one and bulk) and deletions. fake_kobo.FakeKobo dispatches writes here; the state
lives on FakeKobo (`imports`) and on each FakeAsset (`hooks`, `deployed`, `version_id`).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from crisis_ct.kobo.formspec import FormSpec, FormSpecError

VALIDATION_LABELS = {"validation_status_approved": "Approved", "validation_status_not_approved": "Not approved",
                     "validation_status_on_hold": "On hold"}
# kpi's HookLog statuses
HOOK_FAILED, HOOK_PENDING, HOOK_SUCCESS = 0, 1, 2


def kpi_uid(prefix: str) -> str:
    """A kpi-style uid: a letter prefix and 21 characters of shortuuid's alphabet."""
    from fake_kobo import _KPI_UID_ALPHABET

    return prefix + "".join(secrets.choice(_KPI_UID_ALPHABET) for _ in range(21))


@dataclass
class FakeImport:
    uid: str
    status: str  # processing | complete | error
    polls_left: int
    messages: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeHookLog:
    uid: str
    submission_id: int
    status: int
    status_code: int | None
    message: str
    date_modified: str = "2026-11-02T10:00:00Z"

    def as_json(self) -> dict[str, Any]:
        return {"uid": self.uid, "submission_id": self.submission_id, "status": self.status,
                "status_code": self.status_code, "message": self.message, "date_modified": self.date_modified}


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Form fields of a multipart body: text as str, files as (filename, bytes)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[name] = (filename, payload) if filename else payload.decode()
    return fields


def content_of_xlsform(data: bytes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "form.xlsx"
        path.write_bytes(data)
        return FormSpec.from_xlsform(path).to_asset_content()


# -- dispatch -------------------------------------------------------------------------------------
def route_write(kobo, method: str, segments: list[str], params: dict[str, str], body: Any,
                content_type: str, raw: bytes):
    """A POST/PATCH/DELETE (or a GET of imports, deployment, hooks): (status, headers, body),
    or None when this module has no such route."""
    if segments[2:3] == ["imports"]:
        return _imports(kobo, method, segments[3:], content_type, raw)
    if segments[2:3] != ["assets"] or len(segments) < 5:
        return None
    asset = kobo.assets.get(segments[3])
    if asset is None:
        return 404, {}, {"detail": "Not found."}
    rest = segments[4:]
    if rest[0] == "deployment":
        return _deployment(kobo, asset, method, body)
    if rest[0] == "hooks":
        return _hooks(kobo, asset, method, rest[1:], params, body)
    if rest[0] == "data" and method in ("PATCH", "DELETE"):
        return _data_write(asset, method, rest[1:], body)
    return None


# -- imports ----------------------------------------------------------------------------------
def _imports(kobo, method: str, rest: list[str], content_type: str, raw: bytes):
    if method == "GET" and len(rest) == 1:
        job = kobo.imports.get(rest[0])
        if job is None:
            return 404, {}, {"detail": "Not found."}
        if job.status == "processing":
            job.polls_left -= 1
            if job.polls_left < 0:
                _finish_import(kobo, job)
        return 200, {}, {"uid": job.uid, "status": job.status, "messages": job.messages}
    if method != "POST" or rest:
        return 405, {}, {"detail": f'Method "{method}" not allowed.'}
    if "multipart/form-data" not in content_type:
        return 400, {}, {"detail": "Expected a multipart upload"}
    form = parse_multipart(content_type, raw)
    job = FakeImport(kpi_uid("i"), "processing", kobo.import_polls)
    job.request = form  # type: ignore[attr-defined]
    kobo.imports[job.uid] = job
    return 201, {}, {"uid": job.uid, "status": job.status}


def _finish_import(kobo, job: FakeImport) -> None:
    form = job.request  # type: ignore[attr-defined]
    upload = form.get("file")
    try:
        content = content_of_xlsform(upload[1]) if isinstance(upload, tuple) else None
    except FormSpecError as exc:
        content, error = None, str(exc)
    else:
        error = None if content else "No file was uploaded"
    if content is None:
        job.status, job.messages = "error", {"error": error, "error_type": "ValueError"}
        return
    destination = form.get("destination")
    if destination:
        uid = destination.rstrip("/").split("/")[-1]
        asset = kobo.assets.get(uid)
        if asset is None:
            job.status, job.messages = "error", {"error": "destination not found"}
            return
        if content != asset.content:  # kpi: any content change is a new version
            asset.content, asset.version_id = content, kpi_uid("v")
        job.status, job.messages = "complete", {"updated": [{"uid": asset.uid, "kind": "asset"}]}
        return
    # kpi's `library` defaults to true: a library block, not a project that can be deployed.
    library = str(form.get("library", "true")).lower() != "false"
    asset = kobo.add_asset(kpi_uid("a"), name=form.get("name") or "Untitled", content=content, version=None)
    asset.asset_type = "block" if library else "survey"
    asset.version_id, asset.deployed, asset.deployment__active = kpi_uid("v"), False, False
    kind = "asset"
    job.status, job.messages = "complete", {"created": [{"uid": asset.uid, "kind": kind,
                                                         "owner__username": "tester"}]}


# -- deployment -------------------------------------------------------------------------------
def _deployment(kobo, asset, method: str, body: Any):
    body = body if isinstance(body, dict) else {}
    info = lambda: {"backend": "mock", "active": asset.deployment__active,  # noqa: E731
                    "version_id": asset.deployed_version_id, "asset": {"uid": asset.uid}}
    if method == "GET":
        return (200, {}, info()) if asset.deployed else (404, {}, {"detail": "Not found."})
    if asset.asset_type != "survey":
        return 400, {}, {"error": "Only survey assets can be deployed"}
    if method == "POST":
        if asset.deployed:
            return 405, {}, {"detail": 'Method "POST" not allowed.'}
        asset.deployed = True
        asset.deployment__active = bool(body.get("active", False))  # kpi: active defaults to false
        asset.deployed_version_id = asset.version_id
        record_deployed_version(kobo, asset)
        return 200, {}, info()
    if method == "PATCH":
        if not asset.deployed:
            return 400, {}, {"error": "The asset is not deployed"}
        if "version_id" in body:
            if body["version_id"] != asset.version_id:
                return 400, {}, {"error": "version_id is not the asset's current version"}
            asset.deployed_version_id = asset.version_id
            record_deployed_version(kobo, asset)
        if "active" in body:
            asset.deployment__active = bool(body["active"])
        return 200, {}, info()
    return 405, {}, {"detail": f'Method "{method}" not allowed.'}


def record_deployed_version(kobo, asset) -> None:
    """The deployed version in FakeKobo.versions (the kpi AssetVersion list the /versions/
    routes serve), as FakeKobo.deploy records it; called with the lock held."""
    versions = kobo.versions.setdefault(asset.uid, [])
    if versions and versions[-1]["uid"] == asset.deployed_version_id:
        return
    content_hash = hashlib.sha1(json.dumps(asset.content, sort_keys=True).encode()).hexdigest()
    stamp = f"2026-12-01T00:00:{len(versions):02d}.000000Z"
    versions.append({"uid": asset.deployed_version_id, "content_hash": content_hash,
                     "content": json.loads(json.dumps(asset.content)), "date_deployed": stamp,
                     "date_modified": stamp})


# -- hooks ----------------------------------------------------------------------------------------
HOOK_FIELDS = ("name", "endpoint", "active", "export_type", "auth_level", "settings", "subset_fields",
               "payload_template", "email_notification")


def _hooks(kobo, asset, method: str, rest: list[str], params: dict[str, str], body: Any):
    body = body if isinstance(body, dict) else {}
    if not rest:
        if method == "GET":
            results = [hook_json(asset, h) for h in asset.hooks.values()]
            return 200, {}, {"count": len(results), "next": None, "previous": None, "results": results}
        if method == "POST":
            problem = _hook_problem(body)
            if problem:
                return 400, {}, problem
            hook = {"uid": kpi_uid("h"), "name": body["name"], "endpoint": body["endpoint"],
                    "active": body.get("active", True), "export_type": body.get("export_type", "json"),
                    "auth_level": body.get("auth_level", "no_auth"), "settings": body.get("settings") or {},
                    "subset_fields": body.get("subset_fields") or [],
                    "payload_template": body.get("payload_template"),
                    "email_notification": body.get("email_notification", True), "logs": []}
            asset.hooks[hook["uid"]] = hook
            return 201, {}, hook_json(asset, hook)
        return 405, {}, {"detail": f'Method "{method}" not allowed.'}
    hook = asset.hooks.get(rest[0])
    if hook is None:
        return 404, {}, {"detail": "Not found."}
    if len(rest) == 1:
        if method == "GET":
            return 200, {}, hook_json(asset, hook)
        if method == "PATCH":
            merged = {**hook, **{k: v for k, v in body.items() if k in HOOK_FIELDS}}
            problem = _hook_problem(merged)
            if problem:
                return 400, {}, problem
            hook.update(merged)
            return 200, {}, hook_json(asset, hook)
        if method == "DELETE":
            del asset.hooks[hook["uid"]]
            return 204, {}, None
    if rest[1:] == ["logs"] and method == "GET":
        logs = [log.as_json() for log in hook["logs"]
                if "status" not in params or str(log.status) == params["status"]]
        return 200, {}, {"count": len(logs), "next": None, "previous": None, "results": logs}
    if rest[1:] == ["retry"] and method == "PATCH":
        failed = [log for log in hook["logs"] if log.status == HOOK_FAILED]
        if not failed:
            return 304, {}, None
        for log in failed:
            log.status, log.message = HOOK_PENDING, "Retrying"
        return 200, {}, {"detail": "Retrying", "pending_uids": [log.uid for log in failed]}
    return 404, {}, {"detail": "Not found."}


def _hook_problem(body: dict) -> dict | None:
    problems = {}
    if not body.get("name"):
        problems["name"] = ["This field is required."]
    if not str(body.get("endpoint", "")).startswith("http"):
        problems["endpoint"] = ["Enter a valid URL."]
    if body.get("export_type", "json") not in ("json", "xml"):
        problems["export_type"] = ["Not a valid choice."]
    return problems or None


def hook_json(asset, hook: dict) -> dict:
    counts = {status: sum(1 for log in hook["logs"] if log.status == status)
              for status in (HOOK_FAILED, HOOK_PENDING, HOOK_SUCCESS)}
    # kpi returns `settings` (custom headers, password) in clear on every read.
    return {**{k: v for k, v in hook.items() if k != "logs"},
            "url": f"/api/v2/assets/{asset.uid}/hooks/{hook['uid']}/", "asset": asset.uid,
            "failed_count": counts[HOOK_FAILED], "pending_count": counts[HOOK_PENDING],
            "success_count": counts[HOOK_SUCCESS]}


# -- validation status and deletions -------------------------------------------------------------
def _data_write(asset, method: str, rest: list[str], body: Any):
    body = body if isinstance(body, dict) else {}
    if method == "PATCH" and rest == ["validation_statuses"]:
        payload = body.get("payload") or {}
        ids = {int(i) for i in payload.get("submission_ids") or []}
        status = payload.get("validation_status.uid")
        if status not in VALIDATION_LABELS:
            return 400, {}, {"detail": "Invalid validation status"}
        changed = [r for r in asset.records if r.get("_id") in ids]
        for record in changed:
            record["_validation_status"] = validation_status(status)
        return 200, {}, {"detail": f"{len(changed)} submissions have been updated"}
    if not rest or not rest[0].isdigit():
        return 404, {}, {"detail": "Not found."}
    record = next((r for r in asset.records if r.get("_id") == int(rest[0])), None)
    if record is None:
        return 404, {}, {"detail": "Not found."}
    if method == "DELETE" and len(rest) == 1:
        asset.records.remove(record)  # permanent and silent: no flag, no hook
        return 204, {}, None
    if method == "PATCH" and rest[1:] == ["validation_status"]:
        status = body.get("validation_status.uid")
        if status not in VALIDATION_LABELS:
            return 400, {}, {"detail": "Invalid validation status"}
        record["_validation_status"] = validation_status(status)
        return 200, {}, record["_validation_status"]
    return 405, {}, {"detail": f'Method "{method}" not allowed.'}


def validation_status(uid: str, *, by_whom: str = "reviewer", timestamp: int | None = None) -> dict:
    return {"uid": uid, "label": VALIDATION_LABELS[uid], "by_whom": by_whom,
            "timestamp": int(time.time()) if timestamp is None else timestamp, "color": "#000"}

"""`crisis-ct kobo setup`: a Kobo project ready for crisis-ct in one command.

Through kpi's API (shared/kobo.md, "Setting a project up through the API"):
1. the project: the one named (`--asset`), the one this operation already has on that
   server, or the bundled XLSForm imported as a new one (`library=false`, else kpi makes a
   library block) and deployed (`active: true`, else kpi deploys it archived);
   `redeploy` pushes the bundled form again (import into the asset, then PATCH the
   deployment with the asset's new version_id);
2. the REST Service: JSON, all fields, active, pointing at `<public url>/api/v1/kobo/submissions`
   with a submitter token of this operation in a custom `Authorization: Bearer` header;
3. crisis-ct's side: the asset connected to the operation (with the API token encrypted)
   and its deployed version registered, so its `__version__` is known.

Running it again changes only what is not right yet: one hook, never two; a hook pointing
elsewhere or holding a revoked token is updated with a fresh token. Tokens are never
printed or logged (kpi itself returns hook headers in clear to anyone who may edit the
project: hence a dedicated submitter token, not anybody's own).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor, record as audit
from crisis_ct.accounts.models import ApiToken, Membership, User
from crisis_ct.accounts.operations import add_user, create_token, hash_token
from crisis_ct.db import Database
from crisis_ct.geography.operations import get_operation
from crisis_ct.kobo.client import KoboClient, KoboError, KoboNotFound
from crisis_ct.kobo.forms import add_form_version, register_asset
from crisis_ct.kobo.formspec import FormSpec
from crisis_ct.kobo.models import KoboAsset

WEBHOOK_PATH = "/api/v1/kobo/submissions"
HOOK_NAME = "crisis-ct"
HOOK_TOKEN_NAME = "kobo-hook"
IMPORT_POLL_SECONDS = 2.0
IMPORT_MAX_POLLS = 90


class SetupError(Exception):
    """The set-up cannot go on; the message says what to do."""


@dataclass
class SetupReport:
    asset_uid: str | None = None
    version: str | None = None
    hook_uid: str | None = None
    steps: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.steps.append(text)


def webhook_url(public_url: str) -> str:
    parts = urlsplit(public_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SetupError(f"--public-url must be the address Kobo reaches crisis-ct at, e.g. https://ct.example.org "
                         f"(got {public_url!r})")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{WEBHOOK_PATH}"


# -- the Kobo project ------------------------------------------------------------------------------
def import_form(client: KoboClient, form: Path, *, name: str, destination: str | None = None,
                sleep: Callable[[float], None] = time.sleep) -> str:
    """Import an XLSForm and wait for kpi to finish; the asset uid it created or updated."""
    data = {"name": name, "library": "false"}  # kpi's default (true) would make a library block
    if destination:
        data["destination"] = destination
    files = {"file": (form.name, form.read_bytes(),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    _, started = client.call("POST", "/api/v2/imports/", files=files, data=data)
    import_uid = (started or {}).get("uid")
    if not import_uid:
        raise SetupError("Kobo accepted the import but named no import to follow")
    for _ in range(IMPORT_MAX_POLLS):
        _, job = client.call("GET", f"/api/v2/imports/{import_uid}/")
        status, messages = (job or {}).get("status"), (job or {}).get("messages") or {}
        if status == "complete":
            done = messages.get("updated" if destination else "created") or []
            if not done or not done[0].get("uid"):
                raise SetupError(f"Kobo finished import {import_uid} without naming the project")
            return done[0]["uid"]
        if status == "error":
            raise SetupError(f"Kobo could not import {form.name}: {messages.get('error') or messages}")
        sleep(IMPORT_POLL_SECONDS)
    raise SetupError(f"Kobo is still processing import {import_uid}; run the set-up again later")


def ensure_deployed(client: KoboClient, asset_uid: str, report: SetupReport, *, redeploy: bool) -> dict:
    """Deployed and active at the asset's current version; the asset as Kobo now has it."""
    asset = client.get_asset(asset_uid)
    if asset.get("asset_type", "survey") != "survey":
        raise SetupError(f"Kobo asset {asset_uid} is a {asset.get('asset_type')}, not a project (survey)")
    path = f"/api/v2/assets/{asset_uid}/deployment/"
    if not asset.get("has_deployment", bool(asset.get("deployed_version_id"))):
        try:
            client.call("POST", path, body={"active": True})  # kpi: `active` defaults to false
            report.say(f"deployed {asset_uid}")
        except KoboError as exc:
            if exc.status != 405:  # 405: deployed meanwhile
                raise
    elif redeploy and asset.get("version_id") and asset["version_id"] != asset["deployed_version_id"]:
        client.call("PATCH", path, body={"version_id": asset["version_id"], "active": True})
        report.say(f"redeployed {asset_uid} at version {asset['version_id']}")
    elif not asset.get("deployment__active"):
        client.call("PATCH", path, body={"active": True})
        report.say(f"re-activated the archived deployment of {asset_uid}")
    elif redeploy:
        report.say("the bundled form is what Kobo already has deployed: nothing to redeploy")
    return client.get_asset(asset_uid)


# -- the REST Service ------------------------------------------------------------------------------
def _hook_body(endpoint: str, token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": HOOK_NAME, "endpoint": endpoint, "active": True, "export_type": "json",
                            "auth_level": "no_auth", "subset_fields": [], "payload_template": None,
                            "email_notification": True}
    if token is not None:
        body["settings"] = {"custom_headers": {"Authorization": f"Bearer {token}"}}
    return body


def _hook_bearer(hook: dict) -> str | None:
    headers = ((hook.get("settings") or {}).get("custom_headers") or {})
    for name, value in headers.items():
        if name.lower() == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ").strip()
    return None


def token_submits_to(session: Session, token: str | None, operation_id: int) -> bool:
    """Whether `token` is a live token whose user may submit to the operation."""
    if not token:
        return False
    role = session.scalar(
        sa.select(Membership.role).join(User, User.id == Membership.user_id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None), User.is_active,
               Membership.operation_id == operation_id))
    return role in ("submitter", "coordinator", "admin")


def new_submitter_token(session: Session, actor: Actor, operation_code: str, asset_uid: str) -> str:
    email = f"kobo-webhook-{operation_code.lower()}@crisis-ct.invalid"
    add_user(session, actor, email, role="submitter", operation_code=operation_code, password=None,
             display_name=f"Kobo REST Service ({operation_code})")
    _, token = create_token(session, actor, email, name=f"{HOOK_TOKEN_NAME} {asset_uid}"[:100])
    return token


# What makes a hook deliver what crisis-ct needs; its name and e-mail notices are the user's.
_REQUIRED_KEYS = ("endpoint", "active", "export_type", "auth_level", "subset_fields", "payload_template")


def _differences(hook: dict, wanted: dict) -> dict[str, Any]:
    changed = {}
    for key in _REQUIRED_KEYS:
        value = wanted[key]
        current = hook.get(key)
        if key == "payload_template":
            current = current or None
        if current != value:
            changed[key] = value
    return changed


def ensure_hook(client: KoboClient, session: Session, actor: Actor, *, operation_code: str, operation_id: int,
                asset_uid: str, endpoint: str, known_uid: str | None, report: SetupReport) -> str:
    """One active JSON hook to `endpoint` with a working token; its uid."""
    base = f"/api/v2/assets/{asset_uid}/hooks/"
    _, listing = client.call("GET", base)
    hooks = [h for h in (listing or {}).get("results") or [] if isinstance(h, dict)]
    ours = [h for h in hooks if h.get("uid") == known_uid or h.get("endpoint") == endpoint
            or h.get("name") == HOOK_NAME]
    ours.sort(key=lambda h: (h.get("uid") != known_uid, h.get("endpoint") != endpoint))
    for extra in ours[1:]:
        if extra.get("endpoint") == endpoint:  # a second delivery of everything: remove it
            client.call("DELETE", f"{base}{extra['uid']}/")
            report.say(f"removed a duplicate REST Service {extra['uid']}")
    if not ours:
        token = new_submitter_token(session, actor, operation_code, asset_uid)
        _, created = client.call("POST", base, body=_hook_body(endpoint, token))
        report.say(f"registered the REST Service {created['uid']} -> {endpoint}")
        return created["uid"]
    hook = ours[0]
    token_ok = token_submits_to(session, _hook_bearer(hook), operation_id)
    wanted = _hook_body(endpoint, None)
    changes = _differences(hook, wanted)
    if not token_ok:
        settings = dict(hook.get("settings") or {})
        headers = {name: value for name, value in (settings.get("custom_headers") or {}).items()
                   if name.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {new_submitter_token(session, actor, operation_code, asset_uid)}"
        changes["settings"] = {**settings, "custom_headers": headers}
    if changes:
        client.call("PATCH", f"{base}{hook['uid']}/", body=changes)
        what = ", ".join(sorted("token" if k == "settings" else k for k in changes))
        report.say(f"updated the REST Service {hook['uid']} ({what})")
    else:
        report.say(f"the REST Service {hook['uid']} is already right")
    return hook["uid"]


# -- the whole set-up ----------------------------------------------------------------------------
def existing_asset_uid(session: Session, operation_id: int, server_url: str) -> str | None:
    uids = session.scalars(sa.select(KoboAsset.asset_uid).where(
        KoboAsset.operation_id == operation_id, KoboAsset.server_url == server_url)).all()
    if len(uids) > 1:
        raise SetupError(f"this operation has {len(uids)} projects on {server_url} ({', '.join(uids)}): "
                         "name one with --asset")
    return uids[0] if uids else None


def set_up(database: Database, actor: Actor, client: KoboClient, *, operation_code: str, server_url: str,
           public_url: str, form: Path, asset_uid: str | None = None, redeploy: bool = False,
           encrypted_token: str | None = None, sleep: Callable[[float], None] = time.sleep) -> SetupReport:
    """Everything `crisis-ct kobo setup` does. Kobo's side changes as it goes, so running it
    again after a failure picks up where it stopped. No transaction stays open while Kobo
    imports and deploys (minutes, maybe): on SQLite it would hold the webhook's write lock."""
    endpoint = webhook_url(public_url)
    report = SetupReport()
    spec = FormSpec.from_xlsform(form)  # a broken bundled form stops here, before Kobo sees it
    with database.session() as session:
        operation_id = get_operation(session, operation_code).id
        uid = asset_uid or existing_asset_uid(session, operation_id, server_url)
    if uid is None:
        uid = import_form(client, form, name=spec.title or form.stem, sleep=sleep)
        report.say(f"imported {form.name} as the new project {uid}")
    elif redeploy:
        import_form(client, form, name=spec.title or form.stem, sleep=sleep,
                    destination=f"{client.base_url}/api/v2/assets/{uid}/")
        report.say(f"imported {form.name} into {uid}")
    remote = ensure_deployed(client, uid, report, redeploy=redeploy)
    version, content = remote.get("deployed_version_id"), remote.get("content") or {}
    if version:
        try:  # the deployed version itself: the asset's content may be a newer draft
            content = client.get_version(uid, version).get("content") or content
        except KoboNotFound:
            pass
    with database.session() as session:
        asset = register_asset(session, operation_id, uid, name=remote.get("name") or "", server_url=server_url)
        if encrypted_token:
            asset.token_env, asset.token_encrypted = None, encrypted_token
        if version and content.get("survey"):
            add_form_version(session, asset, FormSpec.from_asset_content(content, version=version),
                             version=version, content=dict(content))
        asset.hook_uid = ensure_hook(client, session, actor, operation_code=operation_code, operation_id=operation_id,
                                     asset_uid=uid, endpoint=endpoint, known_uid=asset.hook_uid, report=report)
        report.asset_uid, report.version, report.hook_uid = uid, version, asset.hook_uid
        audit(session, actor, "kobo.setup", target_type="kobo_asset", target_id=uid, operation_id=operation_id,
              details={"server_url": server_url, "endpoint": endpoint, "version": version, "hook": asset.hook_uid,
                       "steps": report.steps})
    return report


# -- the hook's deliveries -----------------------------------------------------------------------
def failed_deliveries(client: KoboClient, asset_uid: str, hook_uid: str) -> list[dict]:
    """Kobo's log of deliveries that failed for good (status 0), oldest first as listed."""
    logs: list[dict] = []
    path = f"/api/v2/assets/{asset_uid}/hooks/{hook_uid}/logs/"
    for page in range(1, 101):  # kpi pages logs; a hundred pages of failures is plenty to show
        _, body = client.call("GET", path, params={"status": 0, "format": "json", "page": page})
        logs.extend(r for r in (body or {}).get("results") or [] if isinstance(r, dict))
        if not (body or {}).get("next"):
            break
    return logs


def retry_failed(client: KoboClient, asset_uid: str, hook_uid: str) -> int:
    """Ask Kobo to deliver every failed delivery again; how many it queued (0: none failed)."""
    status, body = client.call("PATCH", f"/api/v2/assets/{asset_uid}/hooks/{hook_uid}/retry/")
    if status == 304:
        return 0
    return len((body or {}).get("pending_uids") or [])

"""`crisis-ct kobo …`: connect a project, pull sync, offline import, replay, status.

Tests (and special deployments) can put a client factory in
`app.extensions["kobo_client_factory"]` (server_url, token) -> KoboClient, and a sleep
function in `app.extensions["kobo_sleep"]` for the `--every` loop.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from crisis_ct.accounts.audit import record as audit
from crisis_ct.cli_support import AppGroup, cli_actor, fail, progress_bar
from crisis_ct.geography.models import Operation
from crisis_ct.geography.operations import OperationError, get_operation
from crisis_ct.kobo import operations
from crisis_ct.kobo.access import app_access
from crisis_ct.kobo.client import KoboError
from crisis_ct.kobo.exports import ExportError
from crisis_ct.kobo.forms import BUNDLED_FORM, add_form_version, register_asset
from crisis_ct.kobo.formspec import FormSpec, FormSpecError
from crisis_ct.kobo.importer import ImportError_, import_export, rescore_queued_sites
from crisis_ct.kobo.ingest import QUARANTINED
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion, QuarantinedSubmission
from crisis_ct.kobo.secrets import TokenError, encrypt_token, token_cipher, token_source
from crisis_ct.kobo.sync import (DEFAULT_CATCH_UP_DAYS, FAILED, assets_to_sync, client_for,
                                 default_client_factory, sync_asset)
from crisis_ct.web_db import database

log = logging.getLogger(__name__)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
REPLAY_BATCH = 200


@click.group("kobo", cls=AppGroup)  # AppGroup: every command runs in the app context
def kobo_group() -> None:
    """KoboToolbox projects: connect, sync, import exports, replay the quarantine."""


def _client_factory():
    return current_app.extensions.get("kobo_client_factory", default_client_factory)


def _cipher():
    return token_cipher(secret_key=current_app.config.get("SECRET_KEY"),
                        token_key=current_app.config.get("KOBO_TOKEN_KEY"))


def _match_distance() -> float:
    return float(current_app.config.get("SITE_MATCH_DISTANCE_M", 500.0))


def _rescore() -> None:
    rescored = rescore_queued_sites(database())
    click.echo(f"re-scored {rescored} site(s)")


# -- connect --------------------------------------------------------------------------------------
@kobo_group.command("connect")
@click.option("--operation", "operation_code", required=True)
@click.option("--asset", "asset_uid", required=True, help="The Kobo project's asset uid")
@click.option("--server", "server_url", help="Kobo server URL, e.g. https://kf.kobotoolbox.org")
@click.option("--token-env", help="Name of the environment variable holding the Kobo API token")
@click.option("--token-stdin", is_flag=True, help="Read the Kobo API token from stdin and store it encrypted")
@click.option("--form", "form_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="XLSForm to register (default without --server: the bundled form)")
@click.option("--name", default="", help="A name for the project (default: Kobo's)")
def connect(operation_code, asset_uid, server_url, token_env, token_stdin, form_path, name):
    """Register a Kobo project for an operation, with its token and form version."""
    if token_env and token_stdin:
        fail("give either --token-env or --token-stdin, not both")
    if token_env and not _ENV_NAME.fullmatch(token_env):
        fail(f"--token-env takes the NAME of an environment variable, e.g. KOBO_TOKEN_{operation_code.upper()}")
    token = None
    if token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            fail("no token on stdin")
    elif token_env:
        token = (os.environ.get(token_env) or "").strip() or None
    if server_url and not token:
        fail("--server needs the API token to read the project: set --token-env VAR (with VAR set) or --token-stdin")

    versions: list[tuple[FormSpec, str | None, dict | None]] = []
    if server_url:
        try:
            remote = _client_factory()(server_url, token).get_asset(asset_uid)
            version, content = remote.get("deployed_version_id"), remote.get("content") or {}
            if version and content.get("survey"):
                versions.append((FormSpec.from_asset_content(content, version=version), version, dict(content)))
            name = name or remote.get("name") or ""
        except (KoboError, FormSpecError) as exc:
            fail(f"could not read asset {asset_uid} from {server_url}: {exc}")
    if form_path or not server_url:
        path = form_path or BUNDLED_FORM
        try:
            versions.append((FormSpec.from_xlsform(path), None, None))
        except FormSpecError as exc:
            fail(f"{path}: {exc}")

    try:
        encrypted = encrypt_token(token, _cipher()) if token_stdin else None
        with database().session() as session:
            operation = get_operation(session, operation_code)
            asset = register_asset(session, operation.id, asset_uid, name=name, server_url=server_url)
            if token_env or token_stdin:
                asset.token_env, asset.token_encrypted = (token_env, None) if token_env else (None, encrypted)
            stored = [add_form_version(session, asset, spec, version=version, content=content).version
                      for spec, version, content in versions]
            audit(session, cli_actor(), "kobo.connected", target_type="kobo_asset", target_id=asset_uid,
                  operation_id=operation.id, details={"server_url": server_url, "form_versions": stored,
                                                      "token": token_source(asset)})
            source = token_source(asset)
    except (OperationError, TokenError, ValueError) as exc:
        fail(str(exc))
    click.echo(f"connected Kobo asset {asset_uid} to operation {operation_code}")
    click.echo(f"form version(s): {', '.join(stored) or 'none'}; token: {source or 'none (webhook/import only)'}")


# -- sync -----------------------------------------------------------------------------------------
@kobo_group.command("sync")
@click.option("--operation", "operation_code", help="Only this operation's projects")
@click.option("--asset", "asset_uid", help="Only this project")
@click.option("--catch-up-days", type=click.FloatRange(min=0), default=DEFAULT_CATCH_UP_DAYS, show_default=True,
              help="Re-read submissions of the last N days to find edits and missed webhooks (0: off)")
@click.option("--every", "every_minutes", type=click.FloatRange(min=0, min_open=True),
              help="Keep running: sync again every MINUTES (stop with Ctrl-C)")
@click.option("--max-rounds", type=click.IntRange(min=1), hidden=True, help="With --every: stop after N rounds")
def sync(operation_code, asset_uid, catch_up_days, every_minutes, max_rounds):
    """Pull new and edited submissions from Kobo API v2 (resumable)."""
    uids = assets_to_sync(database(), operation_code=operation_code, asset_uid=asset_uid)
    if not uids:
        fail("no Kobo project with a server to sync (connect one with `crisis-ct kobo connect --server …`)")
    sleep = current_app.extensions.get("kobo_sleep", time.sleep)
    rounds = 0
    while True:
        rounds += 1
        if every_minutes:
            try:
                _sync_round(uids, catch_up_days)
            except Exception as exc:  # noqa: BLE001 - a scheduled loop must outlive any one round
                log.exception("kobo sync round failed")
                click.echo(f"sync round failed ({type(exc).__name__}: {exc}); next round in "
                           f"{every_minutes:g} minute(s)", err=True)
        else:
            failed = _sync_round(uids, catch_up_days)
        if not every_minutes:
            if failed:
                fail(f"{failed} project(s) failed to sync; what was read before the failure is stored, "
                     "and the next run resumes from there")
            return
        if max_rounds and rounds >= max_rounds:
            return
        try:
            sleep(every_minutes * 60)
        except KeyboardInterrupt:
            return


def _sync_round(uids: list[str], catch_up_days: float) -> int:
    db = database()
    failed = 0
    for uid in uids:
        try:
            client = client_for(db, uid, _client_factory(), _cipher)
        except TokenError as exc:
            click.echo(f"{uid}: failed; {exc}", err=True)
            failed += 1
            continue
        with progress_bar(None, f"sync {uid}") as advance:
            result = sync_asset(db, uid, client, catch_up_days=catch_up_days, match_distance_m=_match_distance(),
                                progress=advance)
        click.echo(result.line(), err=result.status == FAILED)
        failed += result.status == FAILED
    _rescore()
    return failed


# -- import ---------------------------------------------------------------------------------------
@kobo_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--asset", "asset_uid", required=True, help="The Kobo project the export comes from")
def import_command(file, asset_uid):
    """Import a Kobo export: JSON (data endpoint), XLSX or CSV with XML headers."""
    try:
        with progress_bar(None, f"import {file.name}") as advance:
            tally = import_export(database(), file, asset_uid, match_distance_m=_match_distance(), progress=advance)
    except ImportError_ as exc:
        fail(str(exc))
    except ExportError as exc:
        _rescore()
        fail(f"{exc}\nbatches before this point were stored; fix the file and import it again "
             "(what is stored is recognised and not stored twice)")
    click.echo(f"{file.name}: {tally.line()}")
    _rescore()


# -- replay ---------------------------------------------------------------------------------------
@kobo_group.command("replay")
@click.option("--operation", "operation_code", help="Only this operation's quarantine")
def replay(operation_code):
    """Try every pending quarantined submission again (after importing sites, connecting forms…)."""
    db = database()
    with db.session() as session:
        operation_ids = _operation_ids(session, operation_code)
        ids = list(session.scalars(sa.select(QuarantinedSubmission.id).where(
            QuarantinedSubmission.operation_id.in_(operation_ids), QuarantinedSubmission.status == "pending")
            .order_by(QuarantinedSubmission.id)))
    stored = still = 0
    for start in range(0, len(ids), REPLAY_BATCH):
        with db.session() as session:
            rows = list(session.scalars(sa.select(QuarantinedSubmission).where(
                QuarantinedSubmission.id.in_(ids[start:start + REPLAY_BATCH])).order_by(QuarantinedSubmission.id)))
            for result in operations.replay(session, cli_actor(), rows, match_distance_m=_match_distance(),
                                            access=app_access(timeout_s=30.0, retries=1)):
                outcome = result.outcome
                if outcome.status == QUARANTINED:
                    still += 1
                    click.echo(f"#{result.quarantine_id} {outcome.instance_id}: stays quarantined "
                               f"({outcome.reason_code}): {outcome.reason}")
                else:
                    stored += 1
                    click.echo(f"#{result.quarantine_id} {outcome.instance_id}: {outcome.status} "
                               f"(submission {outcome.submission_id})")
    click.echo(f"replayed {len(ids)}: {stored} stored, {still} still quarantined")
    _rescore()


@kobo_group.command("resolve")
@click.argument("quarantine_id", type=int)
@click.option("--site", "site_code", required=True, help="The site id the submission is about")
def resolve(quarantine_id, site_code):
    """Store a submission quarantined for its site at the site you name."""
    with database().session() as session:
        row = session.get(QuarantinedSubmission, quarantine_id)
        if row is None or row.status != "pending":
            fail(f"no pending quarantined submission #{quarantine_id}")
        try:
            result = operations.resolve_site(session, cli_actor(), row, site_code,
                                             match_distance_m=_match_distance())
        except operations.ResolveError as exc:
            fail(str(exc))
        outcome = result.outcome
    if outcome.status == QUARANTINED:
        fail(f"#{quarantine_id} stays quarantined ({outcome.reason_code}): {outcome.reason}")
    click.echo(f"#{quarantine_id} {outcome.instance_id}: {outcome.status} at site {site_code} "
               f"(submission {outcome.submission_id})")
    _rescore()


@kobo_group.command("quarantine")
@click.option("--operation", "operation_code", help="Only this operation's quarantine")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
def quarantine_list(operation_code, limit):
    """The pending quarantine: reason, attempts and last attempt of each submission."""
    with database().session() as session:
        total, rows = operations.pending_quarantine(session, _operation_ids(session, operation_code), limit=limit)
        for row in rows:
            last = row.last_attempt_at or row.received_at
            click.echo(f"#{row.id} {row.instance_id or '-'} {row.asset_uid or '-'}: {row.reason_code}; "
                       f"{row.attempts} attempt(s), last {last:%Y-%m-%d %H:%M:%S} UTC")
            click.echo(f"  {row.reason}")
    click.echo(f"{total} pending")


def _operation_ids(session, operation_code: str | None) -> list[int]:
    if operation_code:
        try:
            return [get_operation(session, operation_code).id]
        except OperationError as exc:
            fail(str(exc))
    return list(session.scalars(sa.select(Operation.id)))


# -- status ---------------------------------------------------------------------------------------
@kobo_group.command("status")
@click.option("--operation", "operation_code", help="Only this operation's projects")
def status(operation_code):
    """When each project last synced and what it found."""
    with database().session() as session:
        operation_ids = _operation_ids(session, operation_code)
        for line in status_lines(session, operation_ids):
            click.echo(line)


def status_lines(session, operation_ids: list[int]) -> list[str]:
    codes = dict(session.execute(sa.select(Operation.id, Operation.code)).all())
    assets = session.scalars(sa.select(KoboAsset).where(KoboAsset.operation_id.in_(operation_ids))
                             .order_by(KoboAsset.operation_id, KoboAsset.asset_uid)).all()
    if not assets:
        return ["no Kobo project connected"]
    lines = []
    for asset in assets:
        versions = session.scalars(sa.select(KoboFormVersion.version).where(KoboFormVersion.asset_id == asset.id)
                                   .order_by(KoboFormVersion.added_at, KoboFormVersion.id)).all()
        pending = session.scalar(sa.select(sa.func.count()).select_from(QuarantinedSubmission).where(
            QuarantinedSubmission.asset_uid == asset.asset_uid, QuarantinedSubmission.status == "pending"))
        lines.append(f"{codes.get(asset.operation_id)} / {asset.asset_uid} {asset.name!r}")
        lines.append(f"  server: {asset.server_url or '-'}; token: {token_source(asset) or '-'}; "
                     f"form versions: {', '.join(versions) or '-'}")
        if asset.last_sync_at is None:
            lines.append("  never synced")
        else:
            lines.append(f"  last sync {asset.last_sync_at:%Y-%m-%d %H:%M:%S} UTC: {asset.last_sync_status}; "
                         f"highest _id {asset.highest_kobo_id}")
            lines.append(f"  found: {_summary_text(asset.last_sync_summary or {})}")
        lines.append(f"  quarantined, pending: {pending}")
        lines.extend(hook_status_lines(asset))
    return lines


def _summary_text(summary: dict) -> str:
    def part(counts: dict | None) -> str:
        counts = counts or {}
        return (f"{counts.get('stored', 0)} stored, {counts.get('updated', 0)} updated, "
                f"{counts.get('duplicates', 0)} unchanged, {counts.get('quarantined', 0)} quarantined")

    text = f"new: {part(summary.get('new'))}; catch-up: {part(summary.get('catch_up'))}"
    if summary.get("validation_changes"):
        text += f"; validation status changes: {summary['validation_changes']}"
    deletions = summary.get("deletions")
    if deletions:
        text += f"; deleted in Kobo, withdrawn: {deletions.get('withdrawn', 0)}"
    if summary.get("new_form_version"):
        text += f"; new form version {summary.get('form_version')}"
    if summary.get("error"):
        text += f"; error: {summary['error']}"
        if summary.get("failing_since"):
            text += f" (failing since {summary['failing_since'][:19]})"
    return text


# `kobo setup`, `kobo retry-failed` and the REST Service lines of `kobo status`.
from crisis_ct.kobo.cli_setup import hook_status_lines  # noqa: E402

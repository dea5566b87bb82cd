"""`crisis-ct kobo setup` and `crisis-ct kobo retry-failed` (project_setup.py does the work)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from crisis_ct.cli_support import cli_actor, fail
from crisis_ct.geography.operations import OperationError
from crisis_ct.kobo.cli import _cipher, _client_factory, _operation_ids, kobo_group
from crisis_ct.kobo.client import KoboError
from crisis_ct.kobo.forms import BUNDLED_FORM
from crisis_ct.kobo.formspec import FormSpecError
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.project_setup import SetupError, failed_deliveries, retry_failed, set_up
from crisis_ct.kobo.secrets import TokenError, asset_token, encrypt_token
from crisis_ct.kobo.sync import client_for
from crisis_ct.web_db import database


@kobo_group.command("setup")
@click.option("--operation", "operation_code", required=True)
@click.option("--server", "server_url", required=True, help="Kobo server URL, e.g. https://kf.kobotoolbox.org")
@click.option("--token-stdin", is_flag=True, required=True,
              help="Read the Kobo API token from stdin (stored encrypted, never printed)")
@click.option("--public-url", required=True, help="Where Kobo reaches crisis-ct, e.g. https://ct.example.org")
@click.option("--asset", "asset_uid", help="Use this existing Kobo project instead of importing the bundled form")
@click.option("--redeploy", is_flag=True, help="Push the bundled form (if changed) to the project and redeploy it")
@click.option("--form", "form_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=BUNDLED_FORM, show_default=True, hidden=True)
def setup(operation_code, server_url, token_stdin, public_url, asset_uid, redeploy, form_path):
    """Import and deploy the form, register the REST Service and connect the project."""
    token = sys.stdin.readline().strip()
    if not token:
        fail("no Kobo API token on stdin")
    server_url = server_url.rstrip("/")
    client = _client_factory()(server_url, token)
    sleep = current_app.extensions.get("kobo_sleep", time.sleep)
    try:
        encrypted = encrypt_token(token, _cipher())
        report = set_up(database(), cli_actor(), client, operation_code=operation_code, server_url=server_url,
                        public_url=public_url, form=form_path, asset_uid=asset_uid, redeploy=redeploy,
                        encrypted_token=encrypted, sleep=sleep)
    except (SetupError, KoboError, FormSpecError, OperationError, TokenError, ValueError) as exc:
        fail(f"set-up stopped: {exc}\nwhat was done in Kobo stays; run the same command again to finish")
    for step in report.steps:
        click.echo(step)
    click.echo(f"project {report.asset_uid} of operation {operation_code}: deployed version {report.version}, "
               f"REST Service {report.hook_uid}")


@kobo_group.command("retry-failed")
@click.option("--operation", "operation_code", help="Only this operation's projects")
def retry_failed_command(operation_code):
    """Ask Kobo to deliver again what its REST Service failed to deliver."""
    db = database()
    with db.session() as session:
        assets = session.execute(sa.select(KoboAsset.asset_uid, KoboAsset.hook_uid).where(
            KoboAsset.operation_id.in_(_operation_ids(session, operation_code)), KoboAsset.hook_uid.is_not(None),
            KoboAsset.server_url.is_not(None)).order_by(KoboAsset.asset_uid)).all()
    if not assets:
        fail("no project with a REST Service registered by `crisis-ct kobo setup`")
    failed = 0
    for asset_uid, hook_uid in assets:
        try:
            queued = retry_failed(client_for(db, asset_uid, _client_factory(), _cipher), asset_uid, hook_uid)
        except (KoboError, TokenError) as exc:
            click.echo(f"{asset_uid}: could not ask Kobo to retry: {exc}", err=True)
            failed += 1
            continue
        click.echo(f"{asset_uid}: Kobo retries {queued} failed deliver{'y' if queued == 1 else 'ies'}"
                   if queued else f"{asset_uid}: no failed delivery to retry")
    if failed:
        fail(f"{failed} project(s) could not be asked")


def hook_status_lines(asset: KoboAsset) -> list[str]:
    """For `kobo status`: the REST Service's failed deliveries, as Kobo logged them."""
    if not asset.hook_uid or not asset.server_url:
        return []
    try:
        # The asset row at hand (the caller's session is open: SQLite would lock a second one).
        client = _client_factory()(asset.server_url, asset_token(asset, _cipher))
        client.max_retries = min(client.max_retries, 1)  # a status report must not wait minutes for Kobo
        logs = failed_deliveries(client, asset.asset_uid, asset.hook_uid)
    except (KoboError, TokenError) as exc:
        return [f"  REST Service {asset.hook_uid}: could not read its log from Kobo ({exc})"]
    lines = [f"  REST Service {asset.hook_uid}: {len(logs)} failed deliver{'y' if len(logs) == 1 else 'ies'}"
             + (" (retry them: crisis-ct kobo retry-failed)" if logs else "")]
    for log in logs[:10]:
        lines.append(f"    submission {log.get('submission_id') or log.get('instance_id')}: "
                     f"HTTP {log.get('status_code')} {str(log.get('message') or '')[:80]!r} "
                     f"({log.get('date_modified')})")
    if len(logs) > 10:
        lines.append(f"    … and {len(logs) - 10} more")
    return lines

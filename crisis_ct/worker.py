"""The background worker `make run` starts beside the web server: it re-scores the
sites whose submissions changed (the webhook only queues them, so Kobo gets its
answer fast) and releases claims that have lapsed."""
from __future__ import annotations

import logging
import time

import click

from crisis_ct.cli_support import with_app

from crisis_ct.accounts import web_sessions
from crisis_ct.accounts.auth import session_policy
from crisis_ct.scoring.service import process_queue
from crisis_ct.tasks.claims import expire_claims
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database

log = logging.getLogger(__name__)


def run_once(*, expire: bool) -> tuple[int, int]:
    with database().session() as session:
        rescored = process_queue(session)
    released = 0
    if expire:
        with database().session() as session:
            released = expire_claims(session, now=utcnow())
            # Rows of sessions no cookie can use any more (ended or past their absolute limit).
            web_sessions.purge_ended(session, now=utcnow(), policy=session_policy())
    return rescored, released


@click.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between queue checks")
@click.option("--expire-every", default=60.0, show_default=True, help="Seconds between claim expiry runs")
@click.option("--once", is_flag=True, help="Do one round and stop")
@with_app
def worker_command(interval, expire_every, once):
    """Re-score queued sites and release expired claims, until stopped."""
    last_expiry = 0.0
    while True:
        due = time.monotonic() - last_expiry >= expire_every
        try:
            rescored, released = run_once(expire=due or once)
        except Exception:  # noqa: BLE001 — a database hiccup must not stop the worker for good
            log.exception("worker round failed; retrying")
            time.sleep(max(interval, 5))
            continue
        if due:
            last_expiry = time.monotonic()
        if rescored or released:
            click.echo(f"re-scored {rescored} site(s), released {released} expired claim(s)")
        if once:
            return
        time.sleep(interval)

"""`crisis-ct worker`: the background worker `make run` starts beside the web server. It
runs the registered jobs (crisis_ct.jobs.registry: the scoring queue, claim expiry, Kobo
sync, the daily re-score …) when they are due, beats a heartbeat, and stops within a few
seconds of SIGTERM or SIGINT (a running job returns at its next safe point). Run as many
workers as you like, on as many hosts: the queue shares itself out and each scheduled job
runs once at a time."""
from __future__ import annotations

import logging
import signal
import threading

import click
import sqlalchemy as sa
from flask import Flask, current_app
from crisis_ct.cli_support import with_app

from crisis_ct.db import Database
from crisis_ct.jobs.heartbeat import Heartbeat, this_worker_id
from crisis_ct.jobs.registry import Job, registered_jobs
from crisis_ct.jobs.runner import JobRunner
from crisis_ct.web_db import database

log = logging.getLogger(__name__)

# Longest sleep between two looks at the schedule (a new job row, a stop request).
MAX_IDLE_SECONDS = 5.0
RETRY_AFTER_DB_ERROR_SECONDS = 5.0


def run_worker(app: Flask, db: Database, jobs: list[Job], stop: threading.Event, *, once: bool = False,
               worker_id: str | None = None) -> None:
    worker_id = worker_id or this_worker_id()
    runner = JobRunner(app, db, jobs, worker_id, stop)
    while not stop.is_set():
        try:
            runner.prepare()
            break
        except sa.exc.SQLAlchemyError:
            log.exception("worker %s cannot reach the database; retrying", worker_id)
            stop.wait(RETRY_AFTER_DB_ERROR_SECONDS)
    log.info("worker %s started: %s", worker_id, ", ".join(job.name for job in jobs))
    with Heartbeat(db, worker_id):
        while not stop.is_set():
            try:
                wait = runner.run_due()
            except sa.exc.SQLAlchemyError:  # the database went away: the jobs' state is in it
                log.exception("worker round failed; retrying")
                wait = RETRY_AFTER_DB_ERROR_SECONDS
            if once:
                break
            stop.wait(min(max(wait, 0.1), MAX_IDLE_SECONDS))
    log.info("worker %s stopped", worker_id)


def _stop_on_signals(stop: threading.Event) -> dict:
    """Handlers that stop the loop; returns the previous ones, to be put back."""
    def handle(signum, _frame):
        log.info("worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    return {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}


@click.command("worker")
@click.option("--job", "job_names", multiple=True, help="Run only this job (repeatable); default: all")
@click.option("--once", is_flag=True, help="Run the due jobs once and stop")
@with_app
def worker_command(job_names, once):
    """Run the scheduled jobs (queue re-scoring, claim expiry, Kobo sync, daily re-score) until stopped."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        jobs = registered_jobs(list(job_names) or None)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--job") from None
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    try:
        run_worker(current_app._get_current_object(), database(), jobs, stop, once=once)
    finally:
        # Run in-process (`--once`, tests), the caller's own handling comes back.
        for signum, handler in previous.items():
            signal.signal(signum, handler)

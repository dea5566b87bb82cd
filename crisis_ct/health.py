"""GET /healthz: is the database reachable, at which schema revision, and is the background
work healthy (a worker's heartbeat, no job failing again and again, no parked site). No auth.
503 only when the database is unreachable; anything else wrong is "degraded" with 200, so a
load balancer keeps the instance while a monitor alerts on the status."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crisis_ct import __version__
from crisis_ct.db import current_revision
from crisis_ct.jobs.status import background_state
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    db = database()
    try:
        with db.engine.connect() as connection:
            revision = current_revision(connection)
            with Session(bind=connection) as session:
                background = _background(session)
    except SQLAlchemyError as exc:
        response = jsonify({"status": "unavailable", "database": "unreachable",
                            "error": exc.__class__.__name__, "version": __version__})
        response.status_code = 503
        return response
    problems = background.pop("problems")
    return jsonify({"status": "degraded" if problems else "ok", "problems": problems, "database": db.dialect,
                    "schema_revision": revision, "version": __version__, **background})


def _background(session: Session) -> dict:
    state = background_state(session, utcnow())
    return {
        "problems": state.problems(),
        "worker": {"alive": state.live_workers,
                   "heartbeat_age_s": None if state.heartbeat_age_s is None else round(state.heartbeat_age_s, 1)},
        # Names and counts only: this answers without authentication. `crisis-ct jobs` shows
        # the errors and the parked sites.
        "failing_jobs": [{"name": job.name, "consecutive_failures": job.consecutive_failures,
                          "last_run": job.last_started_at.isoformat() if job.last_started_at else None}
                         for job in state.failing_jobs],
        "scoring_queue": {"waiting": state.queue.waiting, "retrying": state.queue.retrying,
                          "parked": state.queue.parked_total},
    }

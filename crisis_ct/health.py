"""GET /healthz: is the database reachable, at which schema revision. No auth."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from crisis_ct import __version__
from crisis_ct.db import current_revision
from crisis_ct.web_db import database

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    db = database()
    try:
        with db.engine.connect() as connection:
            revision = current_revision(connection)
    except SQLAlchemyError as exc:
        response = jsonify({"status": "unavailable", "database": "unreachable",
                            "error": exc.__class__.__name__, "version": __version__})
        response.status_code = 503
        return response
    return jsonify({"status": "ok", "database": db.dialect, "schema_revision": revision, "version": __version__})

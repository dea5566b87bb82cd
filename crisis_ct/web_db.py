"""The request's database session, opened on first use and closed at teardown."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from crisis_ct.db import Database

EXTENSION_KEY = "crisis_ct_db"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Database(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.teardown_appcontext(_close_session)


def database() -> Database:
    return current_app.extensions[EXTENSION_KEY]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()

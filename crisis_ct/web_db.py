"""The request's database session, opened on first use and closed at teardown."""
from __future__ import annotations

import gc
import logging
from typing import Callable

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, configure_mappers

from crisis_ct.db import Database

EXTENSION_KEY = "crisis_ct_db"
log = logging.getLogger(__name__)
_warm_ups: list[Callable[[Session], None]] = []


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_close_session)
    connections = int(app.config.get("DB_WARM_CONNECTIONS") or 0)
    if connections > 0:
        _warm_up(app, database, connections)


def on_warm_up(function: Callable[[Session], None]) -> Callable[[Session], None]:
    """Registers a hot path's statements to run once per pooled connection at a served
    worker's start. They must change nothing (e.g. match no row)."""
    _warm_ups.append(function)
    return function


def _warm_up(app: Flask, database: Database, connections: int) -> None:
    """Before a served worker takes requests (`DB_WARM_CONNECTIONS`, set on the gunicorn line
    to its thread count): open the connections its threads will use and run the hot
    statements once on each. The first requests after a start then neither compile those
    statements (once per process) nor wait for new PostgreSQL backends to read the tables'
    catalog entries (once per backend): measured, those made the first burst of claims after
    a start three times slower than the next ones. A failure only logs: the worker starts."""
    configure_mappers()
    if database.dialect != "postgresql":
        connections = 1  # SQLite: no server backends, and a second writer would wait for the first
    # All sessions stay open until the end, so each holds a connection of its own.
    sessions = [database.sessionmaker() for _ in range(connections)]
    try:
        with app.app_context():
            for session in sessions:
                for warm in _warm_ups:
                    warm(session)
            # Committed (nothing changed), not rolled back: psycopg drops a connection's
            # prepared statements at every ROLLBACK. Only once all are warm: a committed
            # session hands its connection back to the pool.
            for session in sessions:
                session.commit()
    except Exception:  # noqa: BLE001 - a cold start is slower, not broken
        log.warning("database warm-up failed", exc_info=True)
    finally:
        for session in sessions:
            session.close()
    # Everything start-up made (modules, mappers, compiled statements) lives as long as the
    # worker: out of the collector's reach, a full collection during the first requests does
    # not walk it all (it stalled a few of the first burst of claims by tens of ms).
    gc.collect()
    gc.freeze()


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

"""Engine and sessions. The one place that knows SQLite+SpatiaLite from PostGIS at
connection level; SQL-level differences live in crisis_ct.spatial."""
from __future__ import annotations

import hashlib
import os
import select
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from crisis_ct.config import REPO_ROOT

SPATIALITE_LIBRARY = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_module():
    # The Python on many machines is built without enable_load_extension, so stdlib
    # sqlite3 cannot load SpatiaLite; sqlean.py is a drop-in sqlite3 that can.
    import sqlean

    return sqlean


def json_dumps(value) -> str:
    """JSON columns are written with this (also by bulk COPY paths that bypass SQLAlchemy)."""
    # orjson is several times faster than json.dumps on submission payloads.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


_json_dumps = json_dumps


READ_ONLY_OPTION = "crisis_ct_read_only"


def create_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_spatialite_engine(url, echo=echo)
    # orjson.loads too: stdlib json was a fifth of a full re-score (100,000 answer documents).
    # No pool_pre_ping: its SELECT 1 was one of five round trips of a claim. A connection the
    # server closed is found at checkout without asking the server (_drop_if_closed_by_server).
    engine = sa.create_engine(url, echo=echo, pool_pre_ping=not hasattr(select, "poll"), pool_size=10,
                              max_overflow=20, json_serializer=_json_dumps, json_deserializer=orjson.loads)
    if hasattr(select, "poll"):
        event.listen(engine, "checkout", _drop_if_closed_by_server)
    return engine


def _drop_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """An idle connection in the pool has nothing to read. If its socket is readable, the
    server has closed it or said it is closing it (restart, pg_terminate_backend, an idle
    timeout): the pool then discards it and checks out another, as pre-ping would, but
    without a round trip. (The service uses no LISTEN, whose notices would read as this.)"""
    if dbapi_connection.closed:
        raise sa.exc.DisconnectionError("connection closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise sa.exc.DisconnectionError("the server closed the connection")


# SQLite engine -> its crisis_ct.sqlite_writers.WriterLock
_writer_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def let_waiting_writers_go_first(session: Session, max_seconds: float) -> None:
    """For background work on SQLite, before its next transaction: wait while other
    writers wait for the write lock (at most max_seconds, so that the work goes on under a
    steady stream of writers), so that each of them waits for at most the transaction
    holding the lock. PostgreSQL has no database-wide write lock: nothing to wait for."""
    writers = _writer_locks.get(session.get_bind())
    if writers is None:
        return
    deadline = time.monotonic() + max_seconds
    while writers.others_waiting() and time.monotonic() < deadline:
        time.sleep(0.001)


def _create_spatialite_engine(url: str, *, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        echo=echo,
        module=_sqlite_module(),
        json_serializer=_json_dumps,
        # Writers wait for each other instead of failing at once with "database is locked".
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.enable_load_extension(True)
        dbapi_connection.load_extension(SPATIALITE_LIBRARY)
        dbapi_connection.enable_load_extension(False)
        # pysqlite's implicit transactions would defeat BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    writers = None
    if database and database != ":memory:":
        from crisis_ct import sqlite_writers

        writers = _writer_locks[engine] = sqlite_writers.install(engine, Path(database))

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            # A reader (read_only below, or Database.read_only_session: an export streaming
            # for minutes) takes no write lock and never queues for it: WAL gives it a
            # snapshot, and the writers go on meanwhile.
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        # Take the write lock at the start of every transaction: a read that later
        # upgrades to a write cannot deadlock, and conditional updates (claims) are
        # serialised by the database itself. Writers queue for it in crisis_ct.sqlite_writers
        # first, which hands it over without SQLite's sleeping and polling.
        if writers is not None:
            writers.acquire(connection.connection.dbapi_connection)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def read_only(session: Session) -> Iterator[Session]:
    """A transaction of its own that only reads, ended with a rollback. On SQLite it takes no
    write lock (every other transaction does, from its start): a long read, such as the
    sites of a whole admin level, keeps no webhook waiting. SQLite reads one snapshot
    (WAL); on PostgreSQL each statement sees what is committed when it starts. Commits
    what the session holds first."""
    session.commit()
    session.connection(execution_options={READ_ONLY_OPTION: True})
    try:
        yield session
    finally:
        session.rollback()


T = TypeVar("T")
# PostgreSQL aborts one of two transactions that wait for each other (deadlock_detected) or
# that it cannot serialise (serialization_failure); the other goes on. Run again, the
# aborted one normally succeeds: it is a lost turn, not a broken database.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable_conflict(error: BaseException) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) in RETRYABLE_SQLSTATES


def committed_retrying_once(session: Session, work: Callable[[], T]) -> T:
    """`work()` then COMMIT. If PostgreSQL aborted the transaction to break a deadlock or a
    serialisation conflict, roll back and run it once more (the session's objects reload);
    a second conflict, and any other error, is raised. `work` must be safe to repeat: it
    may only change the database, which the rollback undid."""
    for attempt in (1, 2):
        try:
            result = work()
            session.commit()
            return result
        except sa.exc.DBAPIError as error:
            session.rollback()
            if attempt == 2 or not is_retryable_conflict(error):
                raise
    raise AssertionError("unreachable")


def is_postgres(bind: Engine | Session | sa.Connection) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock named `name`."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def advisory_lock(engine: Engine, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold the lock `name` for the block, across transactions, on a connection of its own;
    yields whether it is held (wait=False: False at once when another holds it). PostgreSQL:
    a session advisory lock, released by the server if this process dies. SQLite: always
    held (yields True): its callers rely on its one-writer-at-a-time transactions."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    connection = engine.connect()
    try:
        function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        result = connection.execute(sa.text(f"SELECT {function}(:key)"), {"key": key}).scalar()
        held = wait or bool(result)
        connection.commit()  # a session lock outlives the transaction; none stays open
        try:
            yield held
        finally:
            if held:
                try:
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
                except sa.exc.DBAPIError:
                    connection.invalidate()  # never pool a connection that may still hold it
    finally:
        connection.close()


def transaction_lock(session: Session, name: str) -> None:
    """Hold the lock `name` until the session's transaction ends. PostgreSQL: an advisory
    transaction lock (waits for the holder). SQLite needs none: every transaction begins
    IMMEDIATE, so writers already run one at a time."""
    if is_postgres(session):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


def refresh_statistics(session: Session, tables: Sequence[str]) -> None:
    """Give the query planner statistics of these tables as this transaction leaves them,
    after a bulk write: autovacuum analyzes them only a while later, and until then the
    planner plans for the tables as they were (empty, say) and scans what an index would find.
    PostgreSQL: ANALYZE, which counts the rows its own transaction wrote. SQLite plans
    without statistics unless told to keep them; nothing to do."""
    if is_postgres(session):
        session.execute(sa.text(f"ANALYZE {', '.join(tables)}"))


class Database:
    """An engine and its session factory; one per app (tests build several)."""

    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read_only_session(self) -> Session:
        """A session for long reads that write nothing (streamed exports); the caller closes it."""
        return Session(self.engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        writers = _writer_locks.get(self.engine)
        if writers is not None:
            writers.close()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> list[str]:
    """Applies the migrations not yet applied; returns their ids, oldest first."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        before = current_revision(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = current_revision(connection)
    if after == before:
        return []
    applied = ScriptDirectory.from_config(config).iterate_revisions(after, before or "base")
    return [script.revision for script in reversed(list(applied))]


def current_revision(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()

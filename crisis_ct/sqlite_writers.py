"""SQLite: one writer at a time, and the next one goes the moment the last one commits.

Every transaction on the embedded database begins IMMEDIATE (crisis_ct.db), so it takes the
database's write lock. SQLite hands that lock over by polling: a waiting connection sleeps
and retries (its busy handler sleeps up to 100 ms a time), so under load the lock sat idle
between writers, the worker's batches kept winning the race and a webhook waited seconds
behind them (issue 14). Here writers queue on locks that wake the next waiter at once: a
thread lock within the process, then an advisory file lock (`flock`) on `<database>.writers`
across processes (the web workers and the background worker), polled every millisecond by
one thread per process. SQLite's own lock is still taken after it, so nothing is weaker.

Background work (the scoring drain) also lets waiting writers go first: a writer that
wants the lock says so (a count within the process, a shared `flock` on
`<database>.waiting` across processes), and the drain waits while anyone does before it
takes the lock for its next batch (`others_waiting`). A webhook then waits for at most the
batch that holds the lock, also when the machine is too busy to run it within the drain's
pause."""
from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from pathlib import Path

import sqlalchemy as sa

WAIT_SECONDS = 30.0  # as SQLite's busy timeout: then "database is locked"
POLL_SECONDS = 0.001


class WriterLock:
    def __init__(self, database_path: Path):
        self.path = Path(f"{database_path}.writers")
        self.waiting_path = Path(f"{database_path}.waiting")
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._holder: int | None = None  # id() of the DBAPI connection holding it
        self._count_lock = threading.Lock()
        self._waiting = 0  # threads of this process in acquire()
        self._waiting_fd: int | None = None  # shared flock held while _waiting > 0
        self._probe_fd: int | None = None  # another open file: its flock conflicts with ours
        self._waiting_pid: int | None = None

    def acquire(self, dbapi_connection) -> None:
        self._wants(+1)
        try:
            self._acquire()
        finally:
            self._wants(-1)
        self._holder = id(_raw(dbapi_connection))

    def _acquire(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        if not self._thread_lock.acquire(timeout=WAIT_SECONDS):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None,
                                                      Exception("database is locked")) from None
                    time.sleep(POLL_SECONDS)
        except BaseException:
            self._thread_lock.release()
            raise

    def others_waiting(self) -> bool:
        """Whether a writer, in this process or another, is waiting for the lock (asked by
        one that does not hold it and is not waiting itself)."""
        if self._waiting:
            return True
        self._waiting_files()
        try:
            fcntl.flock(self._probe_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._probe_fd, fcntl.LOCK_UN)
        return False

    def _wants(self, change: int) -> None:
        with self._count_lock:
            self._waiting += change
            if self._waiting == (1 if change > 0 else 0):  # the first one in, the last one out
                self._waiting_files()
                fcntl.flock(self._waiting_fd, fcntl.LOCK_SH if change > 0 else fcntl.LOCK_UN)

    def release(self, dbapi_connection) -> None:
        """After COMMIT or ROLLBACK on the connection that holds it (else nothing)."""
        if self._holder is None or self._holder != id(_raw(dbapi_connection)):
            return
        self._holder = None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        """Close the lock files when the engine goes (disposed or collected): a process that
        opens many engines, as a test run does, kept three descriptors for each of them. The
        files open again if the engine is used after all; a lock held now is left alone."""
        if self._thread_lock.acquire(blocking=False):
            try:
                self._fd = _closed(self._fd)
            finally:
                self._thread_lock.release()
        with self._count_lock:
            if not self._waiting:
                self._waiting_fd, self._probe_fd = _closed(self._waiting_fd), _closed(self._probe_fd)

    def _waiting_files(self) -> None:
        if self._waiting_fd is None or self._waiting_pid != os.getpid():
            self._waiting_fd = os.open(self.waiting_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._probe_fd = os.open(self.waiting_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._waiting_pid = os.getpid()

    def _file(self) -> int:
        # One descriptor per process (a forked child opens its own: flock belongs to the open file).
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


def _closed(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)
    return None


def _raw(connection):
    """The DBAPI connection itself, also when SQLAlchemy hands over its pool's proxy of it."""
    return getattr(connection, "dbapi_connection", connection)


def install(engine: sa.Engine, database_path: Path) -> WriterLock:
    """Releases the writer lock after the engine's COMMIT and ROLLBACK (and when a connection
    is closed or invalidated); the caller takes it before BEGIN."""
    lock = WriterLock(database_path)
    weakref.finalize(engine, lock.close)
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def commit(dbapi_connection):
        try:
            do_commit(dbapi_connection)
        finally:
            lock.release(dbapi_connection)

    def rollback(dbapi_connection):
        try:
            do_rollback(dbapi_connection)
        finally:
            lock.release(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = commit, rollback

    @sa.event.listens_for(engine, "close")
    def _closed(dbapi_connection, _record):
        lock.release(dbapi_connection)

    @sa.event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_connection, _record, _exception):
        lock.release(dbapi_connection)

    return lock

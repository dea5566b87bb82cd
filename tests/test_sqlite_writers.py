"""Writers on the embedded database say that they wait for the write lock, in this process
and in others, so that background work (the scoring drain) lets them go first: a webhook
waits for at most the batch holding the lock, however late the machine runs it (issue 14)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import sqlalchemy as sa

from crisis_ct.db import let_waiting_writers_go_first
from tests.conftest import REPO_ROOT

WRITE = "UPDATE operations SET name = name WHERE 0"
OTHER_PROCESS = ("import sys; import sqlalchemy as sa; from crisis_ct.db import Database; "
                 "s = Database(sys.argv[1]).sessionmaker(); s.execute(sa.text(sys.argv[2])); s.commit()")


def write(database) -> None:
    with database.session() as session:
        session.execute(sa.text(WRITE))


@contextmanager
def holding_the_write_lock(database):
    holder = database.sessionmaker()
    holder.execute(sa.text(WRITE))
    try:
        yield
    finally:
        holder.commit()
        holder.close()


def until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def nobody_waits(database) -> bool:
    """let_waiting_writers_go_first returns at once."""
    with database.session() as session:
        started = time.monotonic()
        let_waiting_writers_go_first(session, 3)
        return time.monotonic() - started < 1


def test_background_work_sees_writers_waiting_in_this_process_and_in_others(database):
    if database.dialect != "sqlite":  # PostgreSQL has no database-wide write lock to wait for
        assert nobody_waits(database)
        return
    from crisis_ct.db import _writer_locks

    lock = _writer_locks[database.engine]
    assert not lock.others_waiting() and nobody_waits(database)

    with holding_the_write_lock(database):
        webhook = threading.Thread(target=write, args=(database,))
        webhook.start()
        assert until(lock.others_waiting), "a thread waiting for the lock went unseen"
    webhook.join(timeout=30)
    assert not webhook.is_alive() and nobody_waits(database)

    with holding_the_write_lock(database):
        other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, database.url, WRITE],
                                 env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        assert until(lambda: lock.others_waiting() or other.poll() is not None)
        assert other.poll() is None, "the other process ended while the lock was held"
        assert lock.others_waiting(), "a process waiting for the lock went unseen"
    assert other.wait(timeout=60) == 0
    assert nobody_waits(database)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_an_engine_that_goes_closes_its_lock_files(tmp_path):
    # A process opening many engines (a test run: ~980 descriptors at the end) kept three
    # lock-file descriptors for every engine it ever opened.
    import gc

    from crisis_ct.db import Database, let_waiting_writers_go_first

    def use(database) -> None:
        with database.session() as session:
            session.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            session.execute(sa.text("INSERT INTO t VALUES (1)"))
            let_waiting_writers_go_first(session, 0)  # opens the files of the waiting signal

    before = open_descriptors()
    for _ in range(5):
        database = Database(f"sqlite:///{tmp_path / 'disposed.db'}")
        use(database)
        database.dispose()
    assert open_descriptors() == before

    for _ in range(5):
        use(Database(f"sqlite:///{tmp_path / 'dropped.db'}"))
    gc.collect()
    assert open_descriptors() == before

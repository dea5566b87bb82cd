"""A deadlock PostgreSQL breaks by aborting one of two transactions is run once more inside
the service, not answered "database unavailable" (issue 13, item 10)."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from crisis_ct.db import committed_retrying_once, is_retryable_conflict
from crisis_ct.geography.models import Operation


def _rename(session, code: str, suffix: str) -> None:
    session.execute(sa.update(Operation).where(Operation.code == code)
                    .values(name=Operation.name + suffix))


def test_a_real_deadlock_is_retried_once_and_both_transactions_commit(database, seed, backend):
    if backend != "postgis":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: it cannot deadlock")
    seed.operation("one")
    seed.operation("two")
    both_hold_their_first_row = threading.Barrier(2, timeout=30)
    attempts = {"forward": 0, "backward": 0}
    errors: list[BaseException] = []

    def lock_in_order(name: str, first: str, second: str) -> None:
        session = database.sessionmaker()
        # Detect the deadlock fast; the retry itself then waits for the winner's commit.
        session.execute(sa.text("SET deadlock_timeout = '100ms'"))
        session.commit()

        def work():
            attempts[name] += 1
            _rename(session, first, f" {name}")
            if attempts[name] == 1:
                both_hold_their_first_row.wait()
            _rename(session, second, f" {name}")

        try:
            committed_retrying_once(session, work)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=lock_in_order, args=("forward", "one", "two")),
               threading.Thread(target=lock_in_order, args=("backward", "two", "one"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(attempts.values()) == [1, 2]  # exactly one lost the deadlock and ran again
    with database.session() as session:
        names = dict(session.execute(sa.select(Operation.code, Operation.name)).all())
    for code in ("one", "two"):
        assert "forward" in names[code] and "backward" in names[code]


def test_a_deadlock_lost_twice_is_raised(database, seed, backend):
    """Only one retry: a conflict that comes back is the caller's (503) to report."""
    if backend != "postgis":
        pytest.skip("needs PostgreSQL's deadlock detection")
    session = database.sessionmaker()
    calls = []

    def always_deadlocks():
        calls.append(1)
        session.execute(sa.text("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected'; END $$"))

    with pytest.raises(sa.exc.DBAPIError) as raised:
        committed_retrying_once(session, always_deadlocks)
    session.close()
    assert is_retryable_conflict(raised.value)
    assert len(calls) == 2


def test_other_database_errors_are_not_retried(database, seed):
    seed.operation("one")
    session = database.sessionmaker()
    calls = []

    def duplicate():
        calls.append(1)
        session.add(Operation(code="one", name="again", country_iso3="XZZ"))
        session.flush()

    with pytest.raises(sa.exc.IntegrityError):
        committed_retrying_once(session, duplicate)
    session.close()
    assert len(calls) == 1


def test_work_is_committed(database, seed):
    seed.operation("one")
    session = database.sessionmaker()
    assert committed_retrying_once(session, lambda: _rename(session, "one", " renamed")) is None
    session.close()
    with database.session() as check:
        assert check.scalar(sa.select(Operation.name).where(Operation.code == "one")).endswith(" renamed")

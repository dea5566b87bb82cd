"""The drain re-scores admin areas in rounds of their own (issue 14: on SQLite a webhook
never waits behind an area roll-up): the results equal an immediate re-score, an
interrupted drain leaves the areas due and the next round scores them, a site batch
committed while a round reads keeps its areas due, an older read never overwrites a
newer result, and the round's long read takes no write lock."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from crisis_ct.db import read_only
from crisis_ct.geography.models import AdminArea
from crisis_ct.scoring import area_queue
from crisis_ct.scoring.area_scoring import read_due_areas, rescore_areas, store_due_areas
from crisis_ct.scoring.drain import drain_queue
from crisis_ct.scoring.models import AdminAreaRiskScore
from crisis_ct.timeutil import utcnow
from tests.support.concurrency import run_in_threads
from tests.support.kobo_world import SubmissionMaker, build_world, store_as_webhook as store

# The areas above S1 (XZ01 > XZ0101 > XZ010101) and S3 (XZ01 > XZ0102 > XZ010201).
ABOVE_S1_S3 = {"XZ01", "XZ0101", "XZ010101", "XZ0102", "XZ010201"}


@pytest.fixture
def world(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)


def drain(database, **kwargs):
    with database.session() as session:
        return drain_queue(session, **kwargs)


def stop_after_site_batches():
    """A should_stop that lets the site batches run and stops the drain before its final
    area round: the worker stopped (or killed) between its site batches and the areas."""
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    return should_stop


def current_areas(database) -> dict[str, tuple]:
    with database.session() as session:
        return {pcode: (phase, status, summary) for pcode, phase, status, summary in session.execute(
            sa.select(AdminArea.pcode, AdminAreaRiskScore.phase, AdminAreaRiskScore.status, AdminAreaRiskScore.summary)
            .join(AdminAreaRiskScore, AdminAreaRiskScore.admin_area_id == AdminArea.id)
            .where(AdminAreaRiskScore.is_current))}


def due_pcodes(database) -> set[str]:
    with database.session() as session:
        return {area.pcode for area in area_queue.due(session)}


def immediate(database, world, pcodes: set[str]) -> dict[str, tuple]:
    """What the areas read when re-scored at once, in one transaction (rolled back)."""
    with database.session() as session:
        rescore_areas(session, world.operation_id, pcodes)
        session.flush()
        rows = {pcode: (phase, status, summary) for pcode, phase, status, summary in session.execute(
            sa.select(AdminArea.pcode, AdminAreaRiskScore.phase, AdminAreaRiskScore.status, AdminAreaRiskScore.summary)
            .join(AdminAreaRiskScore, AdminAreaRiskScore.admin_area_id == AdminArea.id)
            .where(AdminAreaRiskScore.is_current, AdminArea.pcode.in_(sorted(pcodes))))}
        session.rollback()
    return rows


def test_after_a_drain_the_areas_read_as_an_immediate_rescore(database, world):
    maker = SubmissionMaker(3)
    store(database, *[maker.make(code, risk=0.6) for code in ("S1", "S3") for _ in range(3)])

    result = drain(database)

    assert result.rescored == 2 and result.areas == len(ABOVE_S1_S3)
    areas = current_areas(database)
    assert set(areas) == ABOVE_S1_S3
    assert areas == immediate(database, world, ABOVE_S1_S3)
    assert areas["XZ01"][2]["sites_assessed"] == 2
    assert due_pcodes(database) == set()


def test_an_interrupted_drain_leaves_its_areas_due_and_the_next_round_scores_them(database, world):
    maker = SubmissionMaker(5)
    store(database, *[maker.make(code, risk=0.6) for code in ("S1", "S3") for _ in range(3)])

    first = drain(database, should_stop=stop_after_site_batches())

    assert first.rescored == 2 and first.areas == 0
    assert current_areas(database) == {}, "the areas were scored although the drain stopped first"
    assert due_pcodes(database) == ABOVE_S1_S3
    # The next drain finds no site queued, and scores the areas all the same.
    second = drain(database)
    assert second.rescored == 0 and second.areas == len(ABOVE_S1_S3)
    assert current_areas(database) == immediate(database, world, ABOVE_S1_S3)
    assert due_pcodes(database) == set()


def score_s1_sites_only(database, maker, risk: float) -> None:
    """Three new interviews at S1, scored by a drain that stops before its area round."""
    store(database, *[maker.make("S1", risk=risk) for _ in range(3)])
    drain(database, should_stop=stop_after_site_batches())


def test_a_site_batch_committed_while_a_round_reads_keeps_its_areas_due(database, world):
    maker = SubmissionMaker(7)
    score_s1_sites_only(database, maker, risk=0.05)
    now = utcnow()
    with database.session() as reader:
        with read_only(reader):
            read_first = read_due_areas(reader, now)
        # Meanwhile a worker scores new, risky submissions for S1 and stops before its round.
        score_s1_sites_only(database, maker, risk=0.9)
        stored = store_due_areas(reader, read_first, now)
        reader.commit()

    assert stored == 3  # newer than nothing: stored, but not taken as the latest
    assert due_pcodes(database) == {"XZ01", "XZ0101", "XZ010101"}
    drain(database)
    assert current_areas(database) == immediate(database, world, {"XZ01", "XZ0101", "XZ010101"})
    assert current_areas(database)["XZ010101"][2]["sites_assessed"] == 1


def test_an_older_read_never_overwrites_a_newer_result(database, world):
    maker = SubmissionMaker(9)
    score_s1_sites_only(database, maker, risk=0.05)
    now = utcnow()
    with database.session() as slow:
        with read_only(slow):
            stale = read_due_areas(slow, now)
        store(database, *[maker.make("S1", risk=0.9) for _ in range(3)])
        drain(database)  # a faster drainer: sites and areas, from the newer data
        newest = current_areas(database)
        assert store_due_areas(slow, stale, now) == 0
        slow.commit()
    assert current_areas(database) == newest
    assert due_pcodes(database) == set()


def test_two_drainers_leave_the_areas_right_and_each_with_one_current_result(database, world):
    maker = SubmissionMaker(11)
    store(database, *[maker.make(code, risk=0.6) for code in ("S1", "S2", "S3", "S4") for _ in range(2)])
    _, errors = run_in_threads(lambda: drain(database, batch=1))
    assert errors == []
    every = {"XZ01", "XZ0101", "XZ010101", "XZ010102", "XZ0102", "XZ010201", "XZ02", "XZ0202", "XZ020202"}
    assert current_areas(database) == immediate(database, world, every)
    assert due_pcodes(database) == set()


def test_reading_the_areas_keeps_no_webhook_waiting(database, world):
    maker = SubmissionMaker(13)
    store(database, *[maker.make("S1") for _ in range(2)])
    drain(database, should_stop=stop_after_site_batches())
    with database.session() as reader, read_only(reader):
        assert read_due_areas(reader, utcnow())  # its read is open while the webhook stores
        started = time.monotonic()
        webhook = threading.Thread(target=store, args=(database, maker.make("S2")))
        webhook.start()
        webhook.join(timeout=20)
        waited = time.monotonic() - started
        assert not webhook.is_alive()
    assert waited < 5, f"the webhook waited {waited:.1f} s for the area round's read"

"""The scoring queue under concurrency (the review's failures, issue 14): a submission
stored during a drain is scored, two drainers neither collide nor score twice, a writer
waits for at most one batch, and a site that always fails is parked while the others
are scored."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.scoring import queue
from crisis_ct.scoring.drain import drain_queue
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.service import rescore_sites
from crisis_ct.timeutil import utcnow
from tests.support.concurrency import run_in_threads
from tests.support.kobo_world import SubmissionMaker, build_world, store_as_webhook as store


@pytest.fixture
def world(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)


def site_id(database, code: str) -> int:
    from crisis_ct.geography.models import Site

    with database.session() as session:
        return session.scalar(sa.select(Site.id).where(Site.site_code == code))


def current_score(database, site: int) -> SiteRiskScore | None:
    with database.session() as session:
        return session.scalar(sa.select(SiteRiskScore).where(SiteRiskScore.site_id == site, SiteRiskScore.is_current))


def queued(database) -> list[int]:
    with database.session() as session:
        return sorted(session.scalars(sa.select(queue.ScoringQueueEntry.site_id)))


def drain(database, **kwargs):
    with database.session() as session:
        return drain_queue(session, **kwargs)


def test_a_submission_stored_while_its_site_is_rescored_is_scored(database, world):
    maker = SubmissionMaker()
    store(database, maker.make("S1"), maker.make("S1"))
    late = maker.make("S1")
    stored_late = threading.Event()

    def rescore_and_meanwhile_store(session, site_ids, now):
        rescore_sites(session, site_ids, now=now)
        if not stored_late.is_set():
            stored_late.set()
            # Another connection (the webhook) stores a submission for the site being scored.
            # It may wait for this batch (PostgreSQL holds the queue row): give it a moment only.
            webhook = threading.Thread(target=store, args=(database, late))
            webhook.start()
            webhook.join(timeout=1.0)
            rescore_and_meanwhile_store.webhook = webhook

    drain(database, rescore=rescore_and_meanwhile_store)
    rescore_and_meanwhile_store.webhook.join(timeout=60)
    drain(database)  # the next round of the worker

    score = current_score(database, site_id(database, "S1"))
    assert score.explanation["n_ki"] == 3, "the submission stored during the drain was never scored"
    assert queued(database) == []


def test_two_drainers_at_once_neither_collide_nor_score_twice(database, world):
    maker = SubmissionMaker(3)
    store(database, *[maker.make(code) for code in ("S1", "S2", "S3", "S4") for _ in range(2)])
    both_inside = threading.Barrier(2)

    def rescore_side_by_side(session, site_ids, now):
        try:  # both drainers hold a batch at the same time, if the queue lets them
            both_inside.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        rescore_sites(session, site_ids, now=now)

    results, errors = run_in_threads(lambda: drain(database, batch=2, rescore=rescore_side_by_side))
    assert errors == []
    assert sum(result.rescored for result in results) == 4
    assert all(result.failures == [] for result in results)
    with database.session() as session:
        per_site = dict(session.execute(sa.select(SiteRiskScore.site_id, sa.func.count())
                                        .group_by(SiteRiskScore.site_id)).all())
    assert sorted(per_site.values()) == [1, 1, 1, 1], "a site was scored by both drainers"
    assert queued(database) == []


def test_a_writer_waits_for_one_batch_not_for_the_whole_drain(database, world):
    maker = SubmissionMaker(5)
    store(database, *[maker.make(code) for code in ("S1", "S2", "S3", "S4")])
    with database.session() as session:
        ids = sorted(session.scalars(sa.select(queue.ScoringQueueEntry.site_id)))
    batch_seconds = 0.6
    inside = threading.Event()
    batches: list[float] = []  # how long each batch re-scored (on a busy machine, more than batch_seconds)

    def slow_rescore(session, site_ids, now):
        begun = time.monotonic()
        inside.set()
        rescore_sites(session, site_ids, now=now)
        time.sleep(batch_seconds)
        batches.append(time.monotonic() - begun)

    drainer = threading.Thread(target=drain, args=(database,), kwargs={"batch": 1, "rescore": slow_rescore})
    drainer.start()
    inside.wait(timeout=60)
    time.sleep(batch_seconds / 2)  # inside the first batch
    started = time.monotonic()
    store(database, maker.make("S1"))  # a webhook
    waited = time.monotonic() - started
    drainer.join(timeout=60)
    assert len(batches) >= len(ids) >= 4
    # The rest of the first batch and the webhook's own transaction; a second batch would add
    # batch_seconds or more.
    assert waited < batches[0] + 0.4, (
        f"the webhook waited {waited:.2f} s; the drain's batches took {[round(b, 2) for b in batches]} s")


def test_a_site_that_always_fails_is_parked_and_the_others_are_scored(database, world):
    maker = SubmissionMaker(9)
    store(database, *[maker.make(code) for code in ("S1", "S2", "S3", "S4")])
    poison = site_id(database, "S2")

    def rescore_but_not_s2(session, site_ids, now):
        if poison in site_ids:
            raise ValueError("this site's answers cannot be scored")
        rescore_sites(session, site_ids, now=now)

    first = drain(database, rescore=rescore_but_not_s2)
    assert first.rescored == 3
    assert [(site, attempts) for site, attempts, _ in first.failures] == [(poison, 1)]
    for code in ("S1", "S3", "S4"):
        assert current_score(database, site_id(database, code)) is not None
    assert current_score(database, poison) is None

    # Its retry is not due yet: another round leaves it alone and does not fail again.
    assert drain(database, rescore=rescore_but_not_s2).failures == []
    for attempt in (2, 3):
        with database.session() as session:
            session.get(queue.ScoringQueueEntry, poison).retry_at = utcnow() - timedelta(seconds=1)
        assert [(s, a) for s, a, _ in drain(database, rescore=rescore_but_not_s2).failures] == [(poison, attempt)]

    with database.session() as session:
        state = queue.queue_state(session)
        entry = session.get(queue.ScoringQueueEntry, poison)
        assert state.parked_total == 1 and [p.site_id for p in state.parked] == [poison]
        assert "cannot be scored" in state.parked[0].last_error
        assert entry.retry_at > utcnow() + timedelta(minutes=30), "parked: retried later, with backoff"
    # New submissions for the other sites still go through while it is parked.
    store(database, maker.make("S1"))
    assert drain(database, rescore=rescore_but_not_s2).rescored == 1
    # Once the cause is gone, its retry scores it and removes it from the queue.
    with database.session() as session:
        session.get(queue.ScoringQueueEntry, poison).retry_at = utcnow() - timedelta(seconds=1)
    assert drain(database).rescored == 1
    assert current_score(database, poison) is not None and queued(database) == []


def test_queueing_a_site_again_moves_it_and_makes_it_due(database, world):
    maker = SubmissionMaker(11)
    store(database, maker.make("S1"))
    s1 = site_id(database, "S1")
    with database.session() as session:
        entry = session.get(queue.ScoringQueueEntry, s1)
        first_at = entry.enqueued_at
        entry.retry_at = utcnow() + timedelta(hours=1)
        entry.attempts = 1
    time.sleep(0.01)
    store(database, maker.make("S1"))
    with database.session() as session:
        entry = session.get(queue.ScoringQueueEntry, s1)
        assert entry.enqueued_at > first_at and entry.retry_at is None and entry.attempts == 1

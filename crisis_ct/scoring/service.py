"""Scoring against the database: load a site's key-informant interviews, score them
with the pure rules, keep every computation, roll sites up into admin areas, and
hand each new score to task generation. Incremental (one site) and full
(`score_all`) use the same functions, so they agree."""
from __future__ import annotations

import multiprocessing
import os
import signal
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.bulk import cyclic_gc_paused
from crisis_ct.db import is_postgres, json_dumps, refresh_statistics, transaction_lock
from crisis_ct.geography.models import Site
from crisis_ct.geography.site_areas import SiteWithAreas, operation_sites_with_areas, site_from_row, sites_and_areas
from crisis_ct.kobo.models import Submission
from crisis_ct.scoring import queue
from crisis_ct.scoring.area_scoring import mark_areas_changed, rescore_areas
from crisis_ct.scoring.catalogue import Catalogue
from crisis_ct.scoring.current import SCORING_LOCK, catalogue, mark_not_current  # noqa: F401 - imported from here
from crisis_ct.scoring.counted import counted_submissions, notes_from_rows, review_notes
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.rules import KiInterview, SiteScore, score_site
from crisis_ct.timeutil import utcnow

LEVELS = (1, 2, 3)
_ABSENT = object()


def interview_from_row(cat: Catalogue, submission_id: int, assessment_date: date, ki_sex: str | None,
                       answers: dict) -> KiInterview:
    # Look up the ~40 indicator questions (and their few follow-ups, which mitigation rules
    # read) rather than walk every stored answer (~60); the order of `values` does not matter.
    values = {}
    for names in (cat.indicator_id_by_name, cat.follow_up_id_by_name):
        for name, indicator_id in names.items():
            value = answers.get(name, _ABSENT)
            if value is not _ABSENT:
                values[indicator_id] = tuple(value) if isinstance(value, list) else value
    return KiInterview(submission_id, assessment_date, ki_sex, values)


def today() -> date:
    return utcnow().date()


# -- sites -------------------------------------------------------------------------------------

def _interviews_by_site(session: Session, where) -> dict[int, list[KiInterview]]:
    """Every counted interview matching `where` (counted.py: Kobo's review and deletions
    decide), grouped by site: one query for many sites."""
    cat = catalogue()
    interviews: dict[int, list[KiInterview]] = defaultdict(list)
    # Through the Core connection: plain column rows need none of the ORM's result machinery.
    rows = session.connection().execute(
        sa.select(Submission.site_id, Submission.id, Submission.assessment_date, Submission.ki_sex,
                  Submission.answers).where(where, counted_submissions()).execution_options(yield_per=5000))
    for site_id, submission_id, assessment_date, ki_sex, answers in rows:
        interviews[site_id].append(interview_from_row(cat, submission_id, assessment_date, ki_sex, answers))
    return interviews


class SitesToScore(NamedTuple):
    sites: list[SiteWithAreas]
    interviews: dict[int, list[KiInterview]]  # site id -> its counted interviews
    notes: dict[int, dict]  # site id -> its counted.review_notes


def _sites_to_score(session: Session, site_ids: Sequence[int]) -> SitesToScore:
    """These sites with their admin areas, counted interviews and review notes, from one
    query: a re-score of one site is a dozen round trips, and these were four of them.
    Whether a submission counts is asked of the database, in the words of
    `counted_submissions`."""
    cat = catalogue()
    sites: list[SiteWithAreas] = []
    interviews: dict[int, list[KiInterview]] = defaultdict(list)
    reviews = []
    for row in session.connection().execute(_sites_and_submissions(), {"site_ids": list(site_ids)}):
        if not sites or sites[-1].id != row.id:  # rows come in site order, a row per submission
            sites.append(site_from_row(row))
        if row.submission_id is None:
            continue  # a site without submissions
        if row.counted:
            interviews[row.id].append(interview_from_row(cat, row.submission_id, row.assessment_date, row.ki_sex,
                                                         row.answers))
        reviews.append((row.id, row.submission_id, row.validation_status, row.withdrawn_at))
    return SitesToScore(sites, interviews, notes_from_rows(reviews))


@cache
def _sites_and_submissions() -> sa.Select:
    # Built once (a re-score of one site is a few milliseconds: building it was a tenth).
    return (sites_and_areas()
            .add_columns(Submission.id.label("submission_id"), Submission.assessment_date, Submission.ki_sex,
                         Submission.answers, Submission.validation_status, Submission.withdrawn_at,
                         counted_submissions().label("counted"))
            .outerjoin(Submission, Submission.site_id == Site.id)
            .where(Site.id.in_(sa.bindparam("site_ids", expanding=True))).order_by(Submission.id))


class ScoredSite(NamedTuple):
    site_id: int
    score: SiteScore
    # explanation() as JSON, made once by whoever scored it (a worker process in a full
    # re-score); None when the row goes through INSERT, which serialises the dict itself.
    explanation_json: str | None
    # counted.review_notes for the site: interviews left out, interviews on hold.
    review: dict | None = None

    def explanation(self) -> dict:
        explanation = self.score.to_dict()
        if self.review:
            explanation["review"] = self.review
        return explanation

    def with_review(self, review: dict | None) -> "ScoredSite":
        if not review:
            return self
        reviewed = self._replace(review=review)
        return reviewed._replace(explanation_json=json_dumps(reviewed.explanation()))


def scored_site(site_id: int, score: SiteScore) -> ScoredSite:
    return ScoredSite(site_id, score, json_dumps(score.to_dict()))


def _store_site_scores(session: Session, scored: Sequence[tuple[SiteWithAreas, ScoredSite]],
                       now: datetime) -> list[int]:
    if not scored:
        return []
    mark_not_current(session, SiteRiskScore.__table__.c.site_id, [site.id for site, _ in scored])
    if is_postgres(session) and len(scored) > 1:
        return _copy_site_scores(session, scored, now)
    rows = [{
        "site_id": site.id, "operation_id": site.operation_id, "computed_at": now, "is_current": True,
        "phase": score.phase, "confidence": score.confidence, "assessment_date": score.assessment_date,
        "recency": score.recency, "catalogue_version": score.catalogue_version, "explanation": item.explanation(),
        "domain_phases": dict(score.domain_phases),
    } for site, item in scored for score in (item.score,)]
    # The table's Core insert: the ORM's bulk insert path cost more than the statement.
    scores = SiteRiskScore.__table__
    return list(session.scalars(sa.insert(scores).returning(scores.c.id, sort_by_parameter_order=True), rows))


_COPY_SITE_SCORES = ("COPY site_risk_scores (id, site_id, operation_id, computed_at, is_current, phase, confidence, "
                     "assessment_date, recency, catalogue_version, explanation, domain_phases) FROM STDIN")


def _copy_site_scores(session: Session, scored: Sequence[tuple[SiteWithAreas, ScoredSite]],
                      now: datetime) -> list[int]:
    """COPY the score rows in this transaction; ids drawn first, so task generation gets
    them without INSERT … RETURNING (thousands of rows x 11 parameters is slow to send and
    to prepare). The explanation goes as the JSON text its worker made."""
    ids = list(session.scalars(sa.text(
        "SELECT nextval(pg_get_serial_sequence('site_risk_scores', 'id')) FROM generate_series(1, :n)"),
        {"n": len(scored)}))
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(_COPY_SITE_SCORES) as copy:
        for id_, (site, item) in zip(ids, scored):
            score, explanation_json = item.score, item.explanation_json
            if explanation_json is None:
                explanation_json = json_dumps(item.explanation())
            copy.write_row((id_, site.id, site.operation_id, now, True, score.phase, score.confidence,
                            score.assessment_date, score.recency, score.catalogue_version, explanation_json,
                            json_dumps(dict(score.domain_phases))))
    return ids


def _generate_site_tasks(session: Session, scored: Sequence[tuple[SiteWithAreas, ScoredSite]],
                         score_ids: Sequence[int], now: datetime) -> None:
    from crisis_ct.tasks import service as tasks

    tasks.generate(session, [
        tasks.site_scoring(site_id=site.id, operation_id=site.operation_id, score=score, score_id=score_id,
                           site_type=site.site_type, now=now)
        for (site, (_, score, *_)), score_id in zip(scored, score_ids)],
        now=now, site_areas={site.id: site.areas for site, _ in scored})


def rescore_sites(session: Session, site_ids: Iterable[int], *, now: datetime | None = None,
                  areas_now: bool = True) -> int:
    """Re-score these sites and every admin area above them: in this transaction, or (not
    areas_now: the drain) later, the areas marked changed here (crisis_ct.scoring.area_scoring)."""
    now = now or utcnow()
    wanted = sorted(set(site_ids))
    sites, interviews, notes = _sites_to_score(session, wanted)
    cat = catalogue()
    scored = [(site, ScoredSite(site.id, score_site(cat, interviews[site.id], as_of=now.date()), None,
                                notes.get(site.id)))
              for site in sites if interviews.get(site.id)]
    # A site left with no counted interview (all withdrawn, not approved or moved away by
    # an edit) has no score any more: its last one must not stay current.
    mark_not_current(session, SiteRiskScore.__table__.c.site_id,
                      [site.id for site in sites if not interviews.get(site.id)])
    score_ids = _store_site_scores(session, scored, now)
    _generate_site_tasks(session, scored, score_ids, now)
    if not areas_now:
        mark_areas_changed(session, sites)
        return len(scored)
    by_operation: dict[int, set[str]] = defaultdict(set)
    for site in sites:
        by_operation[site.operation_id].update(site.pcodes)
    for operation_id, pcodes in by_operation.items():
        rescore_areas(session, operation_id, pcodes, now=now)
    return len(scored)


def sites_with_stale_recency(session: Session, as_of: date) -> list[int]:
    """Sites whose current score was computed in another recency class than today's
    (current -> ageing after current_days, -> expired after expired_days): their
    confidence, their place in area results and time-based task rules have moved."""
    settings = catalogue().settings
    ageing_from = as_of - timedelta(days=settings.current_days)
    expired_from = as_of - timedelta(days=settings.expired_days)
    assessed, stored = SiteRiskScore.assessment_date, SiteRiskScore.recency
    crossed = sa.or_(
        sa.and_(assessed < expired_from, sa.or_(stored.is_(None), stored != "expired")),
        sa.and_(assessed < ageing_from, assessed >= expired_from, sa.or_(stored.is_(None), stored != "ageing")),
        sa.and_(assessed >= ageing_from, sa.or_(stored.is_(None), stored != "current")))
    return sorted(session.scalars(sa.select(SiteRiskScore.site_id)
                                  .where(SiteRiskScore.is_current, assessed.is_not(None), crossed)))


def rescore_aged(session: Session, now: datetime | None = None) -> int:
    """What time changes, re-scored: every site whose recency class has changed since it
    was scored (its confidence, and for M30 its age), and the admin areas above them
    (expired sites drop out of area results). Run daily (the worker's scheduled job);
    returns how many sites were re-scored. Idempotent: a second run the same day finds
    nothing to do."""
    now = now or utcnow()
    stale = sites_with_stale_recency(session, now.date())
    for start in range(0, len(stale), 1000):
        rescore_sites(session, stale[start:start + 1000], now=now)
    return len(stale)


# -- queue and full re-score -----------------------------------------------------------------

def process_queue(session: Session, *, batch: int | None = None) -> int:
    """Re-score every due queued site, committing batch by batch (crisis_ct.scoring.drain);
    returns how many sites were re-scored."""
    from crisis_ct.scoring.drain import drain_queue

    return drain_queue(session, batch=batch).rescored


# A full re-score of at least this many sites on PostgreSQL reads and scores its sites in
# worker processes (the pure part: ~60% of the time) while this process stores scores and
# generates tasks. SQLite stays in one process: an in-memory database is not shareable.
PARALLEL_MIN_SITES = 2000
_WORKER_CHUNK = 500
# What a full re-score writes in bulk (tens of thousands of rows each): their statistics
# are refreshed at its end.
BULK_WRITTEN_TABLES = ("site_risk_scores", "admin_area_risk_scores", "mitigation_tasks", "mitigation_task_sites")


def _site_chunks_scored(session: Session, operation_id: int, as_of: date, chunk: int,
                        parallel: bool) -> Iterator[list[ScoredSite]]:
    """The operation's sites scored, chunk by chunk, in site id order."""
    cat = catalogue()
    workers = scoring_workers()
    if parallel and is_postgres(session) and workers > 1:
        site_ids = sorted(session.scalars(sa.select(Submission.site_id).distinct()
                                          .where(Submission.operation_id == operation_id, counted_submissions())))
        if len(site_ids) >= PARALLEL_MIN_SITES:
            yield from _scored_in_workers(session, operation_id, site_ids, as_of, workers, chunk)
            return
    interviews = _interviews_by_site(session, Submission.operation_id == operation_id)
    site_ids = sorted(interviews)
    for start in range(0, len(site_ids), chunk):
        yield [scored_site(site_id, score_site(cat, interviews.pop(site_id), as_of=as_of))
               for site_id in site_ids[start:start + chunk]]


def _scored_in_workers(session: Session, operation_id: int, site_ids: list[int], as_of: date, workers: int,
                       chunk: int) -> Iterator[list[ScoredSite]]:
    url = session.get_bind().url.render_as_string(hide_password=False)
    jobs = [(url, operation_id, site_ids[start:start + _WORKER_CHUNK], as_of)
            for start in range(0, len(site_ids), _WORKER_CHUNK)]
    # fork: workers inherit the loaded catalogues; they open their own connections and never
    # touch this process's (a forked worker ends with os._exit, so nothing inherited is closed).
    with multiprocessing.get_context("fork").Pool(workers, initializer=_default_signals) as pool:
        batch: list[ScoredSite] = []
        for scored in pool.imap(_score_sites_job, jobs):
            batch.extend(scored)
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch


def _default_signals() -> None:
    # A worker forked from `crisis-ct worker` inherits its SIGTERM handler, which only asks the
    # loop to stop: the pool's terminate() (on leaving it, or on an error) would then wait
    # forever for a worker that never exits. Pool workers die on SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


_worker_database = None


def scoring_workers() -> int:
    """Worker processes of a parallel full re-score: one per core, at most 4."""
    return min(os.cpu_count() or 1, 4)


def _score_sites_job(job) -> list[ScoredSite]:
    """In a worker process: read these sites' interviews, score them and make their
    explanation JSON (work the parent, which also generates tasks, would otherwise do)."""
    global _worker_database
    url, operation_id, site_ids, as_of = job
    if _worker_database is None:
        from crisis_ct.db import Database

        _worker_database = Database(url)
    cat = catalogue()
    with cyclic_gc_paused(), _worker_database.session() as session:
        interviews = _interviews_by_site(session, sa.and_(Submission.operation_id == operation_id,
                                                          Submission.site_id.in_(site_ids)))
        return [scored_site(site_id, score_site(cat, interviews[site_id], as_of=as_of)) for site_id in site_ids]


def score_all(session: Session, operation_id: int, *, progress: Callable[[int], None] | None = None,
              now: datetime | None = None, chunk: int = 2000, parallel: bool = False) -> int:
    """Recompute every site and area of an operation from the stored submissions.

    `parallel` scores in worker processes on PostgreSQL; the workers read through their
    own connections, so they see only committed submissions: use it when the caller's
    transaction has not written any (the CLI)."""
    now = now or utcnow()
    # Before anything is read: drainers take this lock before their queue rows too.
    transaction_lock(session, SCORING_LOCK)
    with cyclic_gc_paused():
        sites = {site.id: site for site in operation_sites_with_areas(session, operation_id)}
        site_ids: list[int] = []
        notes = review_notes(session, Submission.operation_id == operation_id)
        for chunk_scored in _site_chunks_scored(session, operation_id, now.date(), chunk, parallel):
            site_ids.extend(item.site_id for item in chunk_scored)
            scored = [(sites[item.site_id], item.with_review(notes.get(item.site_id))) for item in chunk_scored]
            score_ids = _store_site_scores(session, scored, now)
            _generate_site_tasks(session, scored, score_ids, now)
            if progress:
                progress(len(scored))
        mark_not_current(session, SiteRiskScore.__table__.c.site_id, sorted(set(sites) - set(site_ids)))
        rescore_areas(session, operation_id, None, now=now)
        queue.dequeue(session, site_ids, enqueued_before=now)
    # The next re-score of one site reads these tables by index; with the statistics they had
    # before this bulk write (an empty mitigation_task_sites, say) the planner scanned
    # mitigation_tasks instead, 40 times slower, until autovacuum's ANALYZE came round.
    refresh_statistics(session, BULK_WRITTEN_TABLES)
    return len(site_ids)

"""Which stored submissions count in scores, and the note a score keeps about the others.

Kobo's review decides: an interview a coordinator marked *not approved* in Kobo no longer
counts, one deleted in Kobo is withdrawn (kept with its history, not counted), and one
*on hold* still counts but the explanation flags it. This is the one place the scoring
read path filters submissions (service._interviews_by_site applies `counted_submissions`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.kobo.models import REVIEWED_WHERE, Submission

APPROVED = "validation_status_approved"
NOT_APPROVED = "validation_status_not_approved"
ON_HOLD = "validation_status_on_hold"
VALIDATION_STATUSES = (APPROVED, NOT_APPROVED, ON_HOLD)


def counted_submissions():
    """SQL condition on Submission: the interviews scores are computed from."""
    return sa.and_(Submission.withdrawn_at.is_(None),
                   sa.or_(Submission.validation_status.is_(None), Submission.validation_status != NOT_APPROVED))


def is_counted(validation_status: str | None, withdrawn_at) -> bool:
    """`counted_submissions` for one submission already read."""
    return withdrawn_at is None and validation_status != NOT_APPROVED


def review_notes(session: Session, where) -> dict[int, dict]:
    """Per site (of the submissions matching `where`): how many interviews were left out
    and why, and which counted ones are on hold. Sites with nothing to say are absent."""
    return notes_from_rows(session.execute(
        sa.select(Submission.site_id, Submission.id, Submission.validation_status, Submission.withdrawn_at)
        .where(where, sa.text(f"({REVIEWED_WHERE})")).order_by(Submission.id)))


def notes_from_rows(rows: Iterable[tuple[int, int, str | None, datetime | None]]) -> dict[int, dict]:
    """`review_notes` from (site id, submission id, validation status, withdrawn at) rows
    already read, in submission id order; rows of submissions nobody reviewed add nothing."""
    notes: dict[int, dict] = defaultdict(lambda: {"left_out": {"not_approved": 0, "withdrawn": 0},
                                                  "on_hold": []})
    for site_id, submission_id, status, withdrawn_at in rows:
        if withdrawn_at is None and status not in (NOT_APPROVED, ON_HOLD):
            continue  # approved or not reviewed: nothing to say
        note = notes[site_id]
        if withdrawn_at is not None:
            note["left_out"]["withdrawn"] += 1
        elif status == NOT_APPROVED:
            note["left_out"]["not_approved"] += 1
        elif status == ON_HOLD:
            note["on_hold"].append(submission_id)
    return {site_id: _with_text(note) for site_id, note in notes.items()}


def _with_text(note: dict) -> dict:
    left = note["left_out"]
    parts = []
    if left["not_approved"]:
        parts.append(f"{left['not_approved']} marked not approved in Kobo")
    if left["withdrawn"]:
        parts.append(f"{left['withdrawn']} deleted in Kobo (withdrawn)")
    note["left_out"]["total"] = left["not_approved"] + left["withdrawn"]
    note["summary"] = "; ".join(filter(None, [
        f"{note['left_out']['total']} interview(s) left out: " + ", ".join(parts) if parts else "",
        f"{len(note['on_hold'])} counted interview(s) on hold in Kobo" if note["on_hold"] else ""]))
    return note

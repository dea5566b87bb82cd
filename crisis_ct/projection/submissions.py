"""A stored or quarantined submission as each audience sees it: its metadata (dates, site,
key-informant role category, how it arrived) for coordinators and admins of its operation,
nothing for anyone else. No answer is ever part of it (the answers feed the scores only)."""
from __future__ import annotations

from typing import Mapping

from crisis_ct.accounts.principal import Principal

SUBMISSION_ROLE = "coordinator"
# Never shown, even to coordinators, through a listing (raw Kobo data can name people).
WITHHELD_KEYS = frozenset({"raw", "answers", "payload"})


def sees_submissions(principal: Principal, operation_id: int) -> bool:
    return principal.has_role(operation_id, SUBMISSION_ROLE)


def submission(principal: Principal, operation_id: int, item: Mapping) -> dict | None:
    """The submission (or quarantine entry) as the principal may see it; None: not at all."""
    if not sees_submissions(principal, operation_id):
        return None
    return {key: value for key, value in item.items() if key not in WITHHELD_KEYS}

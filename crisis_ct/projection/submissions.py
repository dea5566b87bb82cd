"""A stored or quarantined submission as each audience sees it: its metadata (dates, site,
key-informant role category, how it arrived) for coordinators and admins of its operation,
nothing for anyone else. No answer is part of a listing (the answers feed the scores); the
submissions export alone carries answers, to coordinators and admins (exported_answers)."""
from __future__ import annotations

from typing import Mapping

from crisis_ct.accounts.principal import Principal
from crisis_ct.projection.sites import hides_indicator

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


SUPPRESSED = "suppressed"


def exported_answers(principal: Principal, operation_id: int, answers: Mapping[str, object], *,
                     households: int | None, domain_of) -> dict | None:
    """A submission's key-informant answers (indicator id -> answer) in an export: for
    coordinators and admins only — never experts, never viewers — and under the small-site
    rule (crisis_ct.projection.sites.hides_indicator), which holds for everyone: at a site
    under 20 households an exploitation answer reads "suppressed"."""
    if not sees_submissions(principal, operation_id):
        return None
    return {indicator_id: SUPPRESSED if hides_indicator(households, domain_of(indicator_id)) else value
            for indicator_id, value in answers.items()}

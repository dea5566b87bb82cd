"""English and French labels for the task board, the site and area pages and the
dashboard: task statuses and actions, key-informant role categories, the scoring rules
that can set a site's phase, and the mitigation catalogue's own bilingual names."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from flask import Flask
from flask_babel import format_datetime, format_timedelta, get_locale, lazy_gettext as _l

from crisis_ct.timeutil import as_utc

TASK_STATUS_LABELS = {
    "open": _l("Open"),
    "claimed": _l("Claimed"),
    "in_progress": _l("In progress"),
    "done": _l("Done, awaiting verification"),
    "verified": _l("Verified"),
    "cancelled": _l("Cancelled"),
}

# What a button says; the same words head the action's confirmation page.
TASK_ACTION_LABELS = {
    "claim": _l("Claim"),
    "renew": _l("Renew claim"),
    "progress": _l("Report progress"),
    "complete": _l("Mark done"),
    "release": _l("Release"),
    "assign": _l("Assign"),
    "verify": _l("Verify"),
    "reject": _l("Reject"),
    "cancel": _l("Cancel task"),
}

# What the task history says happened (crisis_ct.tasks.states.RECORDED_AS and the generator's events).
TASK_HISTORY_LABELS = {
    "created": _l("Created"),
    "claimed": _l("Claimed"),
    "assigned": _l("Assigned"),
    "renewed": _l("Claim renewed"),
    "progressed": _l("Progress reported"),
    "completed": _l("Marked done"),
    "released": _l("Released"),
    "expired": _l("Claim expired"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
    "escalated": _l("Priority raised"),
    "flagged_for_review": _l("Flagged for review"),
    "review_cleared": _l("Review flag cleared"),
    "sites_changed": _l("Sites added or removed"),
}

# Role categories only (forms/form_frame.yaml, list ki_role): never a person.
KI_ROLE_LABELS = {
    "site_manager": _l("Site manager"),
    "women_rep": _l("Women's representative"),
    "youth_rep": _l("Youth representative"),
    "cp_gbv_focal": _l("Child protection / GBV focal point"),
    "community_leader": _l("Community leader"),
    "other": _l("Other role"),
}

# A person's role in an operation (crisis_ct.accounts.models.ROLES).
USER_ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "expert": _l("Expert"),
    "viewer": _l("Viewer"),
    "submitter": _l("Kobo submitter"),
}

# The rules of crisis_ct.scoring.rules that can set or bound a site's phase.
SCORING_RULE_LABELS = {
    "single_domain": _l("Only one domain had answers: the phase rests on that domain alone."),
    "two_domains_at_p": _l("At least two domains reached this phase."),
    "critical_floor_4": _l("A critical exploitation signal was reported: the phase is at least 4."),
    "phase5_capped": _l("Phase 5 needs two confirmed critical signals and no referral pathway: capped at 4."),
    "phase5_critical_no_referral": _l("Two critical signals confirmed by several informants and no referral "
                                      "pathway: phase 5."),
    "phase5_blocked_referral_present": _l("Two critical signals confirmed, but a referral pathway exists: "
                                          "not phase 5."),
    "phase5_blocked_referral_unknown": _l("Two critical signals confirmed, but whether a referral pathway "
                                          "exists is unknown: not phase 5."),
    "previous_round_kept": _l("The newest interviews are too few to stand alone as a round: the previous "
                              "round's answers still count."),
}


def _label(table: Mapping, code: str | None) -> str:
    if not code:
        return "—"
    return str(table.get(code, code))


def task_status_label(code: str | None) -> str:
    return _label(TASK_STATUS_LABELS, code)


def task_action_label(code: str | None) -> str:
    return _label(TASK_ACTION_LABELS, code)


def task_history_label(code: str | None) -> str:
    return _label(TASK_HISTORY_LABELS, code)


def ki_role_label(code: str | None) -> str:
    return _label(KI_ROLE_LABELS, code)


def user_role_label(code: str | None) -> str:
    return _label(USER_ROLE_LABELS, code)


def scoring_rule_label(code: str | None) -> str:
    return _label(SCORING_RULE_LABELS, code)


def page_language() -> str:
    return str(get_locale() or "en")


def in_language(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """One text of an {en, fr} mapping (task titles, indicator names), English as fallback."""
    if not texts:
        return "—"
    language = language or page_language()
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "—")


def _mitigation_catalogue():
    from crisis_ct.tasks.service import catalogues

    return catalogues()[0]


def priority_label(code: str | None) -> str:
    """'P1 Critical' / 'P1 Critique': the code stays, as people say it aloud."""
    if not code:
        return "—"
    priority = _mitigation_catalogue().priorities.get(code)
    return f"{code} {priority.name.get(page_language())}" if priority else code


def service_type_label(code: str | None) -> str:
    """A service type of forms/service_types.yaml (the referral directory) in the page's language."""
    from crisis_ct.referral.service_types import service_types

    return service_types().label(code, page_language()) if code else "—"


def expertise_label(code: str | None) -> str:
    if not code:
        return "—"
    text = _mitigation_catalogue().expertise.get(code)
    return text.get(page_language()) if text else code


def time_left(until: datetime | None, now: datetime) -> str:
    """'in 2 days' style, in the page's language; '—' when nothing is held."""
    if until is None:
        return "—"
    remaining = max(until - now, timedelta(0))
    return format_timedelta(remaining, granularity="minute", threshold=0.9, add_direction=True)


def claim_time_left(claim: Mapping | None, now: datetime) -> str:
    """How long a claim of the task JSON still holds."""
    if not claim or not claim.get("expires_at"):
        return "—"
    return time_left(as_utc(datetime.fromisoformat(claim["expires_at"])), now)


def format_iso_datetime(value: str | None, style: str = "short") -> str:
    """An ISO timestamp from the task JSON, in the page's locale and time zone."""
    if not value:
        return "—"
    return format_datetime(as_utc(datetime.fromisoformat(value)), style)


def init_labels(app: Flask) -> None:
    app.jinja_env.globals.update(
        task_status_label=task_status_label,
        task_action_label=task_action_label,
        task_history_label=task_history_label,
        ki_role_label=ki_role_label,
        user_role_label=user_role_label,
        scoring_rule_label=scoring_rule_label,
        in_language=in_language,
        priority_label=priority_label,
        expertise_label=expertise_label,
        service_type_label=service_type_label,
        claim_time_left=claim_time_left,
        format_iso_datetime=format_iso_datetime,
    )

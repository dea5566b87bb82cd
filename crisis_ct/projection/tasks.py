"""A mitigation task, its evidence and its history as each audience sees them.

Experts and above see the whole task. Partners (viewers) see only area-level tasks of areas
with at least 3 assessed sites (the same threshold as the area's phase; the query side is
crisis_ct.tasks.queries.partner_task_condition), and of those only what an admin-level result
may say: what is to be done where, how urgent, its state, and that it is held and until when
— not the evidence (indicator answers), not who holds it or acted on it, not the comments.
Everyone sees a small site's task evidence under the small-site rule (projection.sites)."""
from __future__ import annotations

from typing import Mapping, Sequence

from crisis_ct.accounts.principal import Principal
from crisis_ct.projection.counts import MIN_SHOWN
from crisis_ct.projection.sites import DomainOf, hides_indicator
from crisis_ct.tasks.history import GENERATOR

PARTNER_FIELDS = ("id", "rule_id", "title", "description", "sector", "priority", "status", "scope", "pcode",
                  "expertise", "due_at", "overdue", "created_at", "updated_at", "operation")
PARTNER_CLAIM_FIELDS = ("claimed_at", "expires_at", "seconds_left")
PARTNER_HISTORY_FIELDS = ("at", "action", "from_status", "to_status")
# Evidence that names no indicator answer; anything else is an indicator's (or unknown) and
# falls under the small-site rule.
PLACE_LEVEL_EVIDENCE = frozenset({"domain", "site_phase", "area_phase", "hotspot", "confidence", "age_days",
                                  "site_type"})
AREA_SCOPE = "admin_area"  # MitigationTask.scope of an area task
SYSTEM_ACTORS = frozenset({GENERATOR.label})  # actors partners may see: no person


def sees_everything(principal: Principal, operation_code: str) -> bool:
    return principal.sees_task_holders(operation_code)


def partner_may_see(scope: str, area_sites_assessed: int | None) -> bool:
    """Whether partners see a task at all: an area task where the area's phase is shown."""
    return scope == AREA_SCOPE and (area_sites_assessed or 0) >= MIN_SHOWN


def task(principal: Principal, item: Mapping) -> dict:
    """The task JSON (crisis_ct.tasks.queries.task_json, with or without history) as the
    principal may see it. Whether a partner may see the task at all is decided before."""
    if sees_everything(principal, item["operation"]):
        return dict(item)
    shown = {key: item.get(key) for key in PARTNER_FIELDS}
    claim = item.get("claim")
    shown["claim"] = None if not claim else {"holder": None, **{k: claim.get(k) for k in PARTNER_CLAIM_FIELDS}}
    if "history" in item:
        shown["history"] = [history_entry(principal, item["operation"], entry) for entry in item["history"]]
    return shown


def history_entry(principal: Principal, operation_code: str, entry: Mapping) -> dict:
    """One event of a task's history: partners see what happened and when, not who did it or
    what they wrote (a comment is one colleague's note to another)."""
    if sees_everything(principal, operation_code):
        return dict(entry)
    shown = {key: entry.get(key) for key in PARTNER_HISTORY_FIELDS}
    shown["actor"] = entry.get("actor") if entry.get("actor") in SYSTEM_ACTORS else None
    shown["comment"] = None
    return shown


def evidence(items: Sequence[Mapping] | None, *, households: int | None, site_scope: bool,
             domain_of: DomainOf) -> list[dict]:
    """A task's evidence for anyone: at a small site, indicator answers of the hidden domains
    leave (their domain's phase, if it is evidence, stays)."""
    if not items:
        return []
    if not site_scope:
        return [dict(item) for item in items]
    return [dict(item) for item in items
            if item.get("kind") in PLACE_LEVEL_EVIDENCE or not hides_indicator(households, domain_of(item.get("id")))]

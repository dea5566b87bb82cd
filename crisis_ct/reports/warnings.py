"""Early warning for one reader over one scope: the pure findings of
crisis_ct.reports.early_warning on the stored history, shown through
crisis_ct.projection.reports (partners: area rises between phases they could see, nothing
site-level)."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.projection import reports as report_projection
from crisis_ct.reports import early_warning, reads, scope as scopes
from crisis_ct.reports.history import ScorePoint, window_start
from crisis_ct.reports.scope import Scope
from crisis_ct.scoring.service import catalogue


def _names(area) -> dict:
    return {"en": area.name("en"), "fr": area.name("fr")}


def early_warning_for(session: Session, principal: Principal, scope: Scope, now: datetime, *,
                      days: int = early_warning.WINDOW_DAYS,
                      horizon_days: int = early_warning.EXPIRY_HORIZON_DAYS) -> dict:
    """{site_level, area_rises, site_rises, expiring_areas}; the last two None for a reader
    who may not see them."""
    since = window_start(now, days)
    operation_id = scope.operation_id
    areas = scope.by_id()

    def shown_phase(area_id: int):
        return lambda point: report_projection.area_phase(principal, operation_id, areas[area_id].level,
                                                          point.detail)

    area_rises = []
    for area_id, points in reads.area_histories(session, scope, [since]).items():
        for rise in early_warning.area_rises({area_id: points}, now, days=days, phase_of=shown_phase(area_id)):
            area = areas[area_id]
            area_rises.append({"pcode": area.pcode, "level": area.level, "name": _names(area),
                               "phase_before": rise.phase_before, "phase_after": rise.phase_after,
                               "computed_before": _iso(rise.before), "computed_at": _iso(rise.after)})
    area_rises.sort(key=lambda item: (item["phase_before"] - item["phase_after"], item["level"], item["pcode"]))
    result = {"site_level": report_projection.sees_site_warnings(principal, operation_id), "window_days": days,
              "since": since.isoformat(), "area_rises": area_rises, "site_rises": None, "expiring_areas": None}
    if not result["site_level"]:
        return result
    sites = reads.current_sites(session, scope)
    by_id = {item.site.site_id: item for item in sites}
    result["site_rises"] = [{
        "site_id": by_id[rise.place].site_code, "name": by_id[rise.place].name,
        "pcode": by_id[rise.place].site.pcodes[-1] if by_id[rise.place].site.pcodes else None,
        "phase_before": rise.phase_before, "phase_after": rise.phase_after,
        "computed_before": _iso(rise.before), "computed_at": _iso(rise.after),
        "assessment_date": _date(rise.after.detail.get("assessment_date")),
    } for rise in early_warning.site_rises(reads.site_histories(session, scope, [since]), now, days=days)
        if rise.place in by_id]
    in_scope = {area.pcode: area for area in scope.areas}
    expiring = early_warning.expiring_areas(catalogue().settings, [item.site for item in sites], now.date(),
                                            horizon_days=horizon_days)
    result["expiring_areas"] = [{
        "pcode": item.pcode, "level": in_scope[item.pcode].level, "name": _names(in_scope[item.pcode]),
        "sites_expiring": item.sites_expiring, "first_expiry": item.first_expiry.isoformat(),
        "status_now": item.now.status, "phase_now": item.now.phase,
        "status_after": item.after.status, "phase_after": item.after.phase,
        "loses_classification": item.loses_classification,
    } for item in expiring if item.pcode in in_scope]
    result["horizon_days"] = horizon_days
    return result


def _iso(point: ScorePoint) -> str:
    return point.computed_at.isoformat()


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


def operation_warnings(session: Session, principal: Principal, operation_ids: Sequence[int],
                       now: datetime) -> list[dict]:
    """Early warning over each whole operation (the dashboard), with the operation's code."""
    return [{"operation": principal.operation_codes.get(operation_id),
             **early_warning_for(session, principal, scopes.resolve(session, operation_id, None), now)}
            for operation_id in operation_ids]

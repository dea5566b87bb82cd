"""The referral directory on the site, task and dashboard pages (issue 17): what each page
adds, for the people who may read the directory (experts and coordinators of the operation)."""
from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.geography.models import Site
from crisis_ct.referral import coverage, places
from crisis_ct.referral.service_types import service_types
from crisis_ct.tasks.models import MitigationTask
from crisis_ct.tasks.service import catalogues
from crisis_ct.tasks.states import FINAL_STATES


def site_referral(session: Session, site: Site, tasks: list[dict]) -> dict:
    """Providers of the types the site's open tasks need, covering it, nearest first; and the
    awareness flag (SVC_REFERRAL = no while case management covers the site)."""
    needed = tuple(dict.fromkeys(code for task in tasks if task.get("status") not in FINAL_STATES
                                 for code in places.rule_service_types(task["rule_id"])))
    lon, lat = places.site_point(session, site)
    chain = coverage.place_chain(site.adm1_pcode, site.adm2_pcode, site.adm3_pcode)
    return {"providers": places.providers_for(session, site.operation_id, chain, needed, lon, lat),
            "service_types": needed, "awareness": places.site_awareness_flag(session, site),
            "card_pcode": site.adm2_pcode or site.adm1_pcode or site.adm3_pcode}


def task_referral(session: Session, principal: Principal, task: MitigationTask) -> dict | None:
    """None for whoever may not read the directory in the task's operation (viewers)."""
    if not principal.has_role(task.operation_id, "expert"):
        return None
    return places.task_referral(session, task, places.rule_service_types(task.rule_id))


def dashboard_referral(session: Session, principal: Principal, language: str, today: date) -> dict:
    """Coverage gaps for experts and coordinators; providers to re-verify for coordinators."""
    expert_ops = principal.operation_ids("expert")
    if not expert_ops:
        return {}
    rule_types = {rule.id: rule.service_types for rule in catalogues()[0].rules}
    coordinator_ops = principal.operation_ids("coordinator")
    types = service_types()
    return {"gaps": places.coverage_gap_rows(session, expert_ops, rule_types, language),
            "stale": places.stale_providers(session, coordinator_ops, today, types.stale_after_days)
            if coordinator_ops else [],
            "stale_days": types.stale_after_days, "is_coordinator": bool(coordinator_ops)}


def service_point_layer_config() -> dict:
    """What js/service-points.js needs to draw the directory's service points on the risk map."""
    types = service_types()
    from crisis_ct.web.labels import page_language

    language = page_language()
    return {"url": url_for("referral.service_points"), "directoryUrl": url_for("web.service_providers"),
            "labels": {"layer": _("Service points (referral directory)"), "phone": _("Office phone"),
                       "hours": _("Opening hours"), "directory": _("Referral directory"),
                       "types": {code: service_type.label.get(language) for code, service_type in types.types.items()}}}

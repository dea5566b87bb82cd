"""The main navigation: a link appears only once its page exists and the person's
role lets them open it, so no link ever leads to a stub or a 403."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from crisis_ct.accounts.principal import Principal
from crisis_ct.web.access import may_open


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: object  # a lazy translated string
    min_role: str


# After "Map" (always shown). Tasks and Dashboard are built in part 2 under these endpoints.
NAV_LINKS = (
    NavLink("web.tasks", _l("Tasks"), "viewer"),
    NavLink("web.my_page", _l("My tasks"), "expert"),
    NavLink("web.dashboard", _l("Dashboard"), "viewer"),
    NavLink("web.service_providers", _l("Referral directory"), "expert"),
    NavLink("web.people_list", _l("People"), "coordinator"),
    NavLink("web.audit_log", _l("Audit log"), "coordinator"),
    NavLink("web.operations_page", _l("Operations"), "admin"),
)


def nav_links(principal: Principal | None) -> list[dict]:
    return [
        {"endpoint": link.endpoint, "url": url_for(link.endpoint), "label": str(link.label)}
        for link in NAV_LINKS
        if link.endpoint in current_app.view_functions and may_open(principal, link.min_role)
    ]

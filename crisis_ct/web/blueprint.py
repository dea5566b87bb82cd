"""The `web` blueprint object, apart from its views so every view module can import it.

Its name must stay "web": crisis_ct.errors answers HTML (not JSON) errors for it.
"""
from __future__ import annotations

from flask import Blueprint
from flask_babel import get_locale

from crisis_ct.web.error_pages import register_web_error_pages
from crisis_ct.web.security import protect_web_forms

blueprint = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    # Not /static: the app's own static route would shadow it if a folder appeared.
    static_url_path="/assets",
)
blueprint.before_request(protect_web_forms)
register_web_error_pages(blueprint)


@blueprint.context_processor
def _page_context() -> dict:
    from crisis_ct.accounts.auth import current_principal
    from crisis_ct.web.navigation import nav_links

    principal = current_principal()
    return {
        "principal": principal,
        "unread_notifications": _unread_notifications(principal),
        "nav_links": nav_links(principal),
        "current_language": str(get_locale() or "en"),
    }


def _unread_notifications(principal) -> int:
    """The bell's count: one indexed count per page for a signed-in person."""
    if principal is None:
        return 0
    from crisis_ct.notifications.store import unread_count
    from crisis_ct.web_db import db_session

    return unread_count(db_session(), principal.user_id)

"""Who may open a page: signed in (else to /login?next=…) and holding a role at least
`min_role` in some operation (else an HTML 403). Which operation's data a page shows
is then `principal.operation_ids(min_role)`, exactly as the API scopes it."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for

from crisis_ct.accounts.auth import current_principal
from crisis_ct.accounts.models import ROLE_RANK
from crisis_ct.accounts.principal import Principal


def _here() -> str:
    """The current path and query, for coming back after login."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def page_requires(min_role: str = "viewer"):
    if min_role not in ROLE_RANK:
        raise ValueError(min_role)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                return redirect(url_for("web.login", next=_here()))
            if principal.highest_rank() < ROLE_RANK[min_role]:
                abort(403)
            g.page_principal = principal
            return view(*args, **kwargs)

        wrapper.required_role = min_role
        return wrapper

    return decorate


def page_principal() -> Principal:
    """The principal a `page_requires` view runs for."""
    return g.page_principal


def may_open(principal: Principal | None, min_role: str) -> bool:
    """For the navigation: show a link only to people the page would not refuse."""
    return principal is not None and principal.highest_rank() >= ROLE_RANK[min_role]

"""Authentication for HTTP requests: Bearer tokens (and Basic, for Kobo's REST
Services), or the web session. Handlers declare the least role they need."""
from __future__ import annotations

import base64
import binascii
import time
from datetime import timedelta
from functools import wraps
from threading import Lock
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from flask import current_app, g, request, session
from sqlalchemy import event
from sqlalchemy.orm import Session

from crisis_ct.accounts import login_throttle, web_sessions
from crisis_ct.accounts.models import ROLE_RANK, ApiToken, Membership, User
from crisis_ct.accounts.operations import hash_token
from crisis_ct.accounts.principal import Principal
from crisis_ct.errors import ApiError
from crisis_ct.geography.models import Operation
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import db_session, on_warm_up

# A token's principal is kept for a few seconds, so a busy webhook (one request per
# submission) does not read the token and its memberships on every request. Any change to
# tokens, users or memberships made through this process clears the cache at once; one made
# by another process (another worker, the CLI) takes effect within this many seconds.
PRINCIPAL_TTL_S = 5.0
_principals: "WeakKeyDictionary[sa.Engine, dict[str, tuple[float, Principal]]]" = WeakKeyDictionary()
_principals_lock = Lock()
_ACCOUNT_MODELS = (ApiToken, User, Membership, Operation)
_ACCOUNT_TABLES = frozenset(model.__table__.name for model in _ACCOUNT_MODELS)


def _cached_principal(token_hash: str) -> Principal | None:
    with _principals_lock:
        entry = _principals.get(db_session().get_bind(), {}).get(token_hash)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def _remember_principal(token_hash: str, principal: Principal) -> None:
    with _principals_lock:
        _principals.setdefault(db_session().get_bind(), {})[token_hash] = (
            time.monotonic() + PRINCIPAL_TTL_S, principal)


def forget_principals() -> None:
    with _principals_lock:
        _principals.clear()


@event.listens_for(Session, "after_flush")
def _forget_after_account_change(flushed: Session, _context) -> None:
    if any(isinstance(obj, _ACCOUNT_MODELS) for obj in (*flushed.new, *flushed.dirty, *flushed.deleted)):
        forget_principals()


@event.listens_for(Session, "do_orm_execute")
def _forget_after_bulk_change(state) -> None:
    # UPDATE/DELETE statements bypass the flush. Judged by the table they change, not by
    # their mapper: a Core UPDATE of mitigation_tasks (every claim) has no mapper, and
    # clearing on it made every request after a claim read its principal again.
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if not isinstance(table, sa.Table) or table.name in _ACCOUNT_TABLES:
            forget_principals()


def _token_from_request() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return value
    if scheme == "token" and value:
        return value
    if scheme == "basic" and value:
        # Kobo's REST Services can only send Basic auth: the token is the password.
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session_may_authenticate() -> bool:
    """The browser session authenticates the pages (whose forms carry CSRF tokens) and
    the API's reads (the map's GeoJSON); an API write needs a Bearer token, so no other
    site can make a signed-in browser change anything."""
    return request.blueprint == "web" or request.method in SAFE_METHODS


def _load_principal(user, via: str, rows: list | None = None) -> Principal:
    """`user`: a User or a row of its columns; `rows`: the user's (operation id, role,
    operation code), when already read."""
    if rows is None:
        rows = db_session().execute(
            sa.select(Membership.operation_id, Membership.role, Operation.code)
            .join(Operation, Operation.id == Membership.operation_id)
            .where(Membership.user_id == user.id)
        ).all()
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles={op_id: role for op_id, role, _ in rows},
        expertise=tuple(user.expertise or ()),
        languages=tuple(user.languages or ("en",)),
        preferred_language=user.preferred_language,
        via=via,
        operation_codes={op_id: code for op_id, _, code in rows},
    )


def _principal_of_token(token_hash: str, session: Session | None = None) -> Principal | None:
    # The user and their memberships in one query (one row per membership, none without),
    # as plain columns: no User object to build and track for a principal that outlives it.
    rows = (session or db_session()).execute(
        sa.select(User.id, User.email, User.display_name, User.expertise, User.languages, User.preferred_language,
                  Membership.operation_id, Membership.role, Operation.code)
        .join(ApiToken, ApiToken.user_id == User.id)
        # A token made for one operation acts only there.
        .outerjoin(Membership, sa.and_(Membership.user_id == User.id,
                                       sa.or_(ApiToken.operation_id.is_(None),
                                              Membership.operation_id == ApiToken.operation_id)))
        .outerjoin(Operation, Operation.id == Membership.operation_id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None), User.is_active)
    ).all()
    if not rows:
        return None
    # _load_principal reads id, email, display_name, expertise, languages and preferred_language:
    # the row has them.
    return _load_principal(rows[0], "token", [(row.operation_id, row.role, row.code) for row in rows
                                              if row.operation_id is not None])


@on_warm_up
def _warm_token_lookup(session: Session) -> None:
    _principal_of_token("-", session)  # no token hashes to "-"


def current_principal() -> Principal | None:
    if "principal" in g:
        return g.principal
    principal = None
    token = _token_from_request()
    if token is not None:
        token_hash = hash_token(token)
        principal = _cached_principal(token_hash)
        if principal is None:
            principal = _principal_of_token(token_hash)
            if principal is not None:
                _remember_principal(token_hash, principal)
    elif session.get(SESSION_ID_KEY) and _session_may_authenticate():
        principal = _principal_of_web_session(session[SESSION_ID_KEY])
    g.principal = principal
    return principal


# The Flask (signed cookie) session holds only this random id; whether it still signs
# anyone in is decided by its row in web_sessions, which logout and the people operations end.
SESSION_ID_KEY = "sid"


def session_policy() -> web_sessions.SessionPolicy:
    return web_sessions.SessionPolicy(idle=timedelta(hours=current_app.config["SESSION_IDLE_HOURS"]),
                                      absolute=timedelta(days=current_app.config["SESSION_MAX_DAYS"]))


def login_policy(*, per_client: bool = False) -> login_throttle.LoginPolicy:
    """Failed sign-ins allowed per email (or per client address) within the window."""
    config = current_app.config
    limit = config["LOGIN_MAX_FAILURES_PER_CLIENT" if per_client else "LOGIN_MAX_FAILURES"]
    return login_throttle.LoginPolicy(max_failures=limit, window=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]))


def _principal_of_web_session(session_id: str) -> Principal | None:
    database = db_session()
    user_id = web_sessions.active_user_id(database, session_id, now=utcnow(), policy=session_policy())
    if database.dirty:  # the visit noted, or an expired session closed
        database.commit()
    if user_id is None:
        return None
    user = database.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return _load_principal(user, "session")


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise ApiError(401, "unauthenticated", "Authentication required: send 'Authorization: Bearer <token>'.")
    return principal


def requires(min_role: str = "viewer", *, allow_submitter: bool = False):
    """The handler runs only for a principal holding at least `min_role` in some
    operation; which operation's data it may touch is checked by the handler."""
    if min_role not in ROLE_RANK:
        raise ValueError(min_role)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = require_principal()
            allowed = principal.highest_rank() >= ROLE_RANK[min_role]
            if allow_submitter and "submitter" in principal.roles.values():
                allowed = True
            if not allowed:
                raise ApiError(403, "forbidden", f"This needs the role '{min_role}' or higher.")
            return view(*args, **kwargs)

        wrapper.required_role = min_role
        return wrapper

    return decorate


def scoped_operation_ids(principal: Principal, operation_code: str | None, min_role: str = "viewer") -> list[int]:
    """The operations a request may read. Naming an operation the principal does not
    belong to is a 404, exactly like one that does not exist: nothing leaks."""
    allowed = principal.operation_ids(min_role)
    if operation_code is None:
        return allowed
    for op_id in allowed:
        if principal.operation_codes.get(op_id) == operation_code:
            return [op_id]
    raise ApiError(404, "not_found", f"No operation '{operation_code}'.")

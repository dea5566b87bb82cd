"""Settings from the environment, with defaults that are safe to run as they are."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    return Path(os.environ.get("CRISIS_CT_VAR_DIR", REPO_ROOT / "var"))


def default_database_url() -> str:
    return f"sqlite:///{var_dir() / 'crisis-ct.sqlite'}"


def _persistent_secret_key() -> str:
    """A key generated once and kept under var/, so sessions survive restarts
    without anyone having to invent a secret by hand."""
    path = var_dir() / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with 0600 so no other local user can read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(overrides: dict | None = None) -> dict:
    """The app's configuration: environment first, then explicit overrides (tests)."""
    env = os.environ
    overrides = dict(overrides or {})
    settings = {
        "DATABASE_URL": env.get("CRISIS_CT_DATABASE_URL") or default_database_url(),
        "SQL_ECHO": _bool(env.get("CRISIS_CT_SQL_ECHO"), False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Forces Secure cookies even on plain HTTP; HTTPS requests get them anyway (http_policy.py).
        "SESSION_COOKIE_SECURE": _bool(env.get("CRISIS_CT_SECURE_COOKIES"), False),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are believed (0: none).
        "TRUSTED_PROXIES": int(env.get("CRISIS_CT_TRUSTED_PROXIES", 0)),
        # Strict-Transport-Security on HTTPS responses; 0 sends none.
        "HSTS_MAX_AGE": int(env.get("CRISIS_CT_HSTS_MAX_AGE", 365 * 24 * 3600)),
        # Kobo sends one submission per request; 5 MB leaves room for big forms and
        # still refuses whatever is not a submission.
        "MAX_CONTENT_LENGTH": int(env.get("CRISIS_CT_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)),
        "SITE_MATCH_DISTANCE_M": float(env.get("CRISIS_CT_SITE_MATCH_DISTANCE_M", 500)),
        "MAX_ACTIVE_CLAIMS": int(env.get("CRISIS_CT_MAX_ACTIVE_CLAIMS", 5)),
        # Failed sign-ins per email before it is locked for the window (accounts/login_throttle.py).
        "LOGIN_MAX_FAILURES": int(env.get("CRISIS_CT_LOGIN_MAX_FAILURES", 5)),
        "LOGIN_LOCKOUT_MINUTES": int(env.get("CRISIS_CT_LOGIN_LOCKOUT_MINUTES", 15)),
        # Failed sign-ins from one client address (any email) within the same window.
        "LOGIN_MAX_FAILURES_PER_CLIENT": int(env.get("CRISIS_CT_LOGIN_MAX_FAILURES_PER_CLIENT", 30)),
        # Server-side web sessions (accounts/web_sessions.py): end after this long without a
        # request, and this long after sign-in whatever happens.
        "SESSION_IDLE_HOURS": float(env.get("CRISIS_CT_SESSION_IDLE_HOURS", 12)),
        "SESSION_MAX_DAYS": float(env.get("CRISIS_CT_SESSION_MAX_DAYS", 7)),
        "KOBO_TOKEN_KEY": env.get("CRISIS_CT_KOBO_TOKEN_KEY"),
        # Minutes between the worker's syncs of a Kobo project (a project may set its own).
        "KOBO_SYNC_MINUTES": float(env.get("CRISIS_CT_KOBO_SYNC_MINUTES", 15)),
        # How long the webhook waits for Kobo to give a new form version (kobo/versions.py).
        "KOBO_VERSION_FETCH_TIMEOUT_S": float(env.get("CRISIS_CT_KOBO_VERSION_FETCH_TIMEOUT_S", 5)),
        # Invitation and notification emails (crisis_ct/mail.py): smtp://user:pass@host:587
        # (STARTTLS), smtps://… (TLS), or the separate variables below. Without a server the
        # invitation page shows the link to pass on and notifications stay in the app.
        "SMTP_URL": env.get("CRISIS_CT_SMTP_URL", ""),
        "SMTP_HOST": env.get("CRISIS_CT_SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("CRISIS_CT_SMTP_PORT", 587)),
        "SMTP_USER": env.get("CRISIS_CT_SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("CRISIS_CT_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("CRISIS_CT_SMTP_STARTTLS"), True),
        "MAIL_FROM": env.get("CRISIS_CT_MAIL_FROM", "crisis-ct@localhost"),
        # The address people open crisis-ct at: the links in notification emails start with it.
        "PUBLIC_URL": env.get("CRISIS_CT_PUBLIC_URL", "http://127.0.0.1:5000"),
        "MAP_TILE_URL": env.get("CRISIS_CT_MAP_TILE_URL", ""),
        "API_TITLE": "crisis-ct",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    settings.update(overrides)
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = env.get("CRISIS_CT_SECRET_KEY") or _persistent_secret_key()
    return settings

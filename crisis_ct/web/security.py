"""Security for the web pages: CSRF on the `web` blueprint only, security headers on
every response, and a check that post-login redirects stay on this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def tile_origin(tile_url: str) -> str | None:
    """The origin a tile URL template loads from, as a CSP source ('{s}' subdomains → '*')."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str = "") -> str:
    """No inline script or style anywhere; images may come from a configured tile host."""
    img_sources = ["'self'", "data:"]
    origin = tile_origin(tile_url)
    if origin:
        img_sources.append(origin)
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {' '.join(img_sources)}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (an open redirect after login)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       content_security_policy(current_app.config.get("MAP_TILE_URL", "")))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def protect_web_forms() -> None:
    """before_request of the web blueprint: the API blueprints authenticate by token
    and never see a CSRF check, whichever of them are registered later."""
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def init_security(app: Flask) -> None:
    # CSRF is checked per blueprint (protect_web_forms), not globally.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.after_request(_add_security_headers)

"""How crisis-ct speaks HTTP behind a reverse proxy: which forwarded headers it trusts,
HSTS and `Secure` session cookies on HTTPS, no caching of anything signed-in, and the
body size limit applied to chunked uploads as to any other.

`TRUSTED_PROXIES` (CRISIS_CT_TRUSTED_PROXIES) is the number of proxies in front of the
app. Each one appends to X-Forwarded-For/-Proto/-Host/-Port/-Prefix; werkzeug's ProxyFix
believes only that many entries from the right, so a client cannot claim to be HTTPS or
another address by sending the headers itself. 0 (the default) trusts none of them."""
from __future__ import annotations

import io

from flask import Flask, Response, abort, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

STATIC_ENDPOINT = "web.static"
READ_CHUNK = 64 * 1024


class ProxyAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the request came over HTTPS (as the proxy
    says, once trusted), not only when SESSION_COOKIE_SECURE forces it everywhere."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = super().get_cookie_secure(app)
        return forced or (has_request_context() and request.is_secure)


def _hsts_and_no_store(response: Response) -> Response:
    if request.is_secure and current_app.config["HSTS_MAX_AGE"] > 0:
        response.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains")
    # Static files carry their own long cache headers (crisis_ct.web.static_assets); every
    # other answer is a page or API result that may hold data for one person only, which
    # no browser or shared cache may keep.
    if request.endpoint != STATIC_ENDPOINT:
        response.headers["Cache-Control"] = "no-store"
    return response


def _limit_streamed_body() -> None:
    """A chunked body has no Content-Length to refuse up front, and werkzeug only stops
    reading it at MAX_CONTENT_LENGTH: the truncated JSON or form then answers 400. Read
    it here up to one byte past the limit, so too much is a 413 like any other, and hand
    what fits on from memory."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    environ = request.environ
    if not limit or request.content_length is not None or not environ.get("wsgi.input_terminated"):
        return
    stream, body = environ["wsgi.input"], bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        abort(413)
    # Still a terminated stream: werkzeug reads it to its end, which is now in memory.
    environ["wsgi.input"] = io.BytesIO(bytes(body))


# NUL as it arrives: in a decoded path, a query string or form body (%00), JSON (\u0000).
_NUL_FORMS = (b"\x00", b"%00", b"\\u0000")
_TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded")
# Kobo's webhook keeps a submission with NUL characters (quarantined, with a readable copy:
# crisis_ct.kobo.ingest), because Kobo never re-sends what we refuse.
_KEEPS_NUL_BODIES = {"kobo.receive_submission"}


def _refuse_nul_characters() -> None:
    """PostgreSQL text and jsonb cannot hold a NUL character: a query comparing with one
    fails (a 500). No name, code or answer of ours contains one, so it is refused as bad
    input before it reaches a query, on both databases alike."""
    query = request.query_string
    reads_body = request.endpoint not in _KEEPS_NUL_BODIES and (request.mimetype in _TEXT_BODIES or request.is_json)
    body = request.get_data() if reads_body else b""
    if "\x00" in request.path or any(form in part for part in (query, body) for form in _NUL_FORMS):
        abort(400, description="Text may not contain NUL characters.")


def init_app(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    app.session_interface = ProxyAwareSessionInterface()
    # First of the before_request hooks: none before it may have read the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_streamed_body)
    app.before_request_funcs[None].insert(1, _refuse_nul_characters)
    app.after_request(_hsts_and_no_store)

"""Behind a reverse proxy: trusted X-Forwarded-* headers, HSTS and Secure cookies on HTTPS,
nothing signed-in cached, and a chunked body over the limit answered 413 (issue 13, item 7)."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from flask import request

from crisis_ct.app import create_app
from tests.conftest import auth
from tests.support.served_app import served
from tests.web.conftest import sign_in

HTTPS_VIA_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "ct.example.org"}


def _app(database, **config):
    return create_app({"DATABASE_URL": database.url, "TESTING": True, "SECRET_KEY": "test-secret", **config})


def _with_address_route(app):
    app.add_url_rule("/_seen", "seen", lambda: {"remote_addr": request.remote_addr, "scheme": request.scheme,
                                                "host": request.host})
    return app


def test_a_trusted_proxy_tells_the_client_address_scheme_and_host(database):
    client = _with_address_route(_app(database, TRUSTED_PROXIES=1)).test_client()
    seen = client.get("/_seen", headers=HTTPS_VIA_PROXY).get_json()
    assert seen == {"remote_addr": "203.0.113.7", "scheme": "https", "host": "ct.example.org"}


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(database):
    client = _with_address_route(_app(database)).test_client()
    seen = client.get("/_seen", headers=HTTPS_VIA_PROXY).get_json()
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "http", "host": "localhost"}
    response = client.get("/login", headers=HTTPS_VIA_PROXY)
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_only_as_many_forwarded_entries_as_proxies_are_believed(database):
    client = _with_address_route(_app(database, TRUSTED_PROXIES=1)).test_client()
    # The client wrote the first address itself; the one proxy appended the real one.
    seen = client.get("/_seen", headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.2"}).get_json()
    assert seen["remote_addr"] == "198.51.100.2"


def test_https_through_the_proxy_gets_hsts_and_a_secure_session_cookie(database):
    client = _app(database, TRUSTED_PROXIES=1).test_client()
    response = client.get("/login", headers=HTTPS_VIA_PROXY)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_plain_http_gets_no_hsts(client):
    response = client.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_hsts_can_be_turned_off(database):
    client = _app(database, TRUSTED_PROXIES=1, HSTS_MAX_AGE=0).test_client()
    assert "Strict-Transport-Security" not in client.get("/login", headers=HTTPS_VIA_PROXY).headers


def test_signed_in_pages_and_api_answers_are_not_stored(seed, client):
    seed.operation("op1")
    token = seed.member("viewer@example.org", "viewer", "op1")
    assert client.get("/api/v1/sites", headers=auth(token)).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/tasks/1", headers=auth(token)).headers["Cache-Control"] == "no-store"
    sign_in(client, "viewer@example.org")
    page = client.get("/map")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_own_caching(client):
    assert "no-store" not in client.get("/assets/js/map.js").headers["Cache-Control"]


@pytest.fixture
def small_limit_server(database, seed):
    """The app served by werkzeug (which passes chunked bodies on as servers do) with a 1 kB limit."""
    seed.operation("op1")
    token = seed.member("coord@example.org", "coordinator", "op1")
    app = _app(database, MAX_CONTENT_LENGTH=1000)
    with served(app) as base:
        yield urlsplit(base).port, token
    app.extensions["crisis_ct_db"].dispose()


def _post_chunked(port: int, token: str, body: bytes):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = (body[i:i + 200] for i in range(0, len(body), 200))
    connection.request("POST", "/api/v1/kobo/submissions", body=chunks, encode_chunked=True,
                       headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    answer = response.status, response.read()
    connection.close()
    return answer


def test_a_chunked_body_over_the_limit_is_413(small_limit_server):
    port, token = small_limit_server
    status, body = _post_chunked(port, token, b'{"site_id": "' + b"x" * 3000 + b'"}')
    assert status == 413
    assert b'"code":"too_large"' in body


def test_a_chunked_body_within_the_limit_is_read_whole(small_limit_server):
    port, token = small_limit_server
    # Not a submission, but read to its end: the answer is about its content, not its size.
    status, body = _post_chunked(port, token, b'{"note": "' + b"x" * 900 + b'"}')
    assert status in (400, 202)
    assert b"too_large" not in body and b"invalid_json" not in body

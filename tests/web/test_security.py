import re
from pathlib import Path

import pytest

from crisis_ct.web.security import content_security_policy, safe_next, tile_origin
from tests.conftest import auth

TEMPLATES = Path(__file__).resolve().parents[2] / "crisis_ct" / "web" / "templates"


def _assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_the_security_headers(client):
    _assert_security_headers(client.get("/login"))


def test_api_responses_carry_the_security_headers_too(client):
    _assert_security_headers(client.get("/api/v1/sites"))


def test_the_tile_host_is_allowed_only_when_configured():
    assert "tiles.example.org" not in content_security_policy("")
    policy = content_security_policy("https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tiles.example.org" in policy


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "/relative/{z}.png"])
def test_a_tile_url_without_a_web_origin_adds_nothing(url):
    assert tile_origin(url) is None


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example", "map", None])
def test_safe_next_refuses_anything_off_site(target):
    assert safe_next(target, "/map") == "/map"


def test_safe_next_keeps_a_local_path_and_query():
    assert safe_next("/map/list?phase=3plus", "/map") == "/map/list?phase=3plus"


def test_the_api_is_not_csrf_checked(seed, operation, client):
    token = seed.member("coord@example.org", "coordinator", operation)
    response = client.post("/api/v1/kobo/submissions", json={}, headers=auth(token))
    assert response.mimetype == "application/json"
    assert "csrf" not in response.get_data(as_text=True).lower()


def test_static_files_are_fingerprinted_and_cached_for_a_year(viewer):
    page = viewer.get("/map").get_data(as_text=True)
    url = re.search(r'src="(/assets/js/map\.js\?v=[0-9a-f]{12})"', page).group(1)
    response = viewer.get(url)
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache


def test_a_stale_fingerprint_is_not_cached_forever(client):
    response = client.get("/assets/js/map.js?v=000000000000")
    assert "immutable" not in response.headers["Cache-Control"]


def test_responses_are_compressed(viewer):
    response = viewer.get("/assets/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"


def test_geojson_from_the_api_is_compressed(viewer):
    response = viewer.get("/api/v1/admin-areas?level=3", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def test_no_template_marks_data_as_safe_or_carries_inline_script_or_style():
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text()
        assert "|safe" not in text.replace(" ", ""), path.name
        assert " style=" not in text and "<style" not in text, path.name
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path.name, tag)

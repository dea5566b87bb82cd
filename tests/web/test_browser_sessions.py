"""In Chromium: a French browser gets French pages until the person chooses (issue 13,
item 4), and a cookie copied before logout is refused after it (item 5). SQLite only, as
the other browser tests (the same behaviour runs on both databases in test_i18n.py and
test_sessions.py)."""
from __future__ import annotations

import pytest

from tests.support.served_app import served
from tests.web.test_browser import _new_page, _sign_in, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def server(app, seed, operation):
    seed.member("new@example.org", "viewer", operation, languages=("en",))
    with served(app) as base:
        yield base


def test_a_french_browser_gets_french_pages_until_the_person_chooses(browser, server):  # noqa: F811
    context, page = _new_page(browser, locale="fr-FR")
    try:
        _sign_in(page, server, "new@example.org")
        assert page.locator("h1").first.inner_text() == "Carte des risques"
    finally:
        context.close()


def test_a_cookie_copied_before_logout_is_refused_after_it(browser, server):  # noqa: F811
    context, page = _new_page(browser)
    thief, thief_page = _new_page(browser)
    try:
        _sign_in(page, server, "new@example.org")
        thief.add_cookies(context.cookies())
        thief_page.goto(f"{server}/map")
        assert thief_page.url == f"{server}/map"
        page.click("form[action='/logout'] button")
        page.wait_for_url(f"{server}/login*")
        thief_page.goto(f"{server}/map")
        assert thief_page.url.startswith(f"{server}/login")
    finally:
        context.close()
        thief.close()

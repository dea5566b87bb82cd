"""The bell and the notifications list in a real headless Chromium, in English and French
(SQLite only, like the other browser tests: what the browser shows does not depend on the
backend; test_pages.py runs the same pages on both)."""
from __future__ import annotations

import pytest

from tests.notifications.conftest import later
from tests.support.served_app import served
from tests.web.test_browser import PHONE, _new_page, _shoot, _sign_in, backend, browser  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def server(app, world):
    world.p1_task("S2")
    world.p1_task("S0", now=later(2))
    world.detect(later(3))
    with served(app) as base:
        yield base


def test_the_bell_shows_the_unread_count_and_the_list_in_english_and_french(server, browser, world):
    context, page = _new_page(browser)
    _sign_in(page, server, "cp@op1.org", "/tasks")
    bell = page.locator("a.bell")
    assert bell.locator(".bell-count").inner_text() == "2"
    assert bell.get_attribute("title") == "Notifications, unread: 2"
    bell.click()
    page.wait_for_url(f"{server}/notifications")
    items = page.locator("li.notification")
    assert items.count() == 2
    assert all(text.startswith("New P1 task near you: ") for text in items.locator("> a").all_inner_texts())
    assert page.locator("li.notification.unread").count() == 2
    _shoot(page, "notifications-en")

    # Read one: the bell counts one.
    items.first.locator("button").click()
    page.wait_for_url(f"{server}/notifications")
    assert page.locator("a.bell .bell-count").inner_text() == "1"
    assert page.locator("li.notification.unread").count() == 1

    # In French, on a phone.
    page.locator(".language-switch button[value=fr]").click()
    page.wait_for_selector("html[lang=fr]")
    assert page.locator("h1").inner_text() == "Notifications"
    assert page.locator("a.bell").get_attribute("title") == "Notifications non lues : 1"
    texts = page.locator("li.notification > a").all_inner_texts()
    assert texts and all(text.startswith("Nouvelle tâche P1 près de vous : ") for text in texts)
    assert "Zone XZ0101" in " ".join(texts)
    assert page.locator("li.notification.unread button").inner_text() == "Marquer comme lu"
    page.set_viewport_size(PHONE)
    assert page.locator("a.bell").is_visible()
    _shoot(page, "notifications-fr-phone")

    # Opening one goes to its task and reads it.
    page.locator("li.notification.unread > a").click()
    page.wait_for_url(f"{server}/tasks/*")
    assert page.locator("a.bell .bell-count").inner_text() == "0"
    context.close()


def test_another_person_sees_an_empty_list_and_no_count(server, browser):
    context, page = _new_page(browser)
    _sign_in(page, server, "coord@op1.org", "/notifications")
    assert page.locator("a.bell .bell-count").inner_text() == "0"
    assert page.locator("li.notification").count() == 0
    assert page.locator("p.empty").is_visible()
    context.close()

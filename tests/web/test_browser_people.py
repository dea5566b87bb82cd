"""People management in a real headless Chromium against the served demo operation (same
harness as test_browser.py): a coordinator invites someone, the link (no mail configured)
is passed on, the person sets their password and signs in; an admin creates an operation;
the pages in French."""
from __future__ import annotations

import pytest

from tests.web.test_browser import _new_page, _shoot, _sign_in, backend, browser, server  # noqa: F401

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a password of my own"


def _invite(page, base: str, email: str) -> str:
    page.goto(f"{base}/people")
    page.fill("#email", email)
    page.fill("#display_name", "Amina Field")
    page.select_option("#role", "expert")
    page.check("input[name=expertise][value=CT]")
    page.check("input[name=expertise][value=CP]")
    page.fill("#languages", "fr, ar")
    page.fill("#organisation", "<i>NGO</i> & partners")
    page.click(".invite-form button[type=submit]")
    page.wait_for_selector("#invitation-link")
    return page.input_value("#invitation-link")


def test_an_invited_person_sets_their_password_and_signs_in(server, browser):
    context, page = _new_page(browser)
    _sign_in(page, server, "coord@example.org", "/people")
    assert page.locator("#role option[value=admin]").count() == 0  # never above one's own role
    link = _invite(page, server, "amina@example.org")
    assert link.startswith(f"{server}/invitation/")
    _shoot(page, "people-invited-link")
    page.goto(f"{server}/people")
    row = page.locator("tr[data-email='amina@example.org']")
    assert "Invited" in row.inner_text()
    assert "<i>NGO</i> & partners" in row.inner_text()  # shown as text, not markup

    invited_context, invited = _new_page(browser)
    invited.goto(link)
    assert "Amina Field" in invited.inner_text("main")
    invited.fill("#password", NEW_PASSWORD)
    invited.fill("#password_again", NEW_PASSWORD)
    invited.click("main form button[type=submit]")
    invited.wait_for_url(f"{server}/login*")
    assert "Your password is set" in invited.inner_text(".flash-messages")
    invited.fill("#email", "amina@example.org")
    invited.fill("#password", NEW_PASSWORD)
    invited.click("form[action='/login'] button[type=submit]")
    invited.wait_for_url(f"{server}/map*")
    assert invited.goto(link).status == 404  # used once
    invited_context.close()

    page.reload()
    assert "Active" in page.locator("tr[data-email='amina@example.org']").inner_text()
    context.close()


def test_a_coordinator_changes_a_role_and_deactivates(server, browser, seed):
    seed.member("sam@example.org", "viewer", "demo")
    context, page = _new_page(browser)
    _sign_in(page, server, "coord@example.org", "/people")
    page.click("tr[data-email='sam@example.org'] a")
    page.select_option("#role", "expert")
    page.check("input[name=expertise][value=GBV]")
    page.fill("#organisation", "UNFPA")
    page.click(".person-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert page.input_value("#organisation") == "UNFPA"
    assert page.locator("#role").input_value() == "expert"
    page.click("button.button-danger")
    page.wait_for_selector(".flash-success")
    assert "can no longer sign in" in page.inner_text(".flash-messages")
    _shoot(page, "person-deactivated")
    other, other_page = _new_page(browser)
    other_page.goto(f"{server}/login")
    other_page.fill("#email", "sam@example.org")
    other_page.fill("#password", "correct horse battery")
    other_page.click("form[action='/login'] button[type=submit]")
    assert other_page.locator(".form-error").count() == 1
    other.close()
    context.close()


def test_an_admin_creates_an_operation_and_its_first_coordinator(server, browser, seed):
    seed.member("admin@example.org", "admin", "demo")
    context, page = _new_page(browser)
    _sign_in(page, server, "admin@example.org", "/admin/operations")
    page.fill("#code", "sdn-2026")
    page.fill("#name", "Sudan 2026")
    page.fill("#country", "SDN")
    page.fill("#coordinator_email", "lead@example.org")
    page.click(".operation-form button[type=submit]")
    page.wait_for_selector("#invitation-link")
    assert "lead@example.org" in page.inner_text("h1")
    page.goto(f"{server}/admin/operations")
    assert "Sudan 2026" in page.inner_text(".operations-table")
    context.close()


def test_the_people_page_in_french(server, browser):
    context, page = _new_page(browser, locale="fr-FR")
    _sign_in(page, server, "coord@example.org", "/people")
    assert page.get_attribute("html", "lang") == "fr"
    assert "Inviter quelqu’un" in page.inner_text("main")
    assert "Personnes" in page.inner_text("nav")
    _shoot(page, "people-fr")
    context.close()

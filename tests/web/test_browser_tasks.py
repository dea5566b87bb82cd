"""The task board, site, area and dashboard pages in a real headless Chromium against
the served demo operation (same harness as test_browser.py)."""
from __future__ import annotations


import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import Site
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.tasks.models import MitigationTask
from tests.web.conftest import ALL_EXPERTISE
from tests.web.test_browser import (DESKTOP, PHONE, _new_page, _shoot, _sign_in, backend,  # noqa: F401
                                    browser, server)

pytestmark = pytest.mark.browser
FRENCH_PHASES = ("Minimal", "Stress", "Sévère", "Extrême", "Catastrophique")


@pytest.fixture
def experts(server, seed):
    seed.member("a@example.org", "expert", "demo", expertise=ALL_EXPERTISE)
    seed.member("b@example.org", "expert", "demo", expertise=ALL_EXPERTISE)
    return server


@pytest.fixture
def scored_site(database):
    with database.session() as session:
        return session.scalar(sa.select(Site.site_code).join(SiteRiskScore, SiteRiskScore.site_id == Site.id)
                              .where(SiteRiskScore.is_current, SiteRiskScore.phase >= 3).order_by(Site.id))


def test_a_claim_by_expert_a_shows_as_claimed_on_expert_bs_board(experts, browser):
    context_a, page_a = _new_page(browser)
    _sign_in(page_a, experts, "a@example.org", "/tasks")
    card = page_a.locator("article.task-card:has(button.action-claim)").first
    task_id = card.get_attribute("data-task-id")
    card.locator("button.action-claim").click()
    page_a.wait_for_selector(".flash-success")
    assert "You claimed this task." in page_a.inner_text(".flash-messages")

    context_b, page_b = _new_page(browser)
    _sign_in(page_b, experts, "b@example.org", "/tasks")
    claimed = page_b.locator(f"article.task-card[data-task-id='{task_id}']")
    assert claimed.get_attribute("data-status") == "claimed"
    assert "a (" in claimed.locator(".task-holder").inner_text()
    assert claimed.locator("button.action-claim").count() == 0
    _shoot(page_b, "tasks-claimed-desktop")
    context_a.close()
    context_b.close()


def test_a_viewer_who_tries_to_verify_gets_the_403_page(server, browser, database):
    with database.session() as session:
        # An area task: the kind a viewer may open (site tasks are the 403 page for them already).
        task_id = session.scalar(sa.select(MitigationTask.id).where(MitigationTask.scope == "admin_area")
                                 .order_by(MitigationTask.id))
    context, page = _new_page(browser)
    _sign_in(page, server, "viewer@example.org", "/tasks")
    response = page.goto(f"{server}/tasks/{task_id}/verify")
    assert response.status == 403
    assert "You do not have access to this page." in page.inner_text("main")
    # And a hand-made POST of the verify form, with a valid CSRF token from the page.
    page.goto(f"{server}/tasks/{task_id}")
    with page.expect_navigation() as navigation:
        page.evaluate("""(taskId) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/tasks/' + taskId + '/verify';
            const token = document.querySelector("input[name=csrf_token]").cloneNode();
            form.appendChild(token);
            document.body.appendChild(form);
            form.submit();
        }""", task_id)
    assert navigation.value.status == 403
    assert "You do not have access to this page." in page.inner_text("main")
    context.close()


def test_french_task_titles_and_phase_labels(experts, browser, database, scored_site):
    context, page = _new_page(browser, locale="en-GB")
    _sign_in(page, experts, "a@example.org", "/tasks")
    page.click(".language-switch button[value=fr]")
    page.wait_for_selector("html[lang=fr]")
    first_id = page.locator("article.task-card").first.get_attribute("data-task-id")
    with database.session() as session:
        title_fr = session.get(MitigationTask, int(first_id)).title["fr"]
    assert page.locator(f"article.task-card[data-task-id='{first_id}'] .task-title").inner_text() == title_fr
    assert "Ouvertes" in page.inner_text(".task-board")
    _shoot(page, "tasks-desktop-fr")
    page.goto(f"{experts}/sites/{scored_site}")
    phase_text = page.inner_text(".big-phase")
    assert any(label in phase_text for label in FRENCH_PHASES)
    assert "Pourquoi cette phase" in page.inner_text("main")
    _shoot(page, "site-desktop-fr")
    context.close()


@pytest.mark.parametrize("viewport_name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_the_new_pages(server, browser, database, scored_site, viewport_name, viewport):
    with database.session() as session:
        task_id = session.scalar(sa.select(MitigationTask.id).where(MitigationTask.site_id.is_not(None))
                                 .order_by(MitigationTask.id))
    context, page = _new_page(browser, viewport=viewport)
    _sign_in(page, server, "coord@example.org", "/dashboard")
    pages = (("/dashboard", "dashboard"), ("/tasks", "tasks"), ("/tasks?status=open&priority=P1", "tasks-open-p1"),
             (f"/tasks/{task_id}", "task"), (f"/tasks/{task_id}/assign", "task-assign"),
             (f"/sites/{scored_site}", "site"), ("/areas/XZ01", "area"), ("/dashboard/quarantine", "quarantine"))
    for path, name in pages:
        response = page.goto(f"{server}{path}")
        assert response.status == 200, path
        _shoot(page, f"{name}-{viewport_name}")
        # Nothing may stick out sideways except inside the scrollable table boxes.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, path
    context.close()

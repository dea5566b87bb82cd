"""The dashboard's 4W table in a real Chromium (Debian's), on the scored demo operation: the
organisation of whoever holds a task, its theory-of-change area and admin 1, in English and
French; a viewer's table carries no count of 1 or 2."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.models import User
from crisis_ct.tasks.models import MitigationTask, TaskHistory
from crisis_ct.tasks.service import catalogues
from crisis_ct.tasks.theory_of_change import toc_label
from crisis_ct.timeutil import utcnow
from tests.web.test_browser import _new_page, _shoot, _sign_in, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
ORGANISATION = "Organisation Kilo"


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def held_task(server, database) -> MitigationTask:
    """The first site task, held by the expert (of ORGANISATION) since an hour ago."""
    now = utcnow()
    with database.session() as session:
        expert = session.scalar(sa.select(User).where(User.email == "expert@example.org"))
        expert.organisation = ORGANISATION
        task = session.scalar(sa.select(MitigationTask).where(MitigationTask.scope == "site")
                              .order_by(MitigationTask.id).limit(1))
        task.status, task.claimed_by_user_id = "claimed", expert.id
        task.claimed_at, task.claim_expires_at = now - timedelta(hours=1), now + timedelta(hours=23)
        session.add(TaskHistory(task_id=task.id, at=now - timedelta(hours=1), actor_user_id=expert.id,
                                actor=expert.email, action="claimed", from_status="open", to_status="claimed"))
        session.flush()
        session.expunge(task)
    return task


def test_a_coordinator_reads_who_does_what_where_in_both_languages(server, browser, held_task):
    rule = catalogues()[0].rule(held_task.rule_id)
    context, page = _new_page(browser, locale="en-GB")
    _sign_in(page, server, "coord@example.org", "/dashboard")
    table = page.locator("table.dashboard-four-w")
    table.wait_for()
    row = table.locator("tbody tr", has_text=ORGANISATION).first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == ORGANISATION and cells[1] == toc_label(rule.toc_area, "en")
    assert re.fullmatch(r"\d+", cells[5]) and int(cells[5]) >= 1  # claimed
    page.locator("#four-w-title").scroll_into_view_if_needed()
    _shoot(page, "dashboard-4w-en")
    page.click(".language-switch button[value=fr]")
    page.wait_for_selector("html[lang=fr]")
    assert "Qui fait quoi, où (4W)" in page.inner_text("#four-w-title")
    french = page.locator("table.dashboard-four-w tbody tr", has_text=ORGANISATION).first.locator("td")
    assert french.nth(1).inner_text() == toc_label(rule.toc_area, "fr")
    with page.expect_download() as download:
        page.click("a[href='/api/v1/exports/4w.csv']")
    assert re.fullmatch(r"crisis-ct_demo_4w_\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    page.locator("#four-w-title").scroll_into_view_if_needed()
    _shoot(page, "dashboard-4w-fr")
    context.close()


def test_a_viewers_4w_table_shows_no_count_of_one_or_two(server, browser, held_task):
    context, page = _new_page(browser)
    _sign_in(page, server, "viewer@example.org", "/dashboard")
    page.locator("#four-w-title").wait_for()
    counts = page.locator("table.dashboard-four-w tbody td.number").all_inner_texts()
    assert all(text == "<3" or int(text.replace("\u202f", "").replace(",", "")) >= 3 or text == "0"
               for text in counts)
    assert "expert@example.org" not in page.content()
    context.close()

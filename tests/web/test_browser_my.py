"""/my in a real headless Chromium against the served demo operation: after one visit it opens
with no network and says how old its data is; a note written offline is stored once when the
network returns; a note whose claim expired meanwhile is kept on the phone and the refusal
shown. English and French. (Service workers need a secure context: 127.0.0.1 is one.)"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.tasks.models import MitigationTask, TaskHistory
from crisis_ct.timeutil import utcnow
from bench.bench_my import WORKER_ACTIVE, wait_until
from tests.web.conftest import ALL_EXPERTISE
from tests.web.test_browser import (PHONE, _new_page, _shoot, _sign_in, backend,  # noqa: F401
                                    browser, server)

pytestmark = pytest.mark.browser
HOSTILE_NOTE = "<img src=x onerror=alert(1)> met the site committee"


@pytest.fixture
def expert(server, seed):
    seed.member("a@example.org", "expert", "demo", expertise=ALL_EXPERTISE, languages=("en", "fr"))
    return server


def _claim_from_my_page(page, base: str) -> int:
    """Visit /my online, claim the first open task, and wait until the service worker
    controls the page and the data is kept."""
    page.goto(f"{base}/my")
    page.wait_for_selector("#my-nearby .my-card button.action-claim:not([disabled])")
    task_id = int(page.locator("#my-nearby .my-card").first.get_attribute("data-task-id"))
    page.locator(f"#my-nearby .my-card[data-task-id='{task_id}'] button.action-claim").click()
    page.wait_for_selector(f"#my-held .my-card[data-task-id='{task_id}'] .my-countdown[data-expires]")
    wait_until(page, WORKER_ACTIVE)
    wait_until(page, "() => caches.open('crisis-ct-my-data').then(c => c.match('/my/data.json'))"
                     ".then(r => r ? r.json() : null).then(d => !!d && d.held.length > 0)")
    return task_id


def _go_offline_and_reload(context, page) -> None:
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#my-status[data-state='offline']")


def _write_note(page, task_id: int, text: str) -> None:
    card = page.locator(f"#my-held .my-card[data-task-id='{task_id}']")
    card.locator("textarea").fill(text)
    card.locator("button.action-progress-note").click()


def _note_refused_after_expiry(context, page, database, task_id: int, text: str):
    """Offline: write a note, let the claim lapse (in the database), come back online; the
    outbox entry the refusal leaves."""
    _write_note(page, task_id, text)
    with database.session() as session:
        session.get(MitigationTask, task_id).claim_expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    context.set_offline(False)
    refused = page.locator("#my-outbox .my-note.refused")
    refused.wait_for()
    return refused


def _progress_comments(database, task_id: int) -> list[str]:
    with database.session() as session:
        return list(session.scalars(sa.select(TaskHistory.comment).where(
            TaskHistory.task_id == task_id, TaskHistory.action == "progressed")))


def _where_to_refer_shown_offline(page) -> None:
    """A task's referral contacts from the kept data show under it, phone and email as links."""
    kept = page.evaluate("() => caches.open('crisis-ct-my-data').then(c => c.match('/my/data.json'))"
                         ".then(r => r.json()).then(d => d.referral_contacts)")
    entry = next(entry for entry in kept if entry["providers"])  # the demo directory covers some task shown
    provider = entry["providers"][0]
    box = page.locator(f".my-card[data-task-id='{entry['task_id']}'] details.my-referral")
    assert box.count() == 1 and not box.locator(".my-provider").first.is_visible()  # folded until asked
    box.locator("summary").click()
    first = box.locator(".my-provider").first
    assert first.locator(".provider-organisation").inner_text() == provider["organisation"]
    if provider["office_phone"]:
        assert first.locator("a.provider-phone").get_attribute("href").startswith("tel:+")
    if provider["office_email"]:
        assert first.locator("a.provider-email").get_attribute("href") == f"mailto:{provider['office_email']}"
    assert box.locator(".my-provider").count() == len(entry["providers"])


def test_offline_after_one_visit_a_note_written_offline_is_stored_once(expert, browser, database):
    context, page = _new_page(browser, viewport=PHONE)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, expert, "a@example.org", "/my")
    task_id = _claim_from_my_page(page, expert)

    _go_offline_and_reload(context, page)
    held = page.locator(f"#my-held .my-card[data-task-id='{task_id}']")
    assert held.count() == 1
    assert "Offline" in page.inner_text("#my-status") and "Data from" in page.inner_text("#my-status")
    assert "Claim expires in" in held.locator(".my-countdown").inner_text()
    assert held.locator("button.action-renew").is_disabled()
    assert page.is_visible("#my-network")
    _where_to_refer_shown_offline(page)
    _write_note(page, task_id, HOSTILE_NOTE)
    queued = page.locator("#my-outbox .my-note.pending")
    queued.wait_for()
    assert queued.locator(".note-text").inner_text() == HOSTILE_NOTE  # shown as text, not markup
    assert page.locator("#my-outbox img").count() == 0
    _shoot(page, "my-offline-phone")
    assert _progress_comments(database, task_id) == []

    context.set_offline(False)
    page.wait_for_selector("#my-outbox", state="hidden")
    page.wait_for_selector("#my-status[data-state='online']")
    # The network returning twice, or the page sending again, changes nothing more.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(500)
    assert _progress_comments(database, task_id) == [HOSTILE_NOTE]
    assert dialogs == []
    context.close()


def test_a_note_whose_claim_expired_offline_is_kept_and_the_refusal_shown(expert, browser, database):
    context, page = _new_page(browser, viewport=PHONE)
    _sign_in(page, expert, "a@example.org", "/my")
    task_id = _claim_from_my_page(page, expert)
    _go_offline_and_reload(context, page)
    refused = _note_refused_after_expiry(context, page, database, task_id, "Written offline, claim lapsed")
    assert refused.get_attribute("data-error-code") == "claim_expired"
    assert "expired" in refused.locator(".note-error").inner_text()
    assert refused.locator(".note-text").inner_text() == "Written offline, claim lapsed"
    assert _progress_comments(database, task_id) == []
    # Still there after a reload: the text lives on the phone until sent or discarded.
    page.reload()
    page.locator("#my-outbox .my-note.refused .note-text").wait_for()
    assert page.inner_text("#my-outbox .my-note.refused .note-text") == "Written offline, claim lapsed"
    _shoot(page, "my-refused-phone")
    context.close()


def test_signing_out_forgets_the_kept_page_and_data(expert, browser):
    context, page = _new_page(browser, viewport=PHONE)
    _sign_in(page, expert, "a@example.org", "/my")
    _claim_from_my_page(page, expert)
    page.click("form.logout button[type=submit]")
    page.wait_for_url(f"{expert}/login*")
    kept = page.evaluate("""() => caches.keys().then(names => Promise.all(names.map(name =>
        caches.open(name).then(cache => cache.keys()).then(requests =>
            requests.map(r => new URL(r.url).pathname))))).then(lists => lists.flat())""")
    assert "/my" not in kept and "/my/data.json" not in kept
    assert any(path.endswith("/my.js") for path in kept)  # the files stay for the next person
    context.set_offline(True)
    try:
        page.goto(f"{expert}/my")
    except Exception:  # noqa: BLE001 - Chromium's own "no network" error: nothing kept to show
        pass
    assert page.locator("#my-held .my-card").count() == 0
    context.close()


def test_french_offline_page_and_refusal(expert, browser, database):
    context, page = _new_page(browser, viewport=PHONE, locale="fr-FR")
    _sign_in(page, expert, "a@example.org", "/my")
    page.click(".language-switch button[value=fr]")
    page.wait_for_selector("html[lang=fr]")
    task_id = _claim_from_my_page(page, expert)
    assert "Tâches que je détiens" in page.inner_text("main")
    _go_offline_and_reload(context, page)
    status = page.inner_text("#my-status")
    assert "Hors ligne" in status and "Données" in status
    assert "Le réseau est nécessaire" in page.inner_text("#my-network")
    assert page.locator("details.my-referral summary").first.inner_text().startswith("Où orienter")
    refused = _note_refused_after_expiry(context, page, database, task_id, "Note hors ligne")
    assert "Votre réservation de cette tâche a expiré" in refused.locator(".note-error").inner_text()
    assert refused.locator(".note-text").inner_text() == "Note hors ligne"
    _shoot(page, "my-refused-phone-fr")
    context.close()

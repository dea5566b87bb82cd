"""Mailing notifications through a real local SMTP server (aiosmtpd), on both databases:
each notification is mailed once, whatever the retries and the number of workers."""
from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest

from crisis_ct.accounts.models import User
from crisis_ct.notifications.delivery import MAX_ATTEMPTS, send_due
from crisis_ct.notifications.models import Notification
from crisis_ct.notifications.rules import notification_rules
from tests.notifications.conftest import later
from tests.notifications.smtp_server import LocalSmtp


@pytest.fixture
def smtp():
    server = LocalSmtp().start()
    yield server
    server.stop()


def _config(smtp) -> dict:
    return {"SMTP_URL": smtp.url, "MAIL_FROM": "crisis-ct@example.org", "PUBLIC_URL": "https://ct.example.org"}


def _send(world, smtp, now, worker="w1"):
    return send_due(world.database, _config(smtp), notification_rules(), worker_id=worker, now=now)


def _subject(message) -> str:
    return str(message["Subject"]).strip()  # a long subject is folded onto its own line


def _to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def test_a_notification_is_mailed_once_with_title_area_and_link_only(world, smtp):
    world.p1_task("S2")
    world.detect(later(1))
    result = _send(world, smtp, later(1))
    (message,) = _to(smtp, "cp@op1.org")
    body = message.get_content()
    assert _subject(message).startswith("New P1 task near you: ")
    assert "(XZ010101)" in _subject(message)  # the admin area, by name and P-code
    (row,) = [r for r in world.rows("task_new_match") if r.user_id == world.user_id("cp@op1.org")]
    assert f"https://ct.example.org/notifications/{row.id}" in body
    # No site, no answers, no person: only the subject and the link.
    for secret in ("Camp two", "S2", "EXP_ARMED_RECRUIT", "yes", "cp-near", "coord@"):
        assert secret not in body and secret not in _subject(message)
    assert row.email_status == "sent" and row.sent_at is not None and row.attempts == 1
    assert result.sent == len(smtp.messages)
    # A second run (a retry, the next tick) sends nothing more.
    assert _send(world, smtp, later(2)).sent == 0
    assert len(_to(smtp, "cp@op1.org")) == 1


def test_a_french_speaker_gets_the_email_in_french(world, smtp):
    with world.database.session() as session:
        session.get(User, world.user_id("cp@op1.org")).preferred_language = "fr"
    world.p1_task("S2")
    world.detect(later(1))
    _send(world, smtp, later(1))
    (message,) = _to(smtp, "cp@op1.org")
    assert _subject(message).startswith("Nouvelle tâche P1 près de vous : ")
    assert "Zone XZ010101" in _subject(message)
    assert "Ouvrir dans crisis-ct" in message.get_content()


def test_the_daily_digest_gathers_normal_notifications_at_its_hour(world, smtp):
    world.prefer("cp@op1.org", delivery="digest", digest_hour=18, timezone="Africa/Kinshasa")  # UTC+1
    world.p1_task("S2")  # 08:00 UTC
    world.p1_task("S0", now=later(30))
    world.detect(later(40))
    _send(world, smtp, later(60))
    assert _to(smtp, "cp@op1.org") == []
    _send(world, smtp, later(9 * 60 - 1))  # 16:59 UTC = 17:59 in Kinshasa
    assert _to(smtp, "cp@op1.org") == []
    _send(world, smtp, later(9 * 60))  # 18:00 in Kinshasa
    (digest,) = _to(smtp, "cp@op1.org")
    assert _subject(digest) == "crisis-ct: 2 notifications"
    assert digest.get_content().count("https://ct.example.org/notifications/") == 3  # 2 + settings


def test_quiet_hours_hold_mail_until_they_end_even_urgent_mail(world, smtp):
    world.prefer("cp@op1.org", quiet_start="22:00", quiet_end="09:30", timezone="UTC")
    world.p1_task("S2")  # 08:00 UTC: inside quiet hours
    world.detect(later(1))
    _send(world, smtp, later(60))
    assert _to(smtp, "cp@op1.org") == []
    _send(world, smtp, later(90))  # 09:30
    assert len(_to(smtp, "cp@op1.org")) == 1


def test_email_off_keeps_the_bell_and_sends_nothing(world, smtp):
    world.prefer("cp@op1.org", email=False)
    world.p1_task("S2")
    world.detect(later(1))
    _send(world, smtp, later(1))
    assert _to(smtp, "cp@op1.org") == []
    (row,) = [r for r in world.rows("task_new_match") if r.user_id == world.user_id("cp@op1.org")]
    assert row.in_app and row.email_status == "skip"


def test_a_refusing_server_is_retried_with_growing_delays_then_given_up(world, smtp):
    world.prefer("cp-fr@op1.org", email=False)
    world.prefer("cp-near@op1.org", email=False)
    world.p1_task("S2")
    world.detect(later(1))
    smtp.handler.refuse_with = "451 4.3.0 Try again later"
    result = _send(world, smtp, later(1))
    row = [r for r in world.rows("task_new_match") if r.user_id == world.user_id("cp@op1.org")][0]
    assert (result.retrying, row.email_status, row.attempts) == (1, "pending", 1)
    assert "451" in row.last_error
    first_retry = row.email_due_at
    assert _send(world, smtp, first_retry - timedelta(seconds=1)).retrying == 0  # not due yet
    _send(world, smtp, first_retry)
    row = [r for r in world.rows("task_new_match") if r.user_id == world.user_id("cp@op1.org")][0]
    assert row.attempts == 2 and row.email_due_at - first_retry > first_retry - later(1)  # the delay grew
    smtp.handler.refuse_with = None
    _send(world, smtp, row.email_due_at)
    assert len(_to(smtp, "cp@op1.org")) == 1
    # A server that never accepts: after MAX_ATTEMPTS the row stays failed with its error.
    smtp.handler.refuse_with = "554 5.7.1 Rejected"
    world.p1_task("S0", now=later(100))
    world.detect(later(101))
    moment = later(101)
    for _ in range(MAX_ATTEMPTS + 2):
        _send(world, smtp, moment)
        moment += timedelta(hours=7)
    failed = [r for r in world.rows("task_new_match") if r.email_status == "failed"]
    assert [r.attempts for r in failed] == [MAX_ATTEMPTS] and "554" in failed[0].last_error


def test_two_workers_at_once_never_mail_a_notification_twice(world, smtp):
    world.p1_task("S2")
    world.p1_task("S0", now=later(2))
    world.detect(later(3))
    expected = len([r for r in world.rows() if r.email_status == "pending"])
    assert expected >= 4
    smtp.handler.delay_seconds = 0.3  # both workers are mid-send at the same time
    barrier = threading.Barrier(2)
    errors = []

    def work(name):
        try:
            barrier.wait()
            _send(world, smtp, later(4), worker=name)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    links = [line for m in smtp.messages for line in m.get_content().splitlines() if "/notifications/" in line
             and "preferences" not in line]
    assert len(links) == len(set(links)) == expected
    assert all(r.email_status == "sent" for r in world.rows() if r.email_status != "skip")


def test_without_an_smtp_server_mail_waits_and_nothing_fails(world):
    world.p1_task("S2")
    world.detect(later(1))
    result = send_due(world.database, {"MAIL_FROM": "x@y.z"}, notification_rules(), worker_id="w", now=later(1))
    assert result.line() is None
    assert {r.email_status for r in world.rows()} == {"pending"}


def test_a_worker_that_died_while_sending_leaves_its_rows_unsent_for_ever(world, smtp):
    world.p1_task("S2")
    world.detect(later(1))
    with world.database.session() as session:
        for row in session.query(Notification):
            row.email_status, row.sending_by, row.sending_at = "sending", "dead-worker", later(1)
    _send(world, smtp, later(30))
    assert smtp.messages == []
    assert {r.email_status for r in world.rows()} == {"failed"}


def test_no_password_crosses_a_connection_without_tls(smtp):
    from crisis_ct.mail import build_message, deliver, parse_smtp_url

    message = build_message({"MAIL_FROM": "crisis-ct@example.org"}, "cp@op1.org", "s", "b")
    plain = smtp.url.replace("smtp://", "smtp://alice:secret@")
    with pytest.raises(smtplib.SMTPException, match="without TLS"):
        deliver(parse_smtp_url(plain), message)
    # STARTTLS is required by default: a server that does not offer it gets nothing.
    with pytest.raises(smtplib.SMTPException):
        deliver(parse_smtp_url(smtp.url.replace("?starttls=off", "")), message)
    assert smtp.messages == []


def test_a_deactivated_person_gets_no_mail(world, smtp):
    world.p1_task("S2")
    world.detect(later(1))
    with world.database.session() as session:
        session.get(User, world.user_id("cp@op1.org")).is_active = False
    _send(world, smtp, later(1))
    assert _to(smtp, "cp@op1.org") == [] and len(smtp.messages) == 2  # cp-fr and cp-near still
    (row,) = [r for r in world.rows() if r.user_id == world.user_id("cp@op1.org")]
    assert row.email_status == "skip"

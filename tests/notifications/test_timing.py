"""When an email may go out, and how the SMTP server is named: plain functions."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crisis_ct.mail import SmtpServer, parse_smtp_url, smtp_server
from crisis_ct.notifications.preferences import Preferences, PreferencesError, checked, email_due_at


def utc(hour, minute=0, day=20):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def test_immediate_outside_quiet_hours_is_now():
    assert email_due_at(Preferences(), utc(10), urgent=False) == utc(10)


def test_quiet_hours_across_midnight_in_the_persons_time_zone():
    p = Preferences(quiet_start="21:00", quiet_end="07:00", timezone="Africa/Kinshasa")  # UTC+1
    assert email_due_at(p, utc(19, 59), urgent=True) == utc(19, 59)  # 20:59 local
    assert email_due_at(p, utc(20), urgent=True) == utc(6, day=21)  # 21:00 local -> 07:00 local
    assert email_due_at(p, utc(3), urgent=True) == utc(6)  # 04:00 local -> 07:00 local, same day


def test_the_digest_waits_for_its_hour_but_urgent_mail_does_not():
    p = Preferences(delivery="digest", digest_hour=7, timezone="UTC")
    assert email_due_at(p, utc(8), urgent=False) == utc(7, day=21)
    assert email_due_at(p, utc(6, 30), urgent=False) == utc(7)
    assert email_due_at(p, utc(8), urgent=True) == utc(8)


def test_a_digest_hour_inside_quiet_hours_moves_to_their_end():
    p = Preferences(delivery="digest", digest_hour=6, quiet_start="22:00", quiet_end="08:00")
    assert email_due_at(p, utc(12), urgent=False) == utc(8, day=21)


@pytest.mark.parametrize(("preferences", "field"), [
    (Preferences(delivery="weekly"), "delivery"),
    (Preferences(quiet_start="22:00"), "quiet_start"),
    (Preferences(quiet_start="25:00", quiet_end="07:00"), "quiet_start"),
    (Preferences(timezone="Mars/Olympus"), "timezone"),
    (Preferences(radius_km=5), "radius_km"),
    (Preferences(near_lon=500, near_lat=0, radius_km=5), "radius_km"),
])
def test_wrong_preferences_name_their_field(preferences, field):
    with pytest.raises(PreferencesError) as error:
        checked(preferences)
    assert error.value.field == field


def test_smtp_urls():
    assert parse_smtp_url("smtp://alice:s%40cret@mail.example.org") == SmtpServer(
        "mail.example.org", 587, "alice", "s@cret", "starttls")
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtps://mail.example.org").security == "tls"
    assert parse_smtp_url("smtp://relay:25?starttls=off") == SmtpServer("relay", 25, "", "", "none")
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example.org")
    # The URL wins over the older separate settings, which still work alone.
    assert smtp_server({"SMTP_URL": "smtps://a", "SMTP_HOST": "b"}).host == "a"
    assert smtp_server({"SMTP_HOST": "b", "SMTP_PORT": 2525, "SMTP_STARTTLS": False}) == SmtpServer(
        "b", 2525, "", "", "none")
    assert smtp_server({}) is None

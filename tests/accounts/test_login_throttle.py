"""The sign-in counters (crisis_ct.accounts.login_throttle), on both databases."""
from datetime import datetime, timedelta, timezone

from crisis_ct.accounts.login_throttle import (LoginPolicy, clear, email_counter, email_key, give_back,
                                               locked_until, take_slot)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
POLICY = LoginPolicy(max_failures=3, window=timedelta(minutes=15))
KEY = email_counter("v@example.org")


def _take(database, at: datetime):
    with database.session() as session:
        return take_slot(session, KEY, now=at, policy=POLICY)


def test_the_limit_within_the_window_locks_until_the_window_ends(database):
    slots = [_take(database, NOW + timedelta(minutes=m)) for m in (0, 1, 2, 3)]
    assert [s.allowed for s in slots] == [True, True, True, False]
    assert slots[-1].locked_until == NOW + timedelta(minutes=15)
    with database.session() as session:
        assert locked_until(session, KEY, now=NOW + timedelta(minutes=5), policy=POLICY) == NOW + timedelta(minutes=15)
        assert locked_until(session, KEY, now=NOW + timedelta(minutes=15), policy=POLICY) is None


def test_a_new_window_starts_the_count_again(database):
    for m in (0, 1, 2, 3):
        _take(database, NOW + timedelta(minutes=m))
    slot = _take(database, NOW + timedelta(minutes=16))
    assert slot.allowed and slot.attempts == 1 and slot.window_started_at == NOW + timedelta(minutes=16)


def test_a_slot_given_back_does_not_count_and_clear_forgets_the_key(database):
    for m in (0, 1):
        _take(database, NOW + timedelta(minutes=m))
    right_password = _take(database, NOW + timedelta(minutes=2))
    with database.session() as session:
        give_back(session, right_password)
    assert _take(database, NOW + timedelta(minutes=3)).allowed
    assert not _take(database, NOW + timedelta(minutes=4)).allowed
    with database.session() as session:
        assert clear(session, KEY)
    assert _take(database, NOW + timedelta(minutes=5)).attempts == 1


def test_the_email_is_compared_without_case_or_surrounding_spaces_and_fits_the_audit_column():
    assert email_key("  V@Example.ORG ") == "v@example.org"
    assert email_counter(" V@Example.ORG") == KEY
    assert len(email_key("x" * 300 + "@example.org")) == 64

"""The lock after repeated failed sign-ins, as a plain function of the failure times."""
from datetime import datetime, timedelta, timezone

from crisis_ct.accounts.login_throttle import LoginPolicy, email_key, locked_until

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
POLICY = LoginPolicy(max_failures=3, window=timedelta(minutes=15))


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_fewer_failures_than_the_limit_leave_sign_in_open():
    assert locked_until(minutes_ago(1, 2), now=NOW, policy=POLICY) is None


def test_the_limit_within_the_window_locks_until_the_oldest_counted_failure_leaves_it():
    assert locked_until(minutes_ago(1, 2, 10), now=NOW, policy=POLICY) == NOW + timedelta(minutes=5)


def test_failures_older_than_the_window_do_not_count():
    assert locked_until(minutes_ago(1, 2, 15, 40), now=NOW, policy=POLICY) is None


def test_with_more_failures_than_the_limit_the_most_recent_ones_set_the_lock():
    assert locked_until(minutes_ago(1, 2, 3, 14), now=NOW, policy=POLICY) == NOW + timedelta(minutes=12)


def test_the_email_is_compared_without_case_or_surrounding_spaces_and_fits_the_audit_column():
    assert email_key("  V@Example.ORG ") == "v@example.org"
    assert len(email_key("x" * 300 + "@example.org")) == 64

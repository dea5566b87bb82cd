"""KoboClient against the fake Kobo server: paging, resume, retries, errors."""
from __future__ import annotations

import json
import socket
from datetime import datetime, timezone

import pytest
import requests

from crisis_ct.kobo.client import KoboAuthError, KoboClient, KoboNotFound, KoboUnavailable
from crisis_ct.kobo.formspec import FormSpec

UID = "aTestAsset123"


def records(n: int, start: int = 1) -> list[dict]:
    return [{"_id": i, "_uuid": f"u-{i}", "_submission_time": f"2026-03-{1 + i % 28:02d}T10:00:00"}
            for i in range(start, start + n)]


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(fake_kobo, waits) -> KoboClient:
    fake_kobo.add_asset(UID)
    return KoboClient(fake_kobo.base_url, "test-token", timeout=5, sleep=waits.append, rng=lambda: 0.5)


def all_ids(pages) -> list[int]:
    return [r["_id"] for page in pages for r in page]


def test_list_assets(fake_kobo, client):
    fake_kobo.add_records(UID, records(3))
    [asset] = client.list_assets()
    assert (asset["uid"], asset["deployment__submission_count"]) == (UID, 3)


def test_get_asset_content_builds_the_same_form(fake_kobo, client, sample_form):
    fake_kobo.add_asset(UID, content=sample_form.to_asset_content(), version=sample_form.version)
    asset = client.get_asset(UID)
    assert FormSpec.from_asset_content(asset["content"], asset["deployed_version_id"]) == sample_form


def test_pages_follow_next_until_the_end(fake_kobo, client):
    fake_kobo.add_records(UID, records(250))
    pages = list(client.iter_submission_pages(UID, page_size=100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert all_ids(pages) == list(range(1, 251))


def test_pages_are_requested_sorted_by_id(fake_kobo, client):
    fake_kobo.add_records(UID, list(reversed(records(30))))
    assert all_ids(client.iter_submission_pages(UID, page_size=10)) == list(range(1, 31))
    assert json.loads(fake_kobo.data_requests()[0].params["sort"]) == {"_id": 1}


def test_page_size_is_capped_at_1000(fake_kobo, client):
    fake_kobo.add_records(UID, records(2500))
    pages = list(client.iter_submission_pages(UID, page_size=30000))
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert fake_kobo.data_requests()[0].params["limit"] == "1000"


def test_server_caps_a_larger_limit_silently(fake_kobo, client):
    fake_kobo.add_records(UID, records(1200))
    response = requests.get(f"{fake_kobo.base_url}/api/v2/assets/{UID}/data/",
                            params={"format": "json", "limit": 5000},
                            headers={"Authorization": "Token test-token"}, timeout=5)
    body = response.json()
    assert (len(body["results"]), body["count"]) == (1000, 1200)
    assert body["next"] is not None


def test_after_id_asks_only_for_newer_records(fake_kobo, client):
    fake_kobo.add_records(UID, records(50))
    assert all_ids(client.iter_submission_pages(UID, after_id=40)) == list(range(41, 51))
    assert json.loads(fake_kobo.data_requests()[0].params["query"]) == {"_id": {"$gt": 40}}


def test_submitted_since_filters_on_submission_time(fake_kobo, client):
    fake_kobo.add_records(UID, records(10))
    since = datetime(2026, 3, 8, 9, 0, tzinfo=timezone.utc)
    pages = list(client.iter_submission_pages(UID, submitted_since=since))
    assert all(r["_submission_time"] >= "2026-03-08T09:00:00" for r in pages[0])
    assert json.loads(fake_kobo.data_requests()[0].params["query"]) == \
        {"_submission_time": {"$gte": "2026-03-08T09:00:00"}}


def test_resume_after_failure_loses_and_duplicates_nothing(fake_kobo, waits):
    fake_kobo.add_asset(UID)
    fake_kobo.add_records(UID, records(300))
    client = KoboClient(fake_kobo.base_url, "test-token", max_retries=2, sleep=waits.append)
    stored: list[int] = []
    with pytest.raises(KoboUnavailable):
        for page in client.iter_submission_pages(UID, page_size=100):
            stored.extend(r["_id"] for r in page)
            fake_kobo.fail_next(3, status=503)
    for page in client.iter_submission_pages(UID, after_id=max(stored), page_size=100):
        stored.extend(r["_id"] for r in page)
    assert stored == list(range(1, 301))


def test_429_waits_for_retry_after(fake_kobo, client, waits):
    fake_kobo.add_records(UID, records(5))
    fake_kobo.fail_next(2, status=429, retry_after=7)
    assert all_ids(client.iter_submission_pages(UID)) == [1, 2, 3, 4, 5]
    assert waits == [7.0, 7.0]


def test_429_without_retry_after_backs_off(fake_kobo, client, waits):
    fake_kobo.fail_next(1, status=429, retry_after=None)
    client.list_assets()
    assert len(waits) == 1 and 0 < waits[0] <= 1.0


def test_transient_500_is_retried_with_backoff(fake_kobo, client, waits):
    fake_kobo.add_records(UID, records(5))
    fake_kobo.fail_next(1, status=500)
    assert len(all_ids(client.iter_submission_pages(UID))) == 5
    assert len(waits) == 1 and waits[0] > 0


def test_backoff_grows_between_attempts(fake_kobo, client, waits):
    fake_kobo.fail_next(3, status=502)
    client.list_assets()
    assert waits[0] < waits[1] < waits[2]


def test_gives_up_after_max_retries(fake_kobo, waits):
    fake_kobo.add_asset(UID)
    client = KoboClient(fake_kobo.base_url, "test-token", max_retries=3, sleep=waits.append)
    fake_kobo.fail_next(10, status=504)
    with pytest.raises(KoboUnavailable):
        client.get_asset(UID)
    assert len(fake_kobo.requests) == 4 and len(waits) == 3


def test_connection_refused_is_retried_then_unavailable(waits):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = KoboClient(f"http://127.0.0.1:{port}", "t", max_retries=2, sleep=waits.append, timeout=2)
    with pytest.raises(KoboUnavailable):
        client.list_assets()
    assert len(waits) == 2


def test_wrong_token_is_an_auth_error_without_the_token(fake_kobo):
    fake_kobo.add_asset(UID)
    client = KoboClient(fake_kobo.base_url, "s3cret-wrong", sleep=lambda s: None)
    with pytest.raises(KoboAuthError) as info:
        client.get_asset(UID)
    assert info.value.status == 401
    assert "s3cret-wrong" not in str(info.value)


def test_auth_error_is_not_retried(fake_kobo):
    client = KoboClient(fake_kobo.base_url, "nope", sleep=lambda s: None)
    with pytest.raises(KoboAuthError):
        client.list_assets()
    assert len(fake_kobo.requests) == 1


def test_unknown_asset_is_not_found(client):
    with pytest.raises(KoboNotFound):
        client.get_asset("doesNotExist")


def test_get_one_submission(fake_kobo, client):
    fake_kobo.add_records(UID, records(3))
    assert client.get_submission(UID, 2)["_uuid"] == "u-2"


def test_edit_on_server_is_seen_on_next_read(fake_kobo, client):
    fake_kobo.add_records(UID, records(3))
    fake_kobo.replace_record(UID, 2, {"_id": 2, "_uuid": "u-2-edited"})
    assert client.get_submission(UID, 2)["_uuid"] == "u-2-edited"


def test_repr_hides_the_token():
    client = KoboClient("https://kobo.example.org", "abcdef123456")
    assert "abcdef123456" not in repr(client)


def test_token_sent_in_authorization_header(fake_kobo, client):
    client.list_assets()
    assert fake_kobo.requests[0].authorization == "Token test-token"


class _StubResponse:
    def __init__(self, body):
        self.status_code, self.content, self.headers = 200, json.dumps(body).encode(), {}


class _StubSession:
    def __init__(self, pages):
        self.pages, self.urls = list(pages), []

    def request(self, method, url, **kwargs):
        self.urls.append(url)
        return _StubResponse(self.pages.pop(0))


def test_next_link_is_rebased_on_the_configured_server():
    # kpi behind a proxy may advertise an internal host; the token must not follow it there.
    session = _StubSession([
        {"next": "http://kpi-internal:8000/api/v2/assets/a/data/?start=1&limit=1", "results": [{"_id": 1}]},
        {"next": None, "results": [{"_id": 2}]},
    ])
    client = KoboClient("https://kobo.example.org", "t", session=session)
    assert all_ids(client.iter_submission_pages("a")) == [1, 2]
    assert session.urls[1] == "https://kobo.example.org/api/v2/assets/a/data/?start=1&limit=1"


def test_repeated_record_across_pages_is_yielded_once():
    session = _StubSession([
        {"next": "https://k.org/api/v2/assets/a/data/?start=2", "results": [{"_id": 1}, {"_id": 2}]},
        {"next": None, "results": [{"_id": 2}, {"_id": 3}]},
    ])
    client = KoboClient("https://k.org", "t", session=session)
    assert all_ids(client.iter_submission_pages("a")) == [1, 2, 3]


# -- bodies that fail like a 5xx (issue 11, item 7) ------------------------------------------------
@pytest.mark.parametrize("kind", ["truncate", "not_json"])
def test_a_truncated_or_non_json_body_is_retried_like_a_5xx(fake_kobo, client, waits, kind):
    fake_kobo.add_records(UID, records(5))
    fake_kobo.misbehave_next(2, kind)
    assert all_ids(client.iter_submission_pages(UID)) == [1, 2, 3, 4, 5]
    assert len(waits) == 2


def test_a_body_that_keeps_failing_ends_as_unavailable(fake_kobo, waits):
    fake_kobo.add_asset(UID)
    client = KoboClient(fake_kobo.base_url, "test-token", max_retries=2, sleep=waits.append)
    fake_kobo.misbehave_next(3, "truncate")
    with pytest.raises(KoboUnavailable, match="cut short"):
        client.get_asset(UID)
    assert len(waits) == 2


def test_a_dripping_response_hits_the_overall_deadline_not_just_the_socket_timeout(fake_kobo, waits):
    import time

    fake_kobo.add_asset(UID)
    fake_kobo.add_records(UID, records(20))
    # Each byte arrives well within the socket time-out; the whole body would take minutes.
    fake_kobo.misbehave_next(1, "drip", seconds=300, interval=0.05)
    client = KoboClient(fake_kobo.base_url, "test-token", timeout=5, deadline=1.0, max_retries=2,
                        sleep=waits.append)
    started = time.monotonic()
    assert all_ids(client.iter_submission_pages(UID)) == list(range(1, 21))
    assert time.monotonic() - started < 4 and len(waits) == 1

"""The sign-in lock under concurrency (issue 13, item 6): 60 simultaneous attempts at one
account, against the app served over HTTP by two servers (one in a process of its own)
sharing the database, check at most 5 passwords; a per-client limit holds across them too.
Both databases."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests
import sqlalchemy as sa

from crisis_ct.accounts.models import AuditEvent
from crisis_ct.app import create_app
from tests.support.served_app import served
from tests.web.conftest import PASSWORD

ATTEMPTS = 60
SERVE = """
import sys
from werkzeug.serving import run_simple
from crisis_ct.app import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "shared-secret", **eval(sys.argv[3])})
run_simple("127.0.0.1", int(sys.argv[2]), app, threaded=True)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not start")


@pytest.fixture
def two_servers(database):
    """Base URLs of two app servers on one database: one in this process, one in another."""
    def start(settings: dict):
        app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": "shared-secret", **settings})
        here = stack.enter_context(served(app))
        stack.callback(app.extensions["crisis_ct_db"].dispose)
        port = _free_port()
        other = subprocess.Popen([sys.executable, "-c", SERVE, database.url, str(port), repr(settings)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(other.wait, timeout=30)
        stack.callback(other.terminate)
        _wait_until_up(f"http://127.0.0.1:{port}")
        return [here, f"http://127.0.0.1:{port}"]

    with ExitStack() as stack:
        yield start


def _ready_browser(base: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30).text
    return browser, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _count(database, action: str) -> int:
    with database.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_sixty_simultaneous_guesses_check_at_most_five_passwords(seed, operation, database, two_servers):
    seed.member("target@example.org", "viewer", operation)
    bases = two_servers({})
    browsers = [(base, *_ready_browser(base)) for base in (bases * ATTEMPTS)[:ATTEMPTS]]
    start = threading.Barrier(ATTEMPTS)

    def guess(args):
        number, (base, browser, token) = args
        start.wait()
        return browser.post(f"{base}/login", timeout=120, allow_redirects=False,
                            data={"email": "target@example.org", "password": f"guess {number}",
                                  "csrf_token": token}).status_code

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        statuses = list(pool.map(guess, enumerate(browsers)))
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == _count(database, "login.failed") <= 5
    assert statuses.count(429) >= ATTEMPTS - 5
    # Locked now, right password or not.
    browser, token = _ready_browser(bases[0])
    assert browser.post(f"{bases[0]}/login", allow_redirects=False, timeout=30, data={
        "email": "target@example.org", "password": PASSWORD, "csrf_token": token}).status_code == 429


def test_one_client_trying_many_emails_is_stopped_by_every_server(seed, operation, database, two_servers):
    bases = two_servers({"LOGIN_MAX_FAILURES_PER_CLIENT": 4})
    statuses = []
    for number in range(8):
        base = bases[number % 2]
        browser, token = _ready_browser(base)
        response = browser.post(f"{base}/login", allow_redirects=False, timeout=30, data={
            "email": f"person{number}@example.org", "password": "guess", "csrf_token": token})
        statuses.append(response.status_code)
    assert statuses == [401] * 4 + [429] * 4
    assert "Too many failed sign-ins from this network" in response.text
    assert _count(database, "login.failed") == 4

"""/my on a 3G profile in headless Chromium (network emulation through the DevTools protocol):
the first load (empty cache, no service worker) until the held tasks are drawn, the cached
load (service worker installed, data kept) until they are drawn again, the same with no
network at all, and the page's bytes before data.

`bench/run.py --only my` measures it on the scored 10,000-site world; run alone,
`.venv/bin/python bench/bench_my.py` builds the small demo operation in a temporary SQLite
database instead (about a minute) and prints the same figures.

The emulation applies to the page's own requests. The service worker's requests are its own
target, which page-level emulation does not reach: on the cached load the worker asks the
network for the page HTML but answers from its copy after at most 800 ms
(static/js/my-sw.js, NAVIGATION_WAIT_MS), and the "offline" figure bounds that case.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_map import CHROMIUM, CHROMIUM_ARGS, record_body_sizes  # noqa: E402
from bench.measure import Figure, at_most, info, median  # noqa: E402

# DevTools' "Fast 3G" preset: 562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up.
THREE_G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
           "uploadThroughput": 750 * 1024 / 8 * 0.9}
MAX_FIRST_S = 5
MAX_CACHED_S = 1
MAX_PAGE_KB = 150
LOADS = 3
EMAIL = "field@bench.example.org"
PASSWORD = "bench field expert password"
HELD = 3
DRAWN = "#my-held .my-card .my-countdown[data-expires]"
# The next navigation to /my goes through the worker once it is active (whether or not it
# has claimed the page already open).
WORKER_ACTIVE = ("() => navigator.serviceWorker.getRegistration()"
                 ".then(r => !!(r && r.active && r.active.state === 'activated'))")


def add_field_expert(database_url: str, operation_code: str) -> str:
    """An expert with a password and every expertise tag, holding HELD P1/P2 site tasks."""
    import sqlalchemy as sa

    from crisis_ct.accounts.audit import Actor
    from crisis_ct.accounts.models import User
    from crisis_ct.accounts.operations import add_user
    from crisis_ct.db import Database
    from crisis_ct.geography.operations import get_operation
    from crisis_ct.tasks.claims import Acting, claim
    from crisis_ct.tasks.models import MitigationTask
    from crisis_ct.tasks.service import catalogues
    from crisis_ct.timeutil import utcnow

    every_tag = sorted({tag for rule in catalogues()[0].rules for tag in rule.expertise})
    database = Database(database_url)
    with database.session() as session:
        add_user(session, Actor.system("bench"), EMAIL, role="expert", operation_code=operation_code,
                 password=PASSWORD, expertise=every_tag, languages=["en", "fr"])
        session.commit()
        user_id = session.scalar(sa.select(User.id).where(User.email == EMAIL))
        operation = get_operation(session, operation_code)
        tasks = session.scalars(sa.select(MitigationTask).where(
            MitigationTask.operation_id == operation.id, MitigationTask.status == "open",
            MitigationTask.site_id.is_not(None)).order_by(MitigationTask.priority, MitigationTask.id).limit(HELD))
        who = Acting(Actor(user_id, EMAIL), "expert", tuple(every_tag))
        for task in list(tasks):
            claim(session, task, who, now=utcnow(), hours=24, max_active=10)
        session.commit()
    database.dispose()
    return EMAIL


def wait_until(page, function: str, timeout_s: float = 60) -> None:
    """Poll `function` in the page until it is true. Not wait_for_function: that evaluates a
    string inside the page, which the page's CSP (no unsafe-eval) refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(function):
        if time.monotonic() > deadline:
            raise TimeoutError(function)
        time.sleep(0.1)


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login?next=/my")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/my*")


def _timed_load(page, base: str) -> float:
    started = time.perf_counter()
    page.goto(f"{base}/my", wait_until="commit")
    page.wait_for_selector(DRAWN, timeout=60000)
    return time.perf_counter() - started


def one_round(browser, base: str) -> dict:
    """One first load and one cached load in a fresh browser context, each under 3G."""
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    _sign_in(page, base)
    page.goto("about:blank")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")  # without it the emulation is not applied to every request
    cdp.send("Network.clearBrowserCache")  # the sign-in page left app.css in the HTTP cache
    cdp.send("Network.emulateNetworkConditions", THREE_G)
    sizes = record_body_sizes(page)
    first = _timed_load(page, base)
    sizes = dict(sizes)  # the first load's responses only
    page_bytes = sum(n for url, n in sizes.items() if "/my/data.json" not in url)
    data_bytes = sum(n for url, n in sizes.items() if "/my/data.json" in url)
    # Wait until the worker controls the page and the data is kept, as after any first visit.
    page.wait_for_selector("#my-status[data-state='online']", timeout=60000)
    wait_until(page, WORKER_ACTIVE)
    wait_until(page, "() => caches.open('crisis-ct-my-data').then(c => c.match('/my/data.json')).then(r => !!r)")
    page.goto("about:blank")
    cached = _timed_load(page, base)
    page.goto("about:blank")
    context.set_offline(True)
    offline = _timed_load(page, base)
    context.close()
    return {"first": first, "cached": cached, "offline": offline, "page_bytes": page_bytes,
            "data_bytes": data_bytes}


def measure(base: str, loads: int = LOADS) -> list[dict]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is not installed (make test installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        one_round(browser, base)  # warm-up: gunicorn's workers and Chromium's first start
        rounds = [one_round(browser, base) for _ in range(loads)]
        browser.close()
    return rounds


def figures(rounds: list[dict]) -> list[Figure]:
    first = [r["first"] for r in rounds]
    cached = [r["cached"] for r in rounds]
    offline = [r["offline"] for r in rounds]
    how = f"headless Chromium, phone viewport, DevTools Fast 3G emulation, {len(rounds)} loads"
    return [
        at_most("my_first_load_s", "/my first load on 3G until held tasks drawn (median)", round(median(first), 2),
                "s", MAX_FIRST_S, note=f"{how}; empty cache, no service worker; max {max(first):.2f} s",
                detail={"seconds": first}),
        at_most("my_cached_load_s", "/my cached load on 3G until held tasks drawn (median)",
                round(median(cached), 2), "s", MAX_CACHED_S,
                note=f"{how}; service worker and kept data; max {max(cached):.2f} s", detail={"seconds": cached}),
        at_most("my_offline_load_s", "/my with no network until held tasks drawn (median)",
                round(median(offline), 2), "s", MAX_CACHED_S, note=f"max {max(offline):.2f} s",
                detail={"seconds": offline}),
        at_most("my_page_kb", "/my transfer before data (HTML, CSS, JS, manifest, icons, worker)",
                round(rounds[-1]["page_bytes"] / 1024, 1), "KB", MAX_PAGE_KB,
                note="response bodies, uncompressed, empty cache; /my/data.json excluded"),
        info("my_data_kb", "  /my data fetched", round(rounds[-1]["data_bytes"] / 1024, 1), "KB"),
    ]


def my_page(lab) -> list[Figure]:
    """For bench/run.py: the scored 10,000-site world, served by gunicorn."""
    from bench.lab import OPERATION
    from bench.served import gunicorn

    url = lab.copy_database(lab.scored(), "mydb")
    add_field_expert(url, OPERATION)
    with gunicorn(url) as port:
        return figures(measure(f"http://127.0.0.1:{port}"))


def _demo_main() -> int:
    """Alone: the demo operation in a temporary SQLite database, served in this process."""
    from crisis_ct.accounts.audit import Actor
    from crisis_ct.app import create_app
    from crisis_ct.db import Database, upgrade
    from crisis_ct.demo import load_demo
    from tests.support.served_app import served

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/my-bench.sqlite"
        database = Database(url)
        upgrade(database)
        with database.session() as session:
            load_demo(session, Actor.system("bench"))
            session.commit()
        database.dispose()
        add_field_expert(url, "demo")
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        with served(app) as base:
            for figure in figures(measure(base)):
                print(f"{figure.label:<72} {figure.value:>8} {figure.unit:<3} {figure.goal:<8} {figure.verdict}"
                      f"  {figure.note}")
    return 0


if __name__ == "__main__":
    sys.exit(_demo_main())

"""Figure 8: the map page in headless Chromium: bytes before data, time until 10,000 markers."""
from __future__ import annotations

import time
from pathlib import Path

from bench.lab import N_SITES, Lab
from bench.measure import Figure, at_most, info, median
from bench.served import gunicorn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MAX_PAGE_KB = 500
MAX_DRAW_S = 2
LOADS = 5
DATA_PATHS = ("/api/",)  # what the page fetches as data, after it has loaded


def _sign_in(page, base: str, lab: Lab) -> None:
    page.goto(f"{base}/login?next=/map")
    # A coordinator: the role that sees every site on the map.
    page.fill("#email", lab.tokens.coordinator_email)
    page.fill("#password", lab.tokens.coordinator_password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/map*")


def record_body_sizes(page) -> dict[str, int]:
    """Body bytes by URL of every response the page gets from now on (filled as they come)."""
    sizes: dict[str, int] = {}

    def on_response(response):
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # redirects have no body
            sizes[response.url] = 0

    page.on("response", on_response)
    return sizes


# The page's own Resource Timing: decoded body bytes of the document and of everything it
# fetched. Not Playwright's response.body(): Chromium's DevTools keeps no body over 10 MB, so
# the 50,000 sites' GeoJSON (24 MB) was counted as 0 bytes ("data fetched 0.1 MB").
RESOURCE_SIZES = """() => Object.fromEntries(performance.getEntriesByType('navigation')
    .concat(performance.getEntriesByType('resource')).map((e) => [e.name, e.decodedBodySize]))"""


def _one_load(context, base: str, markers: int = N_SITES) -> tuple[float, dict[str, int]]:
    """Seconds from navigation to `markers` drawn markers, and body bytes by URL, with an
    empty cache (a fresh page in a context whose cache was never filled for these assets)."""
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{base}/map")
    # A selector, not wait_for_function: the page's CSP forbids the eval that the latter uses.
    page.wait_for_selector(f"#risk-map[data-site-markers='{markers}']", state="attached", timeout=120000)
    seconds = time.perf_counter() - started
    sizes = page.evaluate(RESOURCE_SIZES)
    page.close()
    return seconds, sizes


def map_page(lab: Lab) -> list[Figure]:
    url = lab.copy_database(lab.scored(), "mapdb")
    timings, page_bytes, data_bytes = map_loads(lab, url, N_SITES)
    return [
        at_most("map_page_kb", "Map page transfer before data (/map: HTML, CSS, JS, images)",
                round(page_bytes / 1024, 1), "KB", MAX_PAGE_KB,
                note="response bodies, uncompressed, empty cache; API data excluded"),
        at_most("map_draw_s", f"Map: navigation to {N_SITES:,} site markers drawn (median)",
                round(median(timings), 2), "s", MAX_DRAW_S,
                note=f"headless Chromium, gunicorn, signed in, empty cache, {LOADS} loads; "
                     f"max {max(timings):.2f} s; data fetched {data_bytes / 1e6:.1f} MB",
                detail={"seconds": timings, "data_bytes": data_bytes}),
        info("map_data_mb", "  map data fetched (site rows + areas GeoJSON)", round(data_bytes / 1e6, 2), "MB"),
    ]


def map_loads(lab: Lab, url: str, markers: int, loads: int = LOADS) -> tuple[list[float], int, int]:
    """`loads` timed loads of /map (after one warm-up) until `markers` markers are drawn; the
    seconds, and the bytes of the page and of its data on the last load."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is not installed (make test installs it)")
    timings: list[float] = []
    page_bytes = data_bytes = 0
    with gunicorn(url) as port, sync_playwright() as playwright:
        base = f"http://127.0.0.1:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for run in range(loads + 1):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            _sign_in(context.new_page(), base, lab)
            seconds, sizes = _one_load(context, base, markers)
            context.close()
            if run == 0:
                continue  # the first load also pays gunicorn's and Chromium's warm-up
            timings.append(seconds)
            page_bytes = sum(n for u, n in sizes.items() if not any(p in u for p in DATA_PATHS))
            data_bytes = sum(n for u, n in sizes.items() if any(p in u for p in DATA_PATHS))
        browser.close()
    return timings, page_bytes, data_bytes

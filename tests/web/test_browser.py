"""The pages in a real headless Chromium (Debian's), against the app served on
127.0.0.1 with the scored demo operation.

Browser tests run on SQLite only: they check what the browser shows and fetches,
which does not depend on the storage backend; the same pages and API run on both
backends in the test-client tests beside this file.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.audit import Actor
from crisis_ct.demo import load_demo
from crisis_ct.geography.models import Site
from tests.support.served_app import served
from tests.web.conftest import HOSTILE_NAME, PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
MAP_BUDGET_BYTES = 500 * 1024
HOSTILE_SITE = "XZ-S-0002"


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def server(app, database, seed):
    with database.session() as session:
        load_demo(session, Actor.system("test"))
        session.scalar(sa.select(Site).where(Site.site_code == HOSTILE_SITE)).name = HOSTILE_NAME
    seed.member("viewer@example.org", "viewer", "demo")
    seed.member("expert@example.org", "expert", "demo")
    seed.member("coord@example.org", "coordinator", "demo")
    with served(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Recorder:
    """Every request the page makes, and the bytes of every response body."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.body_bytes: dict[str, int] = {}
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("response", self._response)

    def _response(self, response):
        try:
            self.body_bytes[response.url] = len(response.body())
        except Exception:  # redirects have no body
            self.body_bytes[response.url] = 0

    def foreign_hosts(self, base: str) -> set[str]:
        own = urlsplit(base).netloc
        return {urlsplit(url).netloc for url in self.urls
                if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own}


def _new_page(browser, viewport=DESKTOP, **options):
    context = browser.new_context(viewport=viewport, **options)
    return context, context.new_page()


def _sign_in(page, base: str, email: str, next_path: str = "/map"):
    page.goto(f"{base}/login?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}{next_path}*")


def _wait_for_map(page):
    page.wait_for_selector("#risk-map[data-state='ready']", timeout=20000)


def _shoot(page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_the_map_draws_sites_and_areas_and_asks_no_other_host(server, browser):
    context, page = _new_page(browser)
    recorder = Recorder(page)
    _sign_in(page, server, "expert@example.org")
    _wait_for_map(page)
    markers = int(page.get_attribute("#risk-map", "data-site-markers"))
    areas = int(page.get_attribute("#risk-map", "data-area-features"))
    assert markers > 100
    assert areas > 0
    assert recorder.foreign_hosts(server) == set()
    _shoot(page, "map-desktop")
    context.close()


def test_a_viewers_map_draws_admin_areas_and_asks_for_no_site(server, browser):
    """Site phases are site-level results (domain.md §4.3): a viewer's map is of admin areas."""
    context, page = _new_page(browser)
    recorder = Recorder(page)
    _sign_in(page, server, "viewer@example.org")
    _wait_for_map(page)
    assert int(page.get_attribute("#risk-map", "data-area-features")) > 0
    assert int(page.get_attribute("#risk-map", "data-site-markers")) == 0
    assert not [url for url in recorder.urls if "/api/v1/sites" in url]
    _shoot(page, "map-viewer-desktop")
    context.close()


def test_the_phase_filter_redraws_fewer_markers(server, browser):
    context, page = _new_page(browser)
    _sign_in(page, server, "expert@example.org")
    _wait_for_map(page)
    everything = int(page.get_attribute("#risk-map", "data-site-markers"))
    page.select_option("#f-phase", "4plus")
    page.wait_for_function(
        f"Number(document.getElementById('risk-map').dataset.siteMarkers) < {everything}")
    assert "phase=4plus" in page.url
    assert "phase=4plus" in page.get_attribute("#list-link", "href")
    context.close()


def _centre_on_site(page, site_id: str) -> tuple[float, float]:
    """Centre the map on a site at zoom 15 and return where its dot is on the page. Canvas dots
    have no DOM element: the site is found through the test hook, then clicked as a person would."""
    point = page.evaluate("""(code) => {
        const hook = window.crisisRiskMap;
        let target = null;
        hook.sites.eachSite((props, latlng) => { if (props.site_id === code) target = latlng; });
        hook.map.setView(target, 15, { animate: false });
        const p = hook.map.latLngToContainerPoint(target);
        return { x: p.x, y: p.y };
    }""", site_id)
    box = page.locator("#risk-map").bounding_box()
    return box["x"] + point["x"], box["y"] + point["y"]


def test_a_site_popup_shows_a_hostile_name_as_text_and_links_to_its_explanation(server, browser):
    context, page = _new_page(browser)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, server, "expert@example.org")
    _wait_for_map(page)
    x, y = _centre_on_site(page, HOSTILE_SITE)
    page.mouse.click(x, y)
    title = page.wait_for_selector(".leaflet-popup-content .popup h3")
    assert title.inner_text() == HOSTILE_NAME
    assert page.locator(".leaflet-popup-content script").count() == 0
    assert page.get_attribute(".leaflet-popup-content a", "href") == f"/sites/{HOSTILE_SITE}"
    assert dialogs == []
    page.wait_for_timeout(300)  # only so the screenshot shows the popup after its fade-in
    _shoot(page, "map-popup-desktop")
    context.close()


def test_a_tap_beside_a_dot_opens_the_nearest_sites_popup_and_elsewhere_the_areas(server, browser):
    """All sites are one canvas layer: a click finds the nearest dot within its radius; a click
    on no dot reaches the admin area under it."""
    context, page = _new_page(browser)
    _sign_in(page, server, "expert@example.org")
    _wait_for_map(page)
    drawn = page.evaluate("""() => { let n = 0; window.crisisRiskMap.sites.eachSite(() => { n += 1; }); return n; }""")
    assert drawn == int(page.get_attribute("#risk-map", "data-site-markers"))
    x, y = _centre_on_site(page, HOSTILE_SITE)
    page.mouse.click(x + 4, y - 3)  # off centre, inside the dot
    page.wait_for_selector(".leaflet-popup-content .popup h3")
    assert page.get_attribute(".leaflet-popup-content a", "href") == f"/sites/{HOSTILE_SITE}"
    page.mouse.click(x + 60, y + 60)  # no site within 60 px at zoom 15
    page.wait_for_selector(".leaflet-popup-content a[href^='/areas/']")
    # The site's popup closes (after its fade-out) and none other opens.
    page.wait_for_selector(".leaflet-popup-content a[href^='/sites/']", state="detached")
    assert page.locator(".leaflet-popup-content").count() == 1
    context.close()


def test_the_map_before_data_stays_under_500_kb(server, browser):
    context, page = _new_page(browser)
    _sign_in(page, server, "viewer@example.org")
    recorder = Recorder(page)
    page.goto(f"{server}/map")
    _wait_for_map(page)
    transferred = page.evaluate("""() => performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'))
        .filter(e => !e.name.includes('/api/'))
        .reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)""")
    print(f"map page before data: {transferred} bytes transferred")
    assert 0 < transferred < MAP_BUDGET_BYTES
    uncompressed = sum(size for url, size in recorder.body_bytes.items() if "/api/" not in url)
    assert uncompressed > transferred  # compression did its work
    context.close()


def test_french_shows_french_legend_and_phase_labels(server, browser):
    context, page = _new_page(browser, locale="en-GB")
    _sign_in(page, server, "viewer@example.org")
    _wait_for_map(page)
    page.click(".language-switch button[value=fr]")
    page.wait_for_selector("html[lang=fr]")
    _wait_for_map(page)
    legend = page.inner_text(".legend")
    for label in ("Sévère", "Extrême", "Catastrophique", "Données insuffisantes"):
        assert label in legend
    assert "Indicatif, fondé sur des informateurs clés" in page.inner_text("footer")
    _shoot(page, "map-desktop-fr")
    context.close()


def test_a_viewer_gets_the_403_page_on_the_audit_log(server, browser):
    context, page = _new_page(browser)
    _sign_in(page, server, "viewer@example.org")
    response = page.goto(f"{server}/admin/audit")
    assert response.status == 403
    assert "You do not have access to this page." in page.inner_text("main")
    _shoot(page, "403-desktop")
    context.close()


@pytest.mark.parametrize("viewport_name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_each_page(server, browser, viewport_name, viewport):
    context, page = _new_page(browser, viewport=viewport)
    page.goto(f"{server}/login")
    _shoot(page, f"login-{viewport_name}")
    _sign_in(page, server, "coord@example.org")
    _wait_for_map(page)
    _shoot(page, f"map-{viewport_name}")
    for path, name in (("/map/list", "list-sites"), ("/map/list?show=areas&level=2", "list-areas"),
                       ("/admin/audit", "audit")):
        response = page.goto(f"{server}{path}")
        assert response.status == 200, path
        _shoot(page, f"{name}-{viewport_name}")
    # Nothing may stick out sideways on a phone except inside the scrollable table box.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    context.close()

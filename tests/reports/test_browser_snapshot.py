"""The situation snapshot in a real headless Chromium against the served demo operation
(the harness of tests/web/test_browser.py): the map is drawn, the page asks no other host and
breaks no content-security rule, print hides the toolbar, and French reads French."""
from __future__ import annotations

import pytest

from crisis_ct.products import DISCLAIMER
from tests.web.test_browser import (Recorder, _new_page, _shoot, _sign_in, backend,  # noqa: F401
                                    browser, server)

pytestmark = pytest.mark.browser
A4 = {"width": 794, "height": 1123}  # A4 at 96 dpi


def _open(browser, server, email: str, path: str):
    context, page = _new_page(browser, viewport=A4)
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    recorder = Recorder(page)
    _sign_in(page, server, email, next_path=path.split("?")[0])
    page.goto(f"{server}{path}")
    return context, page, recorder, console


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_snapshot_draws_its_map_and_prints_in_both_languages(server, browser, language):
    context, page, recorder, console = _open(browser, server, "expert@example.org",
                                             f"/reports/snapshot?lang={language}")
    areas = page.locator("svg.risk-map-image g.map-area")
    assert areas.count() == 12  # the demo's admin 2 areas
    box = page.locator("svg.risk-map-image").bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    heading = "Situation snapshot" if language == "en" else "Instantané de la situation"
    assert heading.lower() in page.locator(".product").inner_text().lower()
    assert DISCLAIMER[language] in page.locator(".snapshot-header .disclaimer").inner_text()
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("#warning-title").is_visible()
    assert not recorder.foreign_hosts(server)
    assert not [text for text in console if "Content Security Policy" in text]
    _shoot(page, f"snapshot-{language}")
    page.emulate_media(media="print")
    assert not page.locator(".snapshot-tools").is_visible()
    assert page.locator("svg.risk-map-image").is_visible()
    context.close()


def test_a_viewers_snapshot_of_an_area_in_chromium(server, browser):
    context, page, _recorder, _console = _open(browser, server, "viewer@example.org",
                                               "/reports/snapshot?area=XZ01&lang=fr")
    assert page.locator("svg.risk-map-image g.map-area.highlighted").count() == 0  # admin 1: its admin 2 drawn
    assert page.locator("svg.risk-map-image g.map-area").count() >= 1
    assert "vue au niveau administratif" in page.locator(".meta").inner_text()
    assert page.locator(".indicators-table").count() == 0
    _shoot(page, "snapshot-viewer-fr")
    context.close()

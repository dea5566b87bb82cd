"""The referral pages in a real headless Chromium against the served demo operation (with its
fictional directory): the service-point layer on the map for experts only, a coordinator
adding a provider through the form, the printable card in French, providers on a site page."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import Site
from crisis_ct.referral.models import ServiceProvider
from crisis_ct.tasks.models import MitigationTask, TaskSite
from tests.web.conftest import ALL_EXPERTISE
from tests.web.test_browser import (_new_page, _shoot, _sign_in, _wait_for_map, backend,  # noqa: F401
                                    browser, server)

pytestmark = pytest.mark.browser


@pytest.fixture
def expert(server, seed):
    seed.member("a@example.org", "expert", "demo", expertise=ALL_EXPERTISE)
    return server


def test_experts_see_service_points_on_the_map_and_viewers_do_not(expert, browser, database):
    with database.session() as session:
        located = session.scalar(sa.select(sa.func.count()).select_from(ServiceProvider)
                                 .where(ServiceProvider.geom.is_not(None)))
    context, page = _new_page(browser)
    _sign_in(page, expert, "a@example.org")
    _wait_for_map(page)
    page.wait_for_selector("#risk-map[data-service-points]", timeout=20000)
    assert int(page.get_attribute("#risk-map", "data-service-points")) == located > 0
    page.locator(".service-point-marker").first.click()
    assert page.locator(".service-point-popup h3").inner_text()
    _shoot(page, "map-service-points")
    context.close()

    context, page = _new_page(browser)
    responses = []
    page.on("response", lambda response: responses.append(response.url))
    _sign_in(page, expert, "viewer@example.org")
    _wait_for_map(page)
    assert page.get_attribute("#risk-map", "data-service-points") is None
    assert not any("service-points" in url for url in responses)
    context.close()


def test_a_coordinator_adds_a_provider_and_a_located_shelter_is_refused(server, browser, database):
    context, page = _new_page(browser)
    _sign_in(page, server, "coord@example.org", "/service-providers")
    page.click("text=Add a provider")
    page.fill("#organisation", "Test Shelter")
    page.check("input[name=service_types][value=safe_accommodation]")
    page.fill("#area_pcodes", "XZ01")
    page.fill("#latitude", "-10.5")
    page.fill("#longitude", "-22.1")
    page.click("form.provider-form button[type=submit]")
    assert "never located" in page.inner_text("main")
    page.fill("#latitude", "")
    page.fill("#longitude", "")
    page.fill("#focal_point_role", "Admissions focal point")
    page.click("form.provider-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert "Test Shelter" in page.inner_text("table.provider-table")
    _shoot(page, "referral-directory")
    with database.session() as session:
        assert session.scalar(sa.select(ServiceProvider.geom).where(ServiceProvider.organisation == "Test Shelter")) \
            is None
    context.close()


def test_the_referral_card_prints_in_french_without_its_links(expert, browser):
    context, page = _new_page(browser)
    _sign_in(page, expert, "a@example.org", "/referral-card/XZ0101?lang=fr")
    assert "Gestion de cas de lutte contre la traite" in page.inner_text("main")
    assert "Fiche de référencement" in page.inner_text("h1")
    assert page.locator("nav.no-print").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("nav.no-print").is_visible()
    _shoot(page, "referral-card-fr")
    context.close()


def test_a_site_page_lists_providers_for_its_tasks(expert, browser, database):
    with database.session() as session:  # a North-West site listed by an open M04 (child protection) task
        site_code = session.scalar(
            sa.select(Site.site_code).join(TaskSite, TaskSite.site_id == Site.id)
            .join(MitigationTask, MitigationTask.id == TaskSite.task_id)
            .where(MitigationTask.rule_id == "M04", MitigationTask.status == "open", Site.adm1_pcode == "XZ01")
            .order_by(Site.id))
    context, page = _new_page(browser)
    _sign_in(page, expert, "a@example.org", f"/sites/{site_code}")
    section = page.locator("section.site-referral")
    assert "Alliance Protection Nord-Ouest" in section.inner_text()  # child protection for all of XZ01
    section.scroll_into_view_if_needed()
    _shoot(page, "site-referral")
    context.close()

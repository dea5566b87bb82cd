"""The situation snapshot page and its PDF, on both databases: what each reader gets, in
English and French."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from crisis_ct.products import DISCLAIMER
from tests.conftest import REPO_ROOT
from tests.projection.conftest import EXPERT, VIEWER

ARTIFACTS = REPO_ROOT / "test-artifacts" / "reports"
from tests.reports.conftest import JUMPED, ROSE_FOR_ALL


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return re.sub(r"\s+", " ", text)


def test_the_page_holds_map_phases_drivers_change_coverage_tasks_and_warnings(
        projection_world, history_world, signed_in_as):
    page = signed_in_as(EXPERT).get("/reports/snapshot?area=XZ01&lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="risk-map-image"' in html
    assert 'data-pcode="XZ0101"' in html and 'data-pcode="XZ0102"' in html  # admin 2 below XZ01
    assert "Phases by admin level" in html and "Admin 2" in html
    assert "Admin 3" not in html  # the area's level and the one below: one page
    assert "What drives the phases" in html and "Indicators that most often set" in html
    # XZ010101 rose from 2 to 4 since 30 days ago: its row in the snapshot of its parent.
    parent = signed_in_as(EXPERT).get("/reports/snapshot?area=XZ0101").get_data(as_text=True)
    assert re.search(r"XZ010101</span>.*?▲ \+2", parent, flags=re.S)
    assert "Coverage and data age" in html and "Median age of the assessments" in html
    assert "Mitigation tasks" in html and "Claimed or in progress" in html
    for site_code in JUMPED:
        assert site_code in html
    assert DISCLAIMER["en"] in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_pdf_in_both_languages(projection_world, history_world, signed_in_as, language):
    response = signed_in_as(EXPERT).get(f"/reports/snapshot.pdf?area=XZ01&lang={language}")
    text = pdf_text(response)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"snapshot-{language}.pdf").write_bytes(response.data)
    assert DISCLAIMER[language] in text
    assert ("situation snapshot" if language == "en" else "instantané de la situation") in text.lower()
    assert ("Early warning" if language == "en" else "Alerte précoce") in text
    assert ROSE_FOR_ALL in text
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="snapshot-op1-XZ01-\d{{4}}-\d\d-\d\d-{language}\.pdf"', disposition)


def test_the_whole_operation_without_an_area(projection_world, history_world, signed_in_as):
    html = signed_in_as(EXPERT).get("/reports/snapshot").get_data(as_text=True)
    assert "Admin 1" in html and "Admin 2" in html
    assert 'data-pcode="XZ0101"' in html  # the whole operation is drawn at admin 2


def test_a_viewer_gets_admin_level_only(projection_world, history_world, signed_in_as):
    html = signed_in_as(VIEWER).get("/reports/snapshot?area=XZ01").get_data(as_text=True)
    assert "admin-level view" in html
    assert "Indicators are shown to experts and coordinators only." in html
    for name in projection_world.site_names + projection_world.site_codes:
        assert name not in html
    assert "Sites whose phase rose" not in html and "Areas whose data expires" not in html
    assert ROSE_FOR_ALL in html  # the rise the viewer can see


def test_unknown_area_is_404_and_sign_in_is_needed(projection_world, signed_in_as, client):
    assert signed_in_as(EXPERT).get("/reports/snapshot?area=NOPE").status_code == 404
    assert client.get("/reports/snapshot.pdf").status_code == 302


def test_the_dashboard_shows_early_warning_as_the_reader_may_see_it(projection_world, history_world, signed_in_as):
    expert = signed_in_as(EXPERT).get("/dashboard").get_data(as_text=True)
    assert "Early warning" in expert and ROSE_FOR_ALL in expert
    assert all(code in expert for code in JUMPED) and "Areas whose data expires" in expert
    assert 'href="/reports/snapshot?operation=op1"' in expert
    viewer = signed_in_as(VIEWER).get("/dashboard").get_data(as_text=True)
    assert ROSE_FOR_ALL in viewer and "Sites whose phase rose" not in viewer
    assert not any(code in viewer for code in JUMPED)


def test_an_area_of_the_lowest_level_is_drawn_among_its_neighbours(projection_world, history_world, signed_in_as):
    expert = signed_in_as(EXPERT)
    html = expert.get("/reports/snapshot?area=XZ010101").get_data(as_text=True)
    assert 'class="map-area highlighted" data-pcode="XZ010101"' in html
    assert 'class="map-area" data-pcode="XZ010102"' in html  # a sibling under XZ0101
    area_page = expert.get("/areas/XZ010101").get_data(as_text=True)
    assert 'href="/reports/snapshot?area=XZ010101"' in area_page

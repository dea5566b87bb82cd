import json
import re

from tests.web.conftest import csrf_token


def _config(page: str) -> dict:
    raw = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', page, re.S).group(1)
    return json.loads(raw)


def test_the_map_page_links_to_the_list_view_with_the_same_filters(viewer):
    page = viewer.get("/map?phase=3plus&level=1").get_data(as_text=True)
    assert 'href="/map/list?phase=3plus&amp;level=1"' in page


def test_the_map_reads_its_configuration_from_json_not_inline_script(expert):
    page = expert.get("/map").get_data(as_text=True)
    config = _config(page)
    assert config["sitesUrl"] == "/api/v1/sites/rows" and config["areasUrl"] == "/api/v1/admin-areas"
    assert config["fetchByBbox"] is False
    assert config["tileUrl"] == ""


def test_the_map_legend_labels_follow_the_language(viewer):
    viewer.post("/language", data={"lang": "fr", "next": "/map", "csrf_token": csrf_token(viewer, "/map")})
    config = _config(viewer.get("/map").get_data(as_text=True))
    assert config["lang"] == "fr"
    assert config["labels"]["phases"]["3"] == "Sévère"
    assert config["labels"]["insufficientData"] == "Données insuffisantes"


def test_large_operations_fetch_sites_by_view(expert, monkeypatch):
    from crisis_ct.web.views import risk_map

    monkeypatch.setattr(risk_map, "BBOX_FETCH_THRESHOLD", 3)
    assert _config(expert.get("/map").get_data(as_text=True))["fetchByBbox"] is True


def test_a_viewers_map_asks_for_admin_areas_only(viewer):
    """Viewers see admin-level results only (domain.md §4.3): their map loads no sites."""
    config = _config(viewer.get("/map").get_data(as_text=True))
    assert config["sitesUrl"] is None and config["areasUrl"] == "/api/v1/admin-areas"


def test_the_map_data_api_answers_the_signed_in_browser(viewer):
    response = viewer.get("/api/v1/sites")
    assert response.status_code == 200
    assert len(response.get_json()["features"]) == 4
    assert len(viewer.get("/api/v1/sites/rows").get_json()["rows"]) == 4

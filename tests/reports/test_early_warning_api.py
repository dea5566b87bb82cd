"""GET /api/v1/early-warning on both databases: from the stored score history, through the
reader's projection."""
from __future__ import annotations

from tests.conftest import auth
from tests.projection.conftest import COORDINATOR, EXPERT, VIEWER
from tests.reports.conftest import EXPIRING, JUMPED, ROSE_FOR_ALL, ROSE_FOR_EXPERTS


def _warnings(client, email: str, world, query: str = "") -> dict:
    response = client.get(f"/api/v1/early-warning{query}", headers=auth(world.tokens[email]))
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    return item


def test_experts_see_area_rises_site_jumps_and_expiring_data(client, projection_world, history_world):
    item = _warnings(client, EXPERT, projection_world)
    assert item["site_level"] is True
    rises = {(r["pcode"], r["phase_before"], r["phase_after"]) for r in item["area_rises"]}
    assert {(ROSE_FOR_ALL, 2, 4), (ROSE_FOR_EXPERTS, 2, 4)} <= rises
    assert sorted(r["site_id"] for r in item["site_rises"]) == sorted(JUMPED)  # SITEPC2 rose by 1 only
    assert all(r["phase_after"] - r["phase_before"] == 2 for r in item["site_rises"])
    expiring = {r["pcode"]: r for r in item["expiring_areas"]}
    assert expiring["XZ010101"]["sites_expiring"] == len(EXPIRING)
    # Two of its four assessed sites expire: two are too few to classify it.
    assert expiring["XZ010101"]["loses_classification"] is True
    assert expiring["XZ010101"]["status_after"] == "insufficient_data"
    assert _warnings(client, COORDINATOR, projection_world)["site_rises"] == item["site_rises"]


def test_a_viewer_gets_area_rises_between_phases_they_could_see_and_nothing_site_level(
        client, projection_world, history_world):
    item = _warnings(client, VIEWER, projection_world)
    assert item["site_level"] is False
    assert [(r["pcode"], r["phase_before"], r["phase_after"]) for r in item["area_rises"]] == [(ROSE_FOR_ALL, 2, 4)]
    assert item["site_rises"] is None and item["expiring_areas"] is None


def test_the_window_and_the_area_filter(client, projection_world, history_world):
    # 90 days back every place was unscored: measured from its first score, the same rises.
    item = _warnings(client, EXPERT, projection_world, "?days=90")
    assert {r["pcode"] for r in item["area_rises"]} >= {ROSE_FOR_ALL}
    # A day back the new scores were already there: nothing rose since.
    assert _warnings(client, EXPERT, projection_world, "?days=1")["area_rises"] == []
    only = _warnings(client, EXPERT, projection_world, "?area=XZ0102")
    assert {r["pcode"] for r in only["area_rises"]} == {ROSE_FOR_EXPERTS}
    headers = auth(projection_world.tokens[EXPERT])
    assert client.get("/api/v1/early-warning?area=NOPE", headers=headers).status_code == 404
    assert client.get("/api/v1/early-warning?days=0", headers=headers).status_code == 422

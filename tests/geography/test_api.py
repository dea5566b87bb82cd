import pytest

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.operations import get_operation, import_admin_areas, import_sites
from tests.conftest import auth
from tests.support.geo_fixtures import write_levels, write_sites_csv

ACTOR = Actor.system("test")


def _load(database, tmp_path, code, sites):
    paths = write_levels(tmp_path / code)
    with database.session() as session:
        operation = get_operation(session, code)
        for level in (1, 2, 3):
            import_admin_areas(session, ACTOR, operation, read_admin_areas(paths[level], level))
        import_sites(session, ACTOR, operation, read_sites(write_sites_csv(tmp_path / f"{code}.csv", sites)))


@pytest.fixture
def two_operations(seed, database, tmp_path):
    seed.operation("opa")
    seed.operation("opb")
    (tmp_path / "opa").mkdir()
    (tmp_path / "opb").mkdir()
    _load(database, tmp_path, "opa", [("A1", "Camp A1", "planned_camp", 0.5, 0.5, 100, 20),
                                      ("A2", "Camp A2", "self_settled", 1.5, 3.5, 200, 40)])
    _load(database, tmp_path, "opb", [("B1", "Camp B1", "border_point", 0.5, 1.5, 50, 10)])
    return {"viewer_a": seed.member("viewer@a.org", "viewer", "opa"),
            "viewer_b": seed.member("viewer@b.org", "viewer", "opb"),
            "expert_a": seed.member("expert@a.org", "expert", "opa")}


def test_sites_geojson_carries_site_properties_and_pcodes(client, two_operations):
    response = client.get("/api/v1/sites", headers=auth(two_operations["expert_a"]))
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    features = {f["properties"]["site_id"]: f for f in response.get_json()["features"]}
    assert set(features) == {"A1", "A2"}
    a2 = features["A2"]
    assert a2["geometry"] == {"type": "Point", "coordinates": [3.5, 1.5]}
    assert {k: a2["properties"][k] for k in ("name", "site_type", "population", "adm1_pcode", "adm2_pcode",
                                              "adm3_pcode")} == {
        "name": "Camp A2", "site_type": "self_settled", "population": 200,
        "adm1_pcode": "XZ02", "adm2_pcode": "XZ0202", "adm3_pcode": "XZ020202"}


def test_a_viewer_gets_where_sites_are_and_nothing_of_their_risk_or_size(client, two_operations):
    """domain.md §4.3: site-level results are for experts and coordinators."""
    features = client.get("/api/v1/sites", headers=auth(two_operations["viewer_a"])).get_json()["features"]
    a2 = next(f for f in features if f["properties"]["site_id"] == "A2")
    assert a2["geometry"] == {"type": "Point", "coordinates": [3.5, 1.5]}
    assert a2["properties"] == {"site_id": "A2", "name": "Camp A2", "site_type": "self_settled",
                                "adm1_pcode": "XZ02", "adm2_pcode": "XZ0202", "adm3_pcode": "XZ020202"}


def test_bbox_filters_sites(client, two_operations):
    response = client.get("/api/v1/sites?bbox=3,1,4,2", headers=auth(two_operations["viewer_a"]))
    assert [f["properties"]["site_id"] for f in response.get_json()["features"]] == ["A2"]


def test_the_maps_site_rows_name_their_columns_once_and_carry_only_what_the_map_needs(client, two_operations):
    response = client.get("/api/v1/sites/rows", headers=auth(two_operations["expert_a"]))
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["columns"] == ["site_id", "name", "lon", "lat", "site_type", "phase", "domain_phases", "confidence",
                               "recency", "assessment_date"]
    assert body["rows"] == [["A1", "Camp A1", 0.5, 0.5, "planned_camp", None, None, None, None, None],
                            ["A2", "Camp A2", 3.5, 1.5, "self_settled", None, None, None, None, None]]
    assert body["disclaimer"]["en"]


def test_bbox_filters_site_rows(client, two_operations):
    response = client.get("/api/v1/sites/rows?bbox=3,1,4,2", headers=auth(two_operations["viewer_a"]))
    assert [row[0] for row in response.get_json()["rows"]] == ["A2"]


def test_a_bad_bbox_is_a_422_that_says_what_is_wrong(client, two_operations):
    response = client.get("/api/v1/sites?bbox=3,1,4", headers=auth(two_operations["viewer_a"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert "bbox must be four numbers" in str(error["details"])


def test_admin_areas_by_level(client, two_operations):
    response = client.get("/api/v1/admin-areas?level=2&lang=fr", headers=auth(two_operations["viewer_b"]))
    features = response.get_json()["features"]
    assert [f["properties"]["pcode"] for f in features] == ["XZ0101", "XZ0102", "XZ0201", "XZ0202"]
    assert features[0]["properties"]["name"] == "Zone XZ0101"
    assert features[0]["geometry"]["type"] == "MultiPolygon"


def test_another_operations_data_is_404_never_leaked(client, two_operations):
    response = client.get("/api/v1/sites?operation=opb", headers=auth(two_operations["viewer_a"]))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    missing = client.get("/api/v1/sites?operation=nope", headers=auth(two_operations["viewer_a"]))
    assert missing.get_json() == response.get_json() | {"error": {**response.get_json()["error"],
                                                                    "message": "No operation 'nope'."}}


def test_each_viewer_sees_only_their_operation(client, two_operations):
    ids_b = [f["properties"]["site_id"] for f in
             client.get("/api/v1/sites", headers=auth(two_operations["viewer_b"])).get_json()["features"]]
    assert ids_b == ["B1"]

"""The exports API: files of the list APIs' rows, each as the caller's projection shows it,
streamed, with HXL hashtags a well-kept HXL library reads, named after operation and date."""
from __future__ import annotations

import io

import hxl
import openpyxl
import pytest

from crisis_ct.timeutil import utcnow
from tests.conftest import auth
from tests.exports.conftest import EXPERT_ORGANISATION, read_csv
from tests.projection.conftest import COORDINATOR, EXPERT, VIEWER

SITE_DATASETS = ("sites", "submissions")


def get(client, world, who, url):
    return client.get(url, headers=auth(world.tokens[who]))


def test_a_coordinator_gets_every_site_with_its_risk_and_hxl_tags_hxl_tools_read(client, export_world):
    response = get(client, export_world, COORDINATOR, "/api/v1/exports/sites.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    _, tags, rows = read_csv(body)
    assert {row["Site ID"] for row in rows} == set(export_world.site_codes)
    alpha = next(row for row in rows if row["Site ID"] == "SITEPA1")
    assert alpha["Site name"] == "Projection Alpha" and alpha["TIP risk severity phase"] in "12345"
    assert float(alpha["Latitude"]) == pytest.approx(0.2) and float(alpha["Longitude"]) == pytest.approx(0.2)
    dataset = hxl.data(io.BytesIO(body))
    assert {"#adm1+code", "#adm2+code", "#loc+code", "#severity+num", "#date+reported", "#geo+lat"} <= set(
        dataset.display_tags)
    read = {row.get("#loc+code"): row.get("#adm2+code") for row in dataset}
    assert read["SITEPA1"] == alpha["Admin 2 P-code"] and len(read) == len(rows)
    assert all(tag.startswith("#") for tag in tags)


def test_admin_area_csv_carries_names_per_level_as_hxl(client, export_world):
    body = get(client, export_world, COORDINATOR, "/api/v1/exports/admin-areas.csv?level=2").get_data()
    dataset = hxl.data(io.BytesIO(body))
    rows = list(dataset)
    assert rows and all(row.get("#adm2+code") and row.get("#adm2+name") and row.get("#adm1+code") for row in rows)
    assert all(row.get("#adm2+code").startswith(row.get("#adm1+code")) for row in rows)
    assert "#severity+num" in dataset.display_tags


def test_the_file_name_holds_the_operation_and_the_date(client, export_world):
    response = get(client, export_world, COORDINATOR, "/api/v1/exports/tasks.xlsx?operation=op1")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="crisis-ct_op1_tasks_{utcnow().date().isoformat()}.xlsx"' in disposition


def test_exports_are_streamed_not_built_in_memory(client, export_world):
    for url in ("/api/v1/exports/submissions.csv", "/api/v1/exports/admin-areas.geojson",
                "/api/v1/exports/tasks.xlsx"):
        response = get(client, export_world, COORDINATOR, url)
        assert response.status_code == 200
        assert response.is_streamed
        assert not isinstance(response.response, (list, tuple, bytes))
        response.close()


def test_xlsx_holds_headers_hxl_row_and_rows(client, export_world):
    body = get(client, export_world, EXPERT, "/api/v1/exports/sites.xlsx").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True)["sites"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Operation", "Admin 1 P-code") and rows[1][:2] == ("#operation+code", "#adm1+code")
    assert len(rows) == 2 + len(export_world.site_codes)


def test_geojson_is_a_feature_collection_with_geometries(client, export_world):
    sites = get(client, export_world, EXPERT, "/api/v1/exports/sites.geojson").get_json()
    assert sites["type"] == "FeatureCollection" and len(sites["features"]) == len(export_world.site_codes)
    assert all(f["geometry"]["type"] == "Point" for f in sites["features"])
    areas = get(client, export_world, EXPERT, "/api/v1/exports/admin-areas.geojson?level=1").get_json()
    assert areas["features"] and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in areas["features"])
    assert {f["properties"]["level"] for f in areas["features"]} == {1}


def test_filters_are_the_list_apis(client, export_world):
    _, _, rows = read_csv(get(client, export_world, EXPERT, "/api/v1/exports/sites.csv?pcode=XZ010101").get_data())
    assert {row["Site ID"] for row in rows} == {"SITEPA1", "SITEPA2", "SITEPA3", "SITEPA4"}
    listed = get(client, export_world, EXPERT, "/api/v1/tasks?status=in_progress&limit=1000").get_json()
    _, _, exported = read_csv(get(client, export_world, EXPERT, "/api/v1/exports/tasks.csv?status=in_progress")
                              .get_data())
    assert [int(row["Task"]) for row in exported] == [item["id"] for item in listed["items"]]
    bad = get(client, export_world, EXPERT, "/api/v1/exports/tasks.csv?status=nonsense")
    assert bad.status_code == 422 and "error" in bad.get_json()


@pytest.mark.parametrize("who, dataset", [(VIEWER, "sites"), (VIEWER, "submissions"), (EXPERT, "submissions")])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_site_level_exports_are_refused_where_the_projection_shows_none(client, export_world, who, dataset, fmt):
    response = get(client, export_world, who, f"/api/v1/exports/{dataset}.{fmt}")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_raw_answers_are_for_coordinators_under_the_small_site_rule(client, export_world):
    headers, _, rows = read_csv(get(client, export_world, COORDINATOR, "/api/v1/exports/submissions.csv").get_data())
    assert "EXP_SEX_EXCHANGE" in headers and "POP_UASC" in headers
    assert len(rows) == 21  # 7 assessed sites x 3 key informants
    large = [row for row in rows if row["Site ID"] == "SITEPA1"]
    small = [row for row in rows if row["Site ID"] == "SITEPA3"]
    assert {row["EXP_SEX_EXCHANGE"] for row in large} == {"yes"}
    assert {row["EXP_SEX_EXCHANGE"] for row in small} == {"suppressed"}
    assert all(row["POP_UASC"] != "suppressed" for row in small)


def test_a_coordinator_gets_the_4w_per_task_with_the_holders_organisation(client, export_world):
    body = get(client, export_world, COORDINATOR, "/api/v1/exports/4w.csv").get_data()
    dataset = hxl.data(io.BytesIO(body))
    assert {"#org+name", "#sector+code", "#sector+toc+code", "#adm1+code", "#date+opened"} <= set(
        dataset.display_tags)
    _, _, rows = read_csv(body)
    held = next(row for row in rows if row["What (rule)"] and row["Claimed"] and row["Who (organisation)"])
    assert held["Who (organisation)"] == EXPERT_ORGANISATION
    assert {row["Theory-of-change area"] for row in rows} <= {
        "case_management", "service_provision", "referral_systems", "private_sector", "ethical_recruitment",
        "justice_system", "law_and_policy", "research_and_data"}
    assert any(row["Theory-of-change area (label)"] == "Referral systems" for row in rows)


def test_public_profile_is_admin_1_and_2_phases_without_counts_per_phase(client, export_world):
    body = get(client, export_world, COORDINATOR, "/api/v1/exports/admin-areas.csv?profile=public").get_data()
    _, _, rows = read_csv(body)
    assert rows and {row["Admin level"] for row in rows} == {"1", "2"}
    for row in rows:
        assert all(row[f"Sites at phase {p}"] == "" for p in "12345")
        assert row["Hotspot"] == "" and row["Sites known"] == ""
        assert row["Sites assessed"] not in ("1", "2")
        if row["People (known)"]:
            assert int(row["People (known)"]) % 10 == 0
        if row["% sites at phase 3+"]:
            assert int(row["Sites assessed"]) >= 5
    disposition = get(client, export_world, COORDINATOR, "/api/v1/exports/admin-areas.csv?profile=public").headers
    assert "_admin-areas_public_" in disposition["Content-Disposition"]


@pytest.mark.parametrize("who, url, status", [
    (VIEWER, "/api/v1/exports/admin-areas.csv?profile=public", 403),  # coordinators publish
    (EXPERT, "/api/v1/exports/admin-areas.csv?profile=public", 403),
    (COORDINATOR, "/api/v1/exports/sites.csv?profile=public", 403),  # never public
    (COORDINATOR, "/api/v1/exports/tasks.csv?profile=public", 403),
])
def test_public_profile_is_for_coordinators_and_admin_areas_only(client, export_world, who, url, status):
    assert get(client, export_world, who, url).status_code == status


def test_another_operation_is_not_found(client, export_world):
    response = get(client, export_world, COORDINATOR, "/api/v1/exports/admin-areas.csv?operation=elsewhere")
    assert response.status_code == 404


def test_an_export_needs_a_token(client, export_world):
    assert client.get("/api/v1/exports/admin-areas.csv").status_code == 401


def test_the_4w_names_the_completers_organisation_and_when(client, export_world):
    task_id = export_world.site_task_held
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={}, headers=auth(export_world.tokens[EXPERT]))
    assert done.status_code == 200, done.get_json()
    _, _, rows = read_csv(get(client, export_world, COORDINATOR, "/api/v1/exports/4w.csv").get_data())
    row = next(row for row in rows if row["What (rule)"] and row["Status"] == "done")
    assert row["Who (organisation)"] == EXPERT_ORGANISATION
    assert row["Completed"] >= row["Claimed"] >= row["Opened"] and row["Overdue"] == "no"
    assert row["Where (admin 1)"] and row["Where (admin area)"].startswith(row["Where (admin 1)"])


def test_a_site_task_is_its_sites_point_in_geojson(client, export_world):
    features = get(client, export_world, EXPERT, "/api/v1/exports/tasks.geojson").get_json()["features"]
    site_task = next(f for f in features if f["properties"]["id"] == export_world.site_task_held)
    assert site_task["geometry"] == {"type": "Point", "coordinates": [0.2, 0.2]}  # SITEPA1
    assert all(f["geometry"] is None for f in features if f["properties"]["scope"] == "admin_area")

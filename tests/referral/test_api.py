"""The referral directory API on both databases: CRUD for coordinators, reads for experts,
403 for viewers, the sheet in (all or nothing, rows and fields named, re-import updates) and
out (CSV with an HXL row checked by libhxl, XLSX), and the service points as GeoJSON."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from crisis_ct.referral.models import ServiceProvider
from tests.conftest import auth
from tests.web.conftest import operation  # noqa: F401 - the fixture: op1 with areas XZ01… and sites S1–S4

CLINIC = {"operation": "op1", "organisation": "Santé Nord", "service_types": ["health", "ct_case_management"],
          "area_pcodes": ["XZ01"], "service_point_name": "Clinique Nord", "longitude": 0.6, "latitude": 0.6,
          "languages": ["fr", "en"], "opening_hours": "Mon–Fri 8–16", "focal_point_role": "CT case-management focal point",
          "office_phone": "+33 1 23 45 67 89", "office_email": "referrals@sante-nord.example.org",
          "referral_requirements": "Consent form", "last_verified_on": "2026-11-20"}
HEADER = ("provider_code,organisation,service_types,adm1_pcodes,adm2_pcodes,adm3_pcodes,service_point_name,"
          "latitude,longitude,languages,office_email,last_verified_on\n")


@pytest.fixture
def people(seed, operation):  # noqa: F811
    return {"coordinator": auth(seed.member("coord@example.org", "coordinator", "op1")),
            "expert": auth(seed.member("expert@example.org", "expert", "op1")),
            "viewer": auth(seed.member("viewer@example.org", "viewer", "op1"))}


def test_a_coordinator_creates_and_an_expert_reads_a_provider(client, people):
    created = client.post("/api/v1/service-providers", json=CLINIC, headers=people["coordinator"])
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["service_point"] == {"name": "Clinique Nord", "lon": 0.6, "lat": 0.6}
    assert body["code"] == "sante-nord-clinique-nord" and body["stale"] is False
    listed = client.get("/api/v1/service-providers?pcode=XZ0101", headers=people["expert"]).get_json()
    assert [item["organisation"] for item in listed["items"]] == ["Santé Nord"]
    assert client.get("/api/v1/service-providers?pcode=XZ02", headers=people["expert"]).get_json()["total"] == 0


def test_an_expert_may_not_write_and_a_viewer_may_not_even_read(client, people):
    assert client.post("/api/v1/service-providers", json=CLINIC, headers=people["expert"]).status_code == 403
    for path in ("/api/v1/service-providers", "/api/v1/service-providers/export", "/api/v1/service-points"):
        response = client.get(path, headers=people["viewer"])
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_safe_accommodation_with_coordinates_is_refused_and_nothing_stored(client, people, database):
    body = {**CLINIC, "service_types": ["safe_accommodation"]}
    response = client.post("/api/v1/service-providers", json=body, headers=people["coordinator"])
    assert response.status_code == 422
    assert "never located" in response.get_json()["error"]["details"]["fields"]["service_point"]
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceProvider)) == 0


def test_change_verify_and_delete(client, people):
    provider_id = client.post("/api/v1/service-providers", json=CLINIC, headers=people["coordinator"]).get_json()["id"]
    changed = client.put(f"/api/v1/service-providers/{provider_id}",
                         json={**CLINIC, "last_verified_on": "2026-01-01", "office_phone": None},
                         headers=people["coordinator"]).get_json()
    assert changed["stale"] is True and changed["office_phone"] is None
    verified = client.post(f"/api/v1/service-providers/{provider_id}/verify", headers=people["coordinator"])
    assert verified.get_json()["stale"] is False
    assert client.delete(f"/api/v1/service-providers/{provider_id}", headers=people["coordinator"]).status_code == 204
    assert client.get(f"/api/v1/service-providers/{provider_id}", headers=people["expert"]).status_code == 404


def test_another_operations_provider_is_a_404(client, people, seed):
    provider_id = client.post("/api/v1/service-providers", json=CLINIC, headers=people["coordinator"]).get_json()["id"]
    seed.operation("op2")
    other = auth(seed.member("other@example.org", "coordinator", "op2"))
    assert client.get(f"/api/v1/service-providers/{provider_id}", headers=other).status_code == 404
    assert client.get("/api/v1/service-providers?operation=op1", headers=other).status_code == 404


def _import(client, headers, text: str):
    return client.post("/api/v1/service-providers/import?operation=op1", data=text.encode(),
                       content_type="text/csv", headers=headers)


def test_import_names_bad_rows_and_fields_and_imports_nothing(client, people, database):
    sheet = HEADER + (
        "#meta+id,#org+name,#service+code,#adm1+code,#adm2+code,#adm3+code,#loc+name,#geo+lat,#geo+lon,"
        "#meta+languages,#contact+email,#date+verified\n"
        "P1,Good Org,legal_aid,XZ01,,,,,,fr,,2026-11-01\n"
        "P2,Shelter Org,safe_accommodation,,XZ0101,,,0.5,0.5,,,\n"
        "P3,Bad Area,health,XZ99,,,,,,,,\n"
        "P4,Wrong Level,health,XZ0101,,,,,,,office@gmail.com,\n")
    response = _import(client, people["coordinator"], sheet)
    assert response.status_code == 422
    rows = {(item["row"], item["field"]) for item in response.get_json()["error"]["details"]["rows"]}
    assert {(4, "service_point_name/latitude/longitude"), (5, "adm1_pcodes/adm2_pcodes/adm3_pcodes"),
            (6, "adm1_pcodes"), (6, "office_email")} <= rows
    assert not any(row == 3 for row, _ in rows)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceProvider)) == 0


def test_re_import_updates_and_export_round_trips_with_valid_hxl(client, people):
    hxl = pytest.importorskip("hxl")
    first = HEADER + "P1,Good Org,legal_aid;civil_documentation,XZ01,XZ0201,,Desk,0.5,0.5,fr;en,desk@good.example.org,2026-11-01\n"
    assert _import(client, people["coordinator"], first).get_json() == {"created": 1, "updated": 0}
    second = HEADER + "P1,Good Org renamed,legal_aid,XZ01,,,,,,fr,,2026-11-02\n"
    assert _import(client, people["coordinator"], second).get_json() == {"created": 0, "updated": 1}
    exported = client.get("/api/v1/service-providers/export?operation=op1", headers=people["expert"])
    assert exported.mimetype == "text/csv"
    dataset = hxl.data(io.BytesIO(exported.data))
    tags = [column.get_display_tag(sort_attributes=True) for column in dataset.columns]
    assert "#org+name" in tags and "#adm1+code" in tags and "#contact+email" in tags and "#geo+lat" in tags
    rows = list(dataset)
    assert len(rows) == 1 and rows[0].get("#org+name") == "Good Org renamed"
    assert rows[0].get("#adm1+code") == "XZ01" and rows[0].get("#service+code") == "legal_aid"
    # The export reads back as an import: same shape, nothing changes but the count.
    again = client.post("/api/v1/service-providers/import?operation=op1", data=exported.data,
                        content_type="text/csv", headers=people["coordinator"])
    assert again.get_json() == {"created": 0, "updated": 1}


def test_xlsx_export_and_import(client, people):
    from openpyxl import load_workbook

    _import(client, people["coordinator"], HEADER + "P1,Good Org,hotline,XZ02,,,,,,en,,\n")
    exported = client.get("/api/v1/service-providers/export?operation=op1&format=xlsx", headers=people["expert"])
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "#org+name" and rows[2][1] == "Good Org"
    response = client.post("/api/v1/service-providers/import?operation=op1",
                           data={"file": (io.BytesIO(exported.data), "mapping.xlsx")},
                           content_type="multipart/form-data", headers=people["coordinator"])
    assert response.get_json() == {"created": 0, "updated": 1}


def test_service_points_are_geojson_without_never_located_providers(client, people):
    client.post("/api/v1/service-providers", json=CLINIC, headers=people["coordinator"])
    client.post("/api/v1/service-providers", json={**CLINIC, "organisation": "Shelter", "service_types":
                                                   ["safe_accommodation"], "service_point_name": None,
                                                   "longitude": None, "latitude": None},
                headers=people["coordinator"])
    points = client.get("/api/v1/service-points", headers=people["expert"])
    assert points.mimetype == "application/geo+json"
    features = points.get_json()["features"]
    assert [f["properties"]["organisation"] for f in features] == ["Santé Nord"]
    assert features[0]["geometry"]["coordinates"] == [0.6, 0.6]


def test_a_csv_export_never_starts_a_cell_with_a_formula(client, people):
    client.post("/api/v1/service-providers", json={**CLINIC, "organisation": "=HYPERLINK(\"x\")"},
                headers=people["coordinator"])
    text = client.get("/api/v1/service-providers/export", headers=people["expert"]).get_data(as_text=True)
    organisation = list(csv.reader(io.StringIO(text)))[2][1]
    assert organisation.startswith("'=")

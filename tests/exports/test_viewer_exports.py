"""A viewer's exports pass the projection property (issue 12, shared/domain.md §4.3): every
export route, enumerated from the url_map so a new one is covered, in every format, holds no
site's score or name, no indicator answer, nobody's email or name, no count of 1 or 2 and no
hidden cell the totals give away — judged by the same checks as every other route — and its
admin-area rows are exactly what the admin-area API shows the viewer."""
from __future__ import annotations

import io
import json
import re

import openpyxl

from crisis_ct.scoring.service import catalogue
from tests.exports.conftest import EXPERT_ORGANISATION, read_csv
from tests.projection.conftest import COMMENT, VIEWER
from tests.projection.test_viewer_sees_admin_level_only import _json_problems
from tests.conftest import auth

COUNT_COLUMNS = re.compile(r"^(Sites|People|Opened|Claimed|Completed|Overdue)")


def _export_urls(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("exports."))


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text if text != "" else None


def _rows(response) -> list[dict]:
    """The export's rows as mappings keyed by the API's property names where known."""
    if response.mimetype == "text/csv":
        _, _, rows = read_csv(response.get_data())
        return [{key: _number(value) for key, value in row.items()} for row in rows]
    if response.mimetype.endswith("json"):
        return [feature["properties"] for feature in response.get_json()["features"]]
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    return [{header: _number(str(v)) if v is not None else None for header, v in zip(values[0], row)}
            for row in values[2:]]


def _as_api_keys(row: dict) -> dict:
    """Header names back to the API's keys, so the projection checks read them."""
    renamed = {"Sites assessed": "sites_assessed", "Sites known": "sites_known", "People (known)": "population_known",
               "% sites at phase 3+": "pct_sites_3plus", "% sites at phase 4+": "pct_sites_4plus",
               "Site ID": "site_id", "P-code": "pcode"}
    result = {renamed.get(key, key): value for key, value in row.items()}
    cells = {p: row.get(f"Sites at phase {p}", row.get(f"sites_phase_{p}")) for p in "12345"}
    if any(value is not None for value in cells.values()):
        result["sites_by_phase"] = {p: (0 if v is None else v) for p, v in cells.items()}
    return result


def test_every_export_answers_a_viewer_at_admin_level_only(app, client, export_world):
    world = export_world
    indicator_ids = [indicator.id for indicator in catalogue().indicators]
    people = [*world.people, *world.people.values()]
    urls = _export_urls(app)
    assert len(urls) == 14
    failures, answered = {}, set()
    for url in urls:
        response = client.get(url, headers=auth(world.tokens[VIEWER]))
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (url, response.status_code)
        answered.add(url)
        raw = response.get_data()
        text = raw.decode("utf-8", "replace")
        problems = [f"names {person!r}" for person in people if person in text]
        problems += [f"indicator {i}" for i in indicator_ids if re.search(rf"\b{i}\b", text)]
        problems += [f"site {name!r}" for name in world.site_names + world.site_codes if name in text]
        if COMMENT in text:
            problems.append("a comment")
        rows = _rows(response)
        for row in rows:
            for key, value in row.items():
                if COUNT_COLUMNS.match(str(key)) and value in (1, 2):
                    problems.append(f"{key}: a count of {value}")
        problems += _json_problems([_as_api_keys(row) for row in rows], world, {})
        if problems:
            failures[url] = problems
    assert not failures, json.dumps(failures, indent=1)[:4000]
    # Viewers do get their admin-level products: areas and area tasks, in every format.
    assert {"/api/v1/exports/admin-areas.csv", "/api/v1/exports/admin-areas.xlsx",
            "/api/v1/exports/admin-areas.geojson", "/api/v1/exports/tasks.csv", "/api/v1/exports/4w.csv"} <= answered


def test_a_viewers_area_rows_are_the_area_apis(client, export_world):
    headers = auth(export_world.tokens[VIEWER])
    api = {f["properties"]["pcode"]: f["properties"]
           for f in client.get("/api/v1/admin-areas", headers=headers).get_json()["features"]}
    exported = client.get("/api/v1/exports/admin-areas.geojson", headers=headers).get_json()["features"]
    assert len(exported) == len(api)
    for feature in exported:
        shown, row = api[feature["properties"]["pcode"]], feature["properties"]
        for key in ("status", "phase", "hotspot", "confidence", "sites_known", "sites_assessed", "population_known",
                    "pct_sites_3plus", "pct_sites_4plus"):
            assert row[key] == shown.get(key), (row["pcode"], key)
        for phase, count in (shown.get("sites_by_phase") or {}).items():
            assert row[f"sites_phase_{phase}"] == count
    one = next(f["properties"] for f in exported if f["properties"]["pcode"] == "XZ010102")
    assert one["sites_assessed"] == "<3" and one["phase"] is None


def test_a_viewers_4w_is_aggregated_from_the_tasks_they_see(client, export_world):
    headers = auth(export_world.tokens[VIEWER])
    _, tags, rows = read_csv(client.get("/api/v1/exports/4w.csv", headers=headers).get_data())
    assert "#activity+opened+num" in tags and "#activity+rule+code" not in tags  # groups, not tasks
    listed = client.get("/api/v1/tasks?limit=1000", headers=headers).get_json()
    opened = [row["Opened"] for row in rows]
    assert all(value == "<3" or int(value) >= 3 for value in opened)
    exact = sum(int(value) for value in opened if value != "<3")
    assert exact <= listed["total"] <= exact + 2 * opened.count("<3")
    assert {row["Where (admin area)"] for row in rows} <= {item["pcode"] for item in listed["items"]}
    held = [row for row in rows if row["Who (organisation)"] == EXPERT_ORGANISATION]
    assert held and all(row["Claimed"] == "<3" for row in held)

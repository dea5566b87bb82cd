"""The projection as a property (issue 12, shared/domain.md §4.3): every GET route of the
application — API and pages, enumerated from the Flask url_map so that a new route is covered
without editing this test — answers a viewer with nothing site-level: no site's score, phase,
size or assessment, no indicator answer, nobody's email or name, and no count of 1 or 2 sites
(suppressed cells that the totals would give away included)."""
from __future__ import annotations

import io
import itertools
import json
import re

import pytest

from crisis_ct.projection import areas as area_projection, hierarchy
from crisis_ct.projection.tasks import SYSTEM_ACTORS
from crisis_ct.scoring.service import catalogue
from crisis_ct.web.task_board import ACTIONS
from tests.projection.conftest import COMMENT, COORDINATOR, VIEWER

# Routes that serve files, or sign-in itself: no data of the operation.
NOT_DATA = {"static", "web.static", "web.login", "health.healthz"}
# Where a viewer may meet an indicator id: the catalogue is the method, not an answer.
CATALOGUE_ROUTES = {"scoring.indicators"}
QUERY_VARIANTS = ("", "?level=1", "?level=2", "?level=3", "?show=sites", "?show=areas&level=3",
                  "?status=claimed", "?status=in_progress", "?pcode=XZ010101", "?page=2")
# What a viewer may see of a site: where it is, never its results (projection.sites).
SITE_KEYS = {"type", "id", "geometry", "properties", "site_id", "name", "site_type", "adm1_pcode", "adm2_pcode",
             "adm3_pcode"}
COUNT_KEY = re.compile(r"^(sites_|n_|households|population|count)")
SMALL, COMPLEMENT = "<3", "suppressed"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _values(world, argument: str) -> list:
    values = {"site_id": world.site_codes, "pcode": world.pcodes, "task_id": world.task_ids,
              "action": list(ACTIONS), "operation": world.operation_codes, "user_id": world.user_ids,
              "token": ["not-an-invitation"],
              "notification_id": world.notification_ids, "provider_id": world.provider_ids}
    assert argument in values, f"the projection world has no values for <{argument}>: add them in conftest"
    return values[argument]


def _urls(app, world) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_DATA:
            continue
        arguments = sorted(rule.arguments)
        for combination in itertools.product(*(_values(world, a) for a in arguments)):
            path = rule.build(dict(zip(arguments, combination)))[1]
            variants = QUERY_VARIANTS if not arguments else ("",)
            urls += [(rule.endpoint, path + query) for query in variants]
    return urls


def _walk(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def _recoverable_cells(cells: dict, total: int) -> list[str]:
    """Hidden cells that only one value fits, by brute force: "<3" holds 1 or 2, "suppressed" 3
    or more, and the cells add up to the total."""
    hidden = [key for key, value in cells.items() if value in (SMALL, COMPLEMENT)]
    rest = total - sum(value for value in cells.values() if isinstance(value, int))
    ranges = [range(1, 3) if cells[key] == SMALL else range(3, max(3, rest) + 1) for key in hidden]
    seen: dict[str, set] = {key: set() for key in hidden}
    for values in itertools.product(*ranges):
        if sum(values) == rest:
            for key, value in zip(hidden, values):
                seen[key].add(value)
    return [key for key, values in seen.items() if len(values) < 2]


def _json_problems(body, world, cells_by_pcode: dict) -> list[str]:
    problems = []
    for path, value in _walk(body):
        where = "/".join(map(str, path))
        if isinstance(value, dict) and isinstance(value.get("pcode"), str) and value.get("sites_by_phase"):
            cells_by_pcode[value["pcode"]] = value["sites_by_phase"]
        if isinstance(value, dict):
            if any(value.get(key) in world.site_codes for key in ("site_id", "id")):
                extra = set(value) - SITE_KEYS
                if extra:
                    problems.append(f"{where}: a site with {sorted(extra)}")
            if isinstance(value.get("sites_by_phase"), dict) and isinstance(value.get("sites_assessed"), int):
                cells = value["sites_by_phase"]
                if _recoverable_cells(cells, value["sites_assessed"]):
                    problems.append(f"{where}: hidden cells recoverable from the total: {cells}")
                if any(v in (SMALL, COMPLEMENT) for v in cells.values()) and (
                        value.get("pct_sites_3plus") is not None or value.get("pct_sites_4plus") is not None):
                    problems.append(f"{where}: percentages beside hidden cells")
            if isinstance(value.get("sites_assessed"), int) and value["sites_assessed"] < 5 and (
                    value.get("pct_sites_3plus") is not None):
                problems.append(f"{where}: a percentage over fewer than 5 sites")
        key = path[-1] if path else None
        parent = path[-2] if len(path) > 1 else None
        counted = (isinstance(key, str) and COUNT_KEY.match(key)) or (
            isinstance(parent, str) and COUNT_KEY.match(parent))
        if counted and isinstance(value, int) and not isinstance(value, bool) and value in (1, 2):
            problems.append(f"{where}: a count of {value}")
        if key == "evidence":
            problems.append(f"{where}: task evidence")
        if key in ("comment", "actor") and isinstance(value, str) and value not in SYSTEM_ACTORS:
            problems.append(f"{where}: {key} {value!r}")
    return problems


def _cells(html: str, *, skip_tables: tuple[str, ...] = ("dashboard-tasks",)) -> list[str]:
    for name in skip_tables:
        html = re.sub(rf'<table class="[^"]*\b{name}\b.*?</table>', "", html, flags=re.S)
    return [text.strip() for text in re.findall(r"<(?:td|dd)[^>]*>([^<]*)</(?:td|dd)>", html)]


def _html_problems(html: str, world, url: str) -> list[str]:
    problems = []
    html = html.replace(url.split("?")[0], "")  # the page may name the address asked for (links back)
    for text in _cells(html):
        # A cell of counts: "3", "<3 / 5", "12 000"; site and people counts are never 1 or 2.
        if re.fullmatch(r"[\d\s\u202f\u00a0,./<–—*-]+", text):
            numbers = [part.strip() for part in text.split("/")]
            if any(number in ("1", "2") for number in numbers):
                problems.append(f"a count cell {text!r}")
    for name in world.site_names + world.site_codes:
        if name in html:
            problems.append(f"site {name!r}")
    if COMMENT in html:
        problems.append("a comment")
    return problems


def _text(response) -> str:
    """The response as text; a PDF (the situation snapshot) by the text it prints, an XLSX
    export by its cells (as CSV-like lines, so the checks read it as they read a CSV)."""
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    if response.mimetype == XLSX:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(",".join("" if cell is None else str(cell) for cell in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    return response.get_data(as_text=True)


def test_every_route_answers_a_viewer_at_admin_level_only(app, projection_world, signed_in_as):
    world = projection_world
    viewer = signed_in_as(VIEWER)
    indicator_ids = [indicator.id for indicator in catalogue().indicators]
    people = [*world.people, *world.people.values()]
    failures: dict[str, list[str]] = {}
    seen_endpoints = set()
    cells_by_pcode: dict[str, dict] = {}  # counts per phase a viewer saw, by area
    for endpoint, url in _urls(app, world):
        response = viewer.get(url)
        seen_endpoints.add(endpoint)
        text = _text(response)
        problems = [f"names {person!r}" for person in people if person in text]
        if endpoint not in CATALOGUE_ROUTES:
            problems += [f"indicator {i}" for i in indicator_ids if re.search(rf"\b{i}\b", text)]
        if response.is_json or (response.mimetype or "").endswith("json"):
            problems += _json_problems(json.loads(text), world, cells_by_pcode)
        elif response.mimetype == "text/html":
            problems += _html_problems(text, world, url)
        elif response.mimetype == "application/pdf":
            problems += [f"site {name!r}" for name in world.site_names + world.site_codes if name in text]
        if problems:
            failures[f"{url} ({response.status_code})"] = problems
    # Across responses: an area's hidden cell is not its parent's (or child's) shown cell minus
    # the siblings' (P-codes nest by prefix).
    for pcode, cells in cells_by_pcode.items():
        if any(v in (SMALL, COMPLEMENT) for v in cells.values()):
            related = [other for other in cells_by_pcode
                       if other != pcode and (other.startswith(pcode) or pcode.startswith(other))]
            if related:
                failures[f"areas {pcode} and {related}"] = ["counts per phase shown at two nested levels"]
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)[:6000]
    # The enumeration reached the data routes (a renamed endpoint would otherwise pass silently).
    assert {"geography.list_sites", "geography.list_admin_areas", "scoring.area_risk", "tasks.list_tasks",
            "tasks.get_task", "web.task_detail", "web.dashboard", "web.area_page", "web.map_list",
            "web.people_list", "web.person_page", "web.quarantine", "kobo.list_quarantine"} <= seen_endpoints


def test_the_viewer_still_gets_the_admin_level_picture(projection_world, signed_in_as):
    """Not an empty answer: the area with 4 assessed sites is classified with its counts, the
    one with 1 is "insufficient data" with "<3", and the area task held there shows as held."""
    world = projection_world
    viewer = signed_in_as(VIEWER)
    four = viewer.get("/api/v1/admin-areas/XZ010101/risk").get_json()
    one = viewer.get("/api/v1/admin-areas/XZ010102/risk").get_json()
    # Its 4 is "suppressed": its district shows 5 beside the other sub-area's "<3" (see below).
    assert four["sites_assessed"] == COMPLEMENT and four["status"] == "classified" and four["phase"] in (1, 2, 3, 4, 5)
    assert one["sites_assessed"] == SMALL and one["phase"] is None and one["sites_by_phase"] is None
    # The map's GeoJSON says the same as the area endpoint (it said 1 site at 100 % beside "<3").
    features = viewer.get("/api/v1/admin-areas?level=3").get_json()["features"]
    one_on_map = next(f["properties"] for f in features if f["properties"]["pcode"] == "XZ010102")
    assert one_on_map["sites_assessed"] == SMALL and one_on_map["pct_sites_4plus"] is None
    history = viewer.get(f"/api/v1/tasks/{world.area_task_shown}").get_json()["history"]
    assert [(h["actor"], h["comment"]) for h in history[-2:]] == [(None, None), (None, None)]
    listed = viewer.get("/api/v1/tasks").get_json()["items"]
    held = next(item for item in listed if item["id"] == world.area_task_shown)
    assert held["claim"]["holder"] is None and held["claim"]["expires_at"]
    assert held["status"] == "in_progress"
    assert all(item["scope"] == "admin_area" for item in listed)
    page = viewer.get(f"/tasks/{world.area_task_shown}").get_data(as_text=True)
    assert 'class="task-holder">an expert' in page
    assert viewer.get(f"/tasks/{world.site_task_held}").status_code == 403


@pytest.mark.parametrize("url", ["/api/v1/sites", "/map/list?show=sites"])
def test_a_viewer_is_told_where_sites_are_at_most(projection_world, signed_in_as, url):
    response = signed_in_as(VIEWER).get(url)
    assert response.status_code == 200
    if response.is_json:
        for feature in response.get_json()["features"]:
            assert set(feature["properties"]) <= SITE_KEYS


def test_a_viewer_learns_nothing_of_the_sites_an_area_task_lists(projection_world, signed_in_as):
    """Area tasks (issue 12) list the sites that triggered them: site level. A viewer gets the
    task without the list, and cannot find it through one of its sites either (a site code,
    or an admin 3 area inside the task's area, would say which sites triggered it)."""
    world = projection_world
    viewer, coordinator = signed_in_as(VIEWER), signed_in_as(COORDINATOR)
    shown = viewer.get(f"/api/v1/tasks/{world.area_task_shown}").get_json()
    assert "sites" not in shown and "sites_count" not in shown
    assert coordinator.get(f"/api/v1/tasks/{world.area_task_shown}").get_json()["sites"]
    for query in ("site_id=SITEPA1", "pcode=XZ010101"):
        listed_for_coordinator = coordinator.get(f"/api/v1/tasks?{query}").get_json()["items"]
        assert any(item["scope"] == "admin_area" for item in listed_for_coordinator), query
        assert viewer.get(f"/api/v1/tasks?{query}").get_json()["items"] == [], query


def test_a_district_minus_one_sub_area_does_not_give_the_other_away(projection_world, signed_in_as):
    """Issue 12, across levels: district XZ0101 has 5 assessed sites, its sub-areas 4 and 1.
    Shown as 5, 4 and "<3", the "<3" is 5 - 4 = 1. Whatever levels and boxes a viewer asks
    for, the counts come from one decision over the whole hierarchy, and an attacker adding up
    every level at once pins no "<3" down."""
    viewer, coordinator = signed_in_as(VIEWER), signed_in_as(COORDINATOR)
    exact = {f["properties"]["pcode"]: f["properties"]
             for f in coordinator.get("/api/v1/admin-areas").get_json()["features"]}
    assert [exact[p]["sites_assessed"] for p in ("XZ0101", "XZ010101", "XZ010102")] == [5, 4, 1]
    seen: dict[str, dict] = {}
    for query in ("", "?level=1", "?level=2", "?level=3", "?bbox=0,0,1,1", "?bbox=1.2,0.2,1.8,0.8"):
        for feature in viewer.get(f"/api/v1/admin-areas{query}").get_json()["features"]:
            properties = feature["properties"]
            earlier = seen.setdefault(properties["pcode"], properties)
            assert all(earlier.get(k) == properties.get(k) for k in area_projection.SITE_COUNT_KEYS), query
    assert seen["XZ010102"]["sites_assessed"] == SMALL
    assert not (isinstance(seen["XZ0101"]["sites_assessed"], int) and isinstance(seen["XZ010101"]["sites_assessed"], int))
    for key in area_projection.SITE_COUNT_KEYS:
        tree = hierarchy.Tree.build((pcode, props.get("parent_pcode"), props.get(key) or 0)
                                    for pcode, props in exact.items())
        labels = {pcode: props.get(key) for pcode, props in seen.items()}
        labels[hierarchy.ROOT] = None  # the dashboard's total: at most what the hierarchy allows
        assert all(label not in (1, 2) for label in labels.values()), key
        assert hierarchy.pinned(tree, labels) == [], (key, labels)

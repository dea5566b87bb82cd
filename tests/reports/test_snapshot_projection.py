"""The projection property (tests/projection) for the cluster products a viewer gets: the
snapshot page and PDF of every area and of the whole operation, in both languages, and early
warning for every area — no site-level score, no indicator, nobody's email, no count of 1 or 2."""
from __future__ import annotations

import json
import re

from crisis_ct.scoring.service import catalogue
from tests.conftest import auth
from tests.projection.conftest import VIEWER
from tests.projection.test_viewer_sees_admin_level_only import _html_problems, _json_problems, _text
from tests.reports.conftest import ROSE_FOR_ALL


def test_a_viewers_snapshots_and_early_warning_pass_the_projection_property(
        projection_world, history_world, signed_in_as, client):
    world = projection_world
    viewer = signed_in_as(VIEWER)
    indicator_ids = [indicator.id for indicator in catalogue().indicators]
    # The snapshot names indicators by their label: neither label may reach a viewer.
    indicator_names = [label for indicator in catalogue().indicators for label in indicator.label.values()]
    people = [*world.people, *world.people.values()]
    failures = {}
    areas = ["", *(f"area={pcode}" for pcode in world.pcodes)]
    urls = [f"/reports/snapshot{suffix}?{area}&lang={language}"
            for area in areas for language in ("en", "fr") for suffix in ("", ".pdf")]
    for url in urls:
        response = viewer.get(url)
        assert response.status_code == 200, url
        text = _text(response)
        problems = [f"names {person!r}" for person in people if person in text]
        problems += [f"indicator {i}" for i in indicator_ids if re.search(rf"\b{i}\b", text)]
        problems += [f"indicator {name!r}" for name in indicator_names if name in text]
        if response.mimetype == "text/html":
            problems += _html_problems(text, world, url)
        else:
            problems += [f"site {name!r}" for name in world.site_names + world.site_codes if name in text]
        if problems:
            failures[url] = problems
    for area in areas:
        response = client.get(f"/api/v1/early-warning?{area}", headers=auth(world.tokens[VIEWER]))
        body = response.get_json()
        problems = _json_problems(body, world, {})
        problems += [f"indicator {i}" for i in indicator_ids if re.search(rf"\b{i}\b", json.dumps(body))]
        if any(item["site_rises"] is not None or item["expiring_areas"] is not None for item in body["items"]):
            problems.append("site-level warnings")
        if problems:
            failures[f"early-warning {area}"] = problems
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)[:6000]
    # Not an empty page: the viewer sees the rise they may see, and admin-level figures.
    page = viewer.get("/reports/snapshot?area=XZ0101").get_data(as_text=True)
    assert ROSE_FOR_ALL in page and "▲ +2" in page and "&lt;3" in page

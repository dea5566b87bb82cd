"""Experts and coordinators still see the site-level picture, and everyone — experts included —
sees a site under 20 households through its domain phases only (shared/domain.md §4.3)."""
from __future__ import annotations

import sqlalchemy as sa

from crisis_ct.geography.models import Site
from crisis_ct.scoring.service import catalogue
from crisis_ct.tasks.models import MitigationTask
from tests.conftest import auth
from tests.projection.conftest import COMMENT, COORDINATOR, EXPERT, SEX_EXCHANGE_AT, SMALL_SITES, VIEWER


def _tasks_at(database, site_code: str) -> list[int]:
    with database.session() as session:
        site_id = session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
        return list(session.scalars(sa.select(MitigationTask.id).where(MitigationTask.site_id == site_id)))


def _evidence_ids(client, token, task_ids) -> set[str]:
    ids = set()
    for task_id in task_ids:
        body = client.get(f"/api/v1/tasks/{task_id}", headers=auth(token)).get_json()
        ids |= {item["id"] for item in body["evidence"]}
    return ids


def test_experts_see_each_sites_risk_and_size(client, projection_world):
    features = client.get("/api/v1/sites", headers=auth(projection_world.tokens[EXPERT])).get_json()["features"]
    alpha = next(f["properties"] for f in features if f["properties"]["site_id"] == "SITEPA1")
    assert alpha["phase"] >= 4 and alpha["population"] == 1200 and alpha["domain_phases"]["E"] >= 3


def _rows_and_features(client, token) -> tuple[dict, dict]:
    body = client.get("/api/v1/sites/rows", headers=auth(token)).get_json()
    rows = {row[0]: dict(zip(body["columns"], row)) for row in body["rows"]}
    features = client.get("/api/v1/sites", headers=auth(token)).get_json()["features"]
    return rows, {f["properties"]["site_id"]: f for f in features}


def test_the_maps_site_rows_say_what_the_geojson_says_to_each_audience(client, projection_world):
    """The risk map draws from /sites/rows: the same sites, results and projection as /sites."""
    for who in (EXPERT, VIEWER):
        rows, features = _rows_and_features(client, projection_world.tokens[who])
        assert list(rows) == list(features)
        for code, row in rows.items():
            properties = features[code]["properties"]
            assert [row["lon"], row["lat"]] == features[code]["geometry"]["coordinates"]
            for column in ("site_id", "name", "site_type", "phase", "domain_phases", "confidence", "recency",
                           "assessment_date"):
                assert row[column] == properties.get(column), (who, code, column)
    rows, _ = _rows_and_features(client, projection_world.tokens[EXPERT])
    assert rows["SITEPA1"]["phase"] >= 4 and rows["SITEPA1"]["domain_phases"]["E"] >= 3
    rows, _ = _rows_and_features(client, projection_world.tokens[VIEWER])
    assert {row["phase"] for row in rows.values()} == {None}
    assert {str(row["domain_phases"]) + str(row["confidence"]) for row in rows.values()} == {"NoneNone"}


def test_a_coordinator_sees_holders_comments_and_exact_counts(client, projection_world):
    token = projection_world.tokens[COORDINATOR]
    task = client.get(f"/api/v1/tasks/{projection_world.site_task_held}", headers=auth(token)).get_json()
    assert task["claim"]["holder"]["display_name"] == "anna.expert"
    assert [(h["actor"], h["comment"]) for h in task["history"][-2:]] == [(EXPERT, COMMENT)] * 2
    area = client.get("/api/v1/admin-areas/XZ010102/risk", headers=auth(token)).get_json()
    assert area["sites_assessed"] == 1 and sum(area["sites_by_phase"].values()) == 1


def test_task_evidence_names_the_answer_at_a_large_site_only(client, database, projection_world):
    token = projection_world.tokens[EXPERT]
    assert "SITEPA1" in SEX_EXCHANGE_AT and "SITEPA3" in SEX_EXCHANGE_AT and "SITEPA3" in SMALL_SITES
    assert "EXP_SEX_EXCHANGE" in _evidence_ids(client, token, _tasks_at(database, "SITEPA1"))
    for code in SMALL_SITES:
        shown = _evidence_ids(client, token, _tasks_at(database, code))
        assert shown, f"no task at {code}: the world lost its point"
        hidden = {i.id for i in catalogue().indicators if i.domain == "E"}
        assert not shown & hidden, (code, shown & hidden)


def test_task_pages_and_the_board_apply_the_small_site_rule_too(projection_world, signed_in_as, database):
    expert = signed_in_as(EXPERT)
    for task_id in _tasks_at(database, "SITEPA3"):
        assert "EXP_SEX_EXCHANGE" not in expert.get(f"/tasks/{task_id}").get_data(as_text=True)
    listed = expert.get("/api/v1/tasks?site_id=SITEPA3").get_json()["items"]
    # The site's own tasks, and the area tasks that list it with each listed site's evidence
    # (a large site's answer may show there, a small site's not).
    evidence_at = [(item["site_id"], item["evidence"]) for item in listed if item["site_id"]]
    evidence_at += [(site["site_id"], site["evidence"]) for item in listed for site in item["sites"] or ()]
    assert {code for code, _ in evidence_at} >= {"SITEPA3"}
    hidden = {i.id for i in catalogue().indicators if i.domain == "E"}
    assert all(not {e["id"] for e in evidence} & hidden for code, evidence in evidence_at if code in SMALL_SITES)


def test_a_small_sites_explanation_and_history_show_domain_phases_only(client, projection_world):
    token = projection_world.tokens[EXPERT]
    small = client.get("/api/v1/sites/SITEPA3/risk", headers=auth(token)).get_json()
    large = client.get("/api/v1/sites/SITEPA1/risk", headers=auth(token)).get_json()
    e_ids = {i.id for i in catalogue().indicators if i.domain == "E"}
    assert small["small_site_suppression"] is True and small["domain_phases"]["E"] is not None
    assert all(item.get("suppressed") and "value" not in item
               for item in small["indicators"] if item["indicator_id"] in e_ids)
    assert not set(small["drivers"] + small["critical_signals"] + small["unconfirmed_signals"]) & e_ids
    assert any(item["indicator_id"] == "EXP_SEX_EXCHANGE" and item.get("value") == "yes"
               for item in large["indicators"])
    history = client.get("/api/v1/sites/SITEPA3/risk/history", headers=auth(token)).get_json()["items"]
    assert history and all(not set(item["drivers"]) & e_ids for item in history)

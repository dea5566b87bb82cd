"""Scoring against the database: stored submissions -> site and area scores, history,
incremental == full."""
import json
import random

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.synthetic import make_edit
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.scoring.service import catalogue, process_queue, score_all
from tests.conftest import auth
from tests.support.kobo_world import SubmissionMaker, build_world, lowest_risk_answers

URL = "/api/v1/kobo/submissions"


@pytest.fixture
def world(database, seed, tmp_path):
    world = build_world(database, seed, tmp_path)
    world.submitter = seed.member("kobo@example.org", "submitter")
    world.expert = seed.member("expert@example.org", "expert", expertise=["CT"])
    world.viewer = seed.member("viewer@example.org", "viewer")
    return world


def send(client, world, record):
    response = client.post(URL, data=json.dumps(record), content_type="application/json",
                           headers=auth(world.submitter))
    assert response.status_code in (200, 201), response.get_json()
    return response


def send_three_each(client, world, maker, sites, risk):
    """Three KI interviews per site, all at the same risk level."""
    for site in sites:
        for _ in range(3):
            send(client, world, maker.make(site, risk=risk))


def drain(database):
    with database.session() as session:
        return process_queue(session)


def risk(client, world, site="S1"):
    return client.get(f"/api/v1/sites/{site}/risk", headers=auth(world.expert))


def test_a_critical_signal_from_two_kis_sets_phase_4_and_is_named(client, world, database):
    maker = SubmissionMaker()
    calm = lowest_risk_answers()
    for informant in range(3):
        answers = dict(calm, ki_sex="female" if informant == 0 else "male")
        if informant < 2:
            answers["exp_confinement"] = "yes"
        send(client, world, maker.make("S1", answers=answers))
    assert drain(database) == 1
    body = risk(client, world).get_json()
    assert body["phase"] >= 4
    assert "EXP_CONFINEMENT" in body["critical_signals"]
    assert "EXP_CONFINEMENT" in body["drivers"]
    assert body["disclaimer"]["en"].startswith("Indicative, based on key informants")


def test_only_none_answers_with_a_referral_pathway_is_phase_1(client, world, database):
    maker = SubmissionMaker()
    for sex in ("female", "male", "male"):
        send(client, world, maker.make("S1", answers=dict(lowest_risk_answers(), ki_sex=sex)))
    drain(database)
    body = risk(client, world).get_json()
    assert body["phase"] == 1
    assert body["critical_signals"] == [] and body["unconfirmed_signals"] == []


def test_editing_away_the_signal_lowers_the_phase_and_history_keeps_both(client, world, database):
    maker = SubmissionMaker()
    records = [maker.make("S1", answers=dict(lowest_risk_answers(), exp_confinement="yes")) for _ in range(2)]
    records.append(maker.make("S1", answers=lowest_risk_answers()))
    for record in records:
        send(client, world, record)
    drain(database)
    before = risk(client, world).get_json()["phase"]
    rng = random.Random(5)
    for record in records[:2]:
        send(client, world, make_edit(record, {"exp/exp_confinement": "no"}, rng=rng))
    drain(database)
    after = risk(client, world).get_json()["phase"]
    assert before >= 4 and after < before
    history = client.get("/api/v1/sites/S1/risk/history", headers=auth(world.expert)).get_json()["items"]
    assert [item["phase"] for item in history] == [before, after]
    assert [item["current"] for item in history] == [False, True]


def test_site_risk_is_for_experts_not_viewers(client, world, database):
    send(client, world, SubmissionMaker().make("S1"))
    drain(database)
    assert client.get("/api/v1/sites/S1/risk", headers=auth(world.viewer)).status_code == 403


def test_admin_areas_get_phases_or_insufficient_data(client, world, database):
    maker = SubmissionMaker(7)
    send_three_each(client, world, maker, ("S1", "S2", "S3", "S4"), risk=0.6)
    drain(database)
    adm1 = client.get("/api/v1/admin-areas/XZ01/risk", headers=auth(world.viewer)).get_json()
    adm1_other = client.get("/api/v1/admin-areas/XZ02/risk", headers=auth(world.viewer)).get_json()
    assert adm1["sites_assessed"] == 3 and adm1["status"] == "classified" and 1 <= adm1["phase"] <= 5
    assert adm1_other["status"] == "insufficient_data" and adm1_other["phase"] is None
    features = client.get("/api/v1/admin-areas?level=1", headers=auth(world.viewer)).get_json()["features"]
    assert {f["properties"]["pcode"]: f["properties"]["status"] for f in features} == {
        "XZ01": "classified", "XZ02": "insufficient_data"}


def test_viewers_see_small_counts_suppressed(client, world, database):
    maker = SubmissionMaker(7)
    send_three_each(client, world, maker, ("S1", "S2", "S3"), risk=0.6)
    drain(database)
    as_viewer = client.get("/api/v1/admin-areas/XZ01/risk", headers=auth(world.viewer)).get_json()
    as_expert = client.get("/api/v1/admin-areas/XZ01/risk", headers=auth(world.expert)).get_json()
    assert all(v in (0, "<3", "suppressed") or (isinstance(v, int) and v >= 3)
               for v in as_viewer["sites_by_phase"].values())
    assert sum(as_expert["sites_by_phase"].values()) == 3
    assert as_viewer["pct_sites_3plus"] is None  # fewer than 5 sites


def test_the_sites_geojson_carries_phase_confidence_and_recency(client, world, database):
    send(client, world, SubmissionMaker().make("S2", risk=0.5))
    drain(database)
    features = client.get("/api/v1/sites", headers=auth(world.expert)).get_json()["features"]
    by_id = {f["properties"]["site_id"]: f["properties"] for f in features}
    assert 1 <= by_id["S2"]["phase"] <= 5
    assert by_id["S2"]["recency"] in ("current", "ageing", "expired")
    assert by_id["S2"]["confidence"] == "low"  # one KI
    assert by_id["S1"]["phase"] is None and by_id["S1"]["recency"] is None


def test_full_rescore_agrees_with_the_incremental_path(client, world, database):
    maker = SubmissionMaker(11)
    send_three_each(client, world, maker, ("S1", "S2", "S3", "S4"), risk=0.5)
    drain(database)
    with database.session() as session:
        incremental = _current(session)
        score_all(session, world.operation_id)
    with database.session() as session:
        full = _current(session)
    assert full[0] == incremental[0]
    # The full pass also scores areas no submission ever touched; the rest must agree.
    assert {k: v for k, v in full[1].items() if k in incremental[1]} == incremental[1]


def _current(session):
    sites = {row.site_id: (row.phase, row.confidence, {k: v for k, v in row.explanation.items()})
             for row in session.scalars(sa.select(SiteRiskScore).where(SiteRiskScore.is_current))}
    areas = {row.admin_area_id: (row.phase, row.status, row.summary)
             for row in session.scalars(sa.select(AdminAreaRiskScore).where(AdminAreaRiskScore.is_current))}
    return sites, areas


def test_indicators_catalogue_in_both_languages(client, world):
    body = client.get("/api/v1/indicators", headers=auth(world.viewer)).get_json()
    assert body["version"] == catalogue().version
    text = json.dumps(body, ensure_ascii=False)
    assert "Enfants non accompagnés" in text or "non accompagn" in text


def test_at_a_small_site_exploitation_items_show_only_as_a_domain_phase(client, world, database):
    from crisis_ct.geography.models import Site

    with database.session() as session:
        session.scalars(sa.select(Site).where(Site.site_code == "S3")).one().population_households = 6
    maker = SubmissionMaker()
    for _ in range(2):
        send(client, world, maker.make("S3", answers=dict(lowest_risk_answers(), exp_confinement="yes")))
    drain(database)
    body = risk(client, world, "S3").get_json()
    assert body["small_site_suppression"] is True
    assert body["domain_phases"]["E"] >= 4
    exploitation = [row for row in body["indicators"] if row["domain"] == "E"]
    assert exploitation and all(row.get("suppressed") and "value" not in row for row in exploitation)
    assert not any(code.startswith("EXP_") for code in
                   body["critical_signals"] + body["unconfirmed_signals"] + body["drivers"])


def test_full_rescore_adds_rows_and_keeps_the_earlier_ones(client, world, database):
    # On PostgreSQL the full pass COPYs its rows with ids drawn beforehand: the columns must
    # match the explanation, the ids must be those task generation got, history must stay.
    maker = SubmissionMaker(12)
    send_three_each(client, world, maker, ("S1", "S2", "S3"), risk=0.5)
    drain(database)
    with database.session() as session:
        before = {row.id: row.site_id for row in session.scalars(sa.select(SiteRiskScore))}
        score_all(session, world.operation_id)
    with database.session() as session:
        rows = session.scalars(sa.select(SiteRiskScore).order_by(SiteRiskScore.id)).all()
        current = [row for row in rows if row.is_current]
        task_score_ids = set(session.scalars(sa.text(
            "SELECT site_score_id FROM mitigation_tasks WHERE site_score_id IS NOT NULL")))
    assert {row.id: row.site_id for row in rows if row.id in before} == before
    assert not any(row.is_current for row in rows if row.id in before)
    assert sorted(row.site_id for row in current) == sorted(set(before.values()))
    for row in current:
        assert (row.phase, row.confidence) == (row.explanation["phase"], row.explanation["confidence"])
        assert row.domain_phases == row.explanation["domain_phases"]
        assert row.assessment_date.isoformat() == row.explanation["assessment_date"]
    assert task_score_ids and task_score_ids <= {row.id for row in rows}

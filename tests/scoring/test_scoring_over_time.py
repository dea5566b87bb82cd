"""Scoring against the database as time passes and answers disagree (issue 12):
confidence aged once (item 3), counts combined without losing two KIs' report (item 4,
end to end to the child-protection task), and rescore_aged with a controlled `now`
(item 7)."""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.kobo.ingest import Ingestor
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.scoring.service import rescore_aged, rescore_sites
from crisis_ct.tasks.models import MitigationTask
from tests.conftest import auth
from tests.support.kobo_world import SubmissionMaker, build_world, lowest_risk_answers

ASSESSED = date(2026, 6, 1)


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc).replace(hour=2)


@pytest.fixture
def world(database, seed, tmp_path):
    world = build_world(database, seed, tmp_path)
    world.expert = seed.member("expert@example.org", "expert", expertise=["CT", "CP", "IM"])
    world.viewer = seed.member("viewer@example.org", "viewer")
    return world


def ingest(database, world, records):
    with database.session() as session:
        Ingestor(session, session.get(KoboAsset, world.asset_id), via="test").ingest(records)


def site_ids(database, *codes):
    with database.session() as session:
        return [session.scalar(sa.select(Site.id).where(Site.site_code == code)) for code in codes]


def three_calm_kis(maker, site, day, **changes):
    return [maker.make(site, assessment_date=day,
                       answers=dict(lowest_risk_answers(), ki_sex="female" if n == 0 else "male", **changes))
            for n in range(3)]


def current_site_row(session, code):
    return session.scalar(sa.select(SiteRiskScore).join(Site, Site.id == SiteRiskScore.site_id)
                          .where(Site.site_code == code, SiteRiskScore.is_current))


def area_summary(session, pcode):
    return session.scalar(sa.select(AdminAreaRiskScore.summary).join(AdminArea)
                          .where(AdminArea.pcode == pcode, AdminAreaRiskScore.is_current))


def open_rules(session, code):
    """Open tasks for the site: its own, and the area tasks that list it (task_per in the catalogue)."""
    from crisis_ct.tasks.models import TaskSite

    site_id = sa.select(Site.id).where(Site.site_code == code).scalar_subquery()
    listed = sa.select(TaskSite.task_id).where(TaskSite.site_id == site_id)
    return set(session.scalars(sa.select(MitigationTask.rule_id).where(
        MitigationTask.status == "open", sa.or_(MitigationTask.site_id == site_id, MitigationTask.id.in_(listed)))))


# -- item 3: confidence is aged once ---------------------------------------------------------

def test_a_stored_confidence_of_ageing_data_is_shown_as_stored(client, world, database):
    assessed = date.today() - timedelta(days=100)  # ageing when scored, still ageing today
    ingest(database, world, three_calm_kis(SubmissionMaker(), "S1", assessed))
    [s1] = site_ids(database, "S1")
    with database.session() as session:
        rescore_sites(session, [s1])
        stored = current_site_row(session, "S1")
        assert (stored.confidence, stored.explanation["recency"]) == ("medium", "ageing")
    body = client.get("/api/v1/sites/S1/risk", headers=auth(world.expert)).get_json()
    assert (body["confidence"], body["recency"]) == ("medium", "ageing")
    features = client.get("/api/v1/sites", headers=auth(world.expert)).get_json()["features"]
    shown = {f["properties"]["site_id"]: f["properties"]["confidence"] for f in features}
    assert shown["S1"] == "medium"


def test_a_score_computed_while_current_loses_one_level_once_it_ages(client, world, database):
    assessed = date.today() - timedelta(days=100)
    ingest(database, world, three_calm_kis(SubmissionMaker(), "S1", assessed))
    [s1] = site_ids(database, "S1")
    with database.session() as session:
        rescore_sites(session, [s1], now=at(assessed + timedelta(days=5)))  # scored while current
        assert current_site_row(session, "S1").confidence == "high"
    body = client.get("/api/v1/sites/S1/risk", headers=auth(world.expert)).get_json()
    assert (body["confidence"], body["recency"]) == ("medium", "ageing")
    features = client.get("/api/v1/sites", headers=auth(world.expert)).get_json()["features"]
    assert {f["properties"]["site_id"]: f["properties"]["confidence"] for f in features}["S1"] == "medium"


# -- item 4: none / few / many on unaccompanied children ------------------------------------

def test_none_few_many_on_unaccompanied_children_reaches_the_child_protection_task(world, database):
    maker = SubmissionMaker()
    records = [maker.make("S1", assessment_date=ASSESSED,
                          answers=dict(lowest_risk_answers(), ki_sex="female", pop_uasc=answer))
               for answer in ("none", "few", "many")]
    ingest(database, world, records)
    [s1] = site_ids(database, "S1")
    with database.session() as session:
        rescore_sites(session, [s1], now=at(ASSESSED + timedelta(days=2)))
        row = current_site_row(session, "S1")
        uasc = next(r for r in row.explanation["indicators"] if r["indicator_id"] == "POP_UASC")
        assert (uasc["value"], uasc["phase"], uasc["consensus"]) == ("few", 2, True)
        assert row.domain_phases["V"] >= 2
        assert "M04" in open_rules(session, "S1")


# -- item 7: time passes ---------------------------------------------------------------------

def test_rescore_aged_follows_the_calendar(world, database):
    maker = SubmissionMaker()
    ingest(database, world, [r for site in ("S1", "S2", "S3") for r in three_calm_kis(maker, site, ASSESSED)])
    ids = site_ids(database, "S1", "S2", "S3")
    with database.session() as session:
        rescore_sites(session, ids, now=at(ASSESSED + timedelta(days=3)))
        assert area_summary(session, "XZ01")["status"] == "classified"
        assert rescore_aged(session, at(ASSESSED + timedelta(days=90))) == 0  # still current
        assert "M30" not in open_rules(session, "S1")

    with database.session() as session:
        assert rescore_aged(session, at(ASSESSED + timedelta(days=91))) == 3  # current -> ageing
        row = current_site_row(session, "S1")
        assert (row.explanation["recency"], row.confidence) == ("ageing", "medium")
        assert "M30" in open_rules(session, "S1")  # "older than 90 days" fires with the calendar
        assert area_summary(session, "XZ01")["confidence"] == "medium"
        assert rescore_aged(session, at(ASSESSED + timedelta(days=92))) == 0  # nothing crossed since

    with database.session() as session:
        assert rescore_aged(session, at(ASSESSED + timedelta(days=181))) == 3  # ageing -> expired
        summary = area_summary(session, "XZ01")
        assert (summary["sites_assessed"], summary["sites_expired"]) == (0, 3)
        assert summary["status"] == "insufficient_data" and summary["phase"] is None


def test_rescore_aged_leaves_unchanged_sites_alone(world, database):
    maker = SubmissionMaker()
    ingest(database, world, three_calm_kis(maker, "S1", ASSESSED)
           + three_calm_kis(maker, "S2", ASSESSED + timedelta(days=60)))
    ids = site_ids(database, "S1", "S2")
    with database.session() as session:
        rescore_sites(session, ids, now=at(ASSESSED + timedelta(days=61)))
        before = current_site_row(session, "S2").id
        assert rescore_aged(session, at(ASSESSED + timedelta(days=95))) == 1
        assert current_site_row(session, "S2").id == before
        assert current_site_row(session, "S1").explanation["recency"] == "ageing"


def test_the_score_command_runs_the_aged_rescore(app, world, database):
    from crisis_ct.cli import main

    ingest(database, world, three_calm_kis(SubmissionMaker(), "S1", date.today() - timedelta(days=100)))
    [s1] = site_ids(database, "S1")
    with database.session() as session:
        rescore_sites(session, [s1], now=at(date.today() - timedelta(days=95)))  # scored while current
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["score", "--aged"])
    assert result.exit_code == 0, result.output
    assert "1 sites re-scored" in result.output
    # A second --aged run the same day finds nothing left to do.
    assert "0 sites re-scored" in runner.invoke(main, ["score", "--aged"]).output


# -- item 1 end to end: one late interview does not wipe a round -----------------------------

def test_a_late_benign_interview_keeps_the_phase_5_round_and_the_page_says_why(client, world, database, app):
    maker = SubmissionMaker()
    risky = dict(lowest_risk_answers(), exp_confinement="yes", doc_held_by_others="yes", svc_referral="no")
    records = [maker.make("S1", assessment_date=ASSESSED, answers=dict(risky, ki_sex=sex))
               for sex in ("female", "male", "male")]
    records.append(maker.make("S1", assessment_date=ASSESSED + timedelta(days=31),
                              answers=dict(lowest_risk_answers(), ki_sex="female")))
    ingest(database, world, records)
    [s1] = site_ids(database, "S1")
    with database.session() as session:
        rescore_sites(session, [s1], now=at(ASSESSED + timedelta(days=32)))
        row = current_site_row(session, "S1")
        assert row.phase == 5
        assert row.assessment_date == ASSESSED
        assert "previous_round_kept" in row.explanation["rules_applied"]
    body = client.get("/api/v1/sites/S1/risk", headers=auth(world.expert)).get_json()
    assert body["phase"] == 5 and "1 KI" in body["previous_round"]["reason"]["en"]

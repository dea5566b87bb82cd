"""Every mitigation rule, end to end on both databases: key-informant answers stored as Kobo
submissions through the webhook, scored by the worker's queue, to the task the rule creates
(issue 12, item 5: a rule whose facts are built by hand proves nothing about the facts
scoring really hands over; M26's follow-up branch never fired).

For each rule a witness answer is derived from its trigger (its first indicator condition,
with every KI giving it so critical signals are confirmed), added to answers that trigger no
rule at all; the rule's task must then exist at the site, or list the site when the rule is
one task per admin area."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.scoring.service import catalogue as indicator_catalogue
from crisis_ct.tasks.conditions import NON_ANSWERS, AllOf, AnyOf, IndicatorCondition
from crisis_ct.tasks.models import MitigationTask, TaskSite
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from tests.scoring.test_service import drain, lowest_risk_answers, send, world  # noqa: F401 (fixture)
from tests.support.kobo_world import SubmissionMaker

RULES = [rule.id for rule in catalogues()[0].rules]
TRANSIT_SITE, CAMP = "S4", "S1"

# Rules whose first condition is not an indicator answer, or whose branch under test is not
# the first: the answers (Kobo question names) that make them hold.
WITNESSES = {
    "M02": {"exp_confinement": "yes"},  # a critical signal from every KI: phase 4
    "M03": {"exp_confinement": "yes"},  # two sites at phase 4 in one district: a hot-spot
    "M23": {"exp_forced_work": "yes"},  # any E-domain signal
    # The follow-up branch: an offer of travel or transport (REC_OFFERS_TYPES).
    "M26": {"rec_offers": "yes", "rec_offers_types": "travel_transport"},
    "M30": {},  # the assessment itself is 100 days old
}
AGE_DAYS = {"M30": 100}


def _first_indicator_leaves(condition) -> list[IndicatorCondition]:
    if isinstance(condition, IndicatorCondition):
        return [condition]
    if isinstance(condition, AllOf):
        return [leaf for child in condition.conditions for leaf in _first_indicator_leaves(child)]
    if isinstance(condition, AnyOf):
        for child in condition.conditions:
            leaves = _first_indicator_leaves(child)
            if leaves:
                return leaves
    return []


def _answer(leaf: IndicatorCondition, scales) -> str:
    """A raw Kobo answer that satisfies the condition (scales: lowest risk first)."""
    scale = [code for code in scales.get(leaf.indicator, ()) if code not in NON_ANSWERS]
    if leaf.operator in {"is", "at_least", "includes"}:
        return leaf.operand
    if leaf.operator == "is_not":
        return next(code for code in reversed(scale) if code != leaf.operand)
    if leaf.operator == "includes_any_except":
        return next(code for code in reversed(scale) if code not in leaf.operand)
    if leaf.operator == "phase_at_least":
        indicator = indicator_catalogue().get(leaf.indicator)
        return str(next(minimum for minimum, phase in indicator.sorted_thresholds if phase >= leaf.operand))
    raise AssertionError(f"no witness for {leaf}")


def witness(rule_id: str) -> tuple[dict[str, str], str]:
    """(answers by question name, site code) that make the rule hold."""
    rules, scales = catalogues()
    if rule_id in WITNESSES:
        return dict(WITNESSES[rule_id]), CAMP
    leaves = _first_indicator_leaves(rules.rule(rule_id).trigger)
    assert leaves, f"{rule_id}: give it a witness in WITNESSES"
    answers = {leaf.indicator.lower(): _answer(leaf, scales) for leaf in leaves}
    site = TRANSIT_SITE if any(leaf.indicator.startswith("TRN_") for leaf in leaves) else CAMP
    return answers, site


def interview(client, world, maker, site: str, answers: dict, age_days: int = 5) -> None:  # noqa: F811
    assessed = utcnow().date() - timedelta(days=age_days)
    for informant in range(3):
        ki = dict(lowest_risk_answers(), ki_sex="female" if informant == 0 else "male", **answers)
        send(client, world, maker.make(site, answers=ki, assessment_date=assessed))


def tasks_of_rule(database, rule_id: str, site_code: str) -> list[tuple[str, str]]:
    """(scope, place) of the rule's tasks that are the site's or list it."""
    with database.session() as session:
        site_id = session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
        listed = sa.select(TaskSite.task_id).where(TaskSite.site_id == site_id)
        rows = session.execute(
            sa.select(MitigationTask.scope, MitigationTask.place_key).where(
                MitigationTask.rule_id == rule_id,
                sa.or_(MitigationTask.site_id == site_id, MitigationTask.id.in_(listed)))).all()
    return [tuple(row) for row in rows]


def test_the_calm_answers_trigger_no_rule(client, world, database):  # noqa: F811
    maker = SubmissionMaker()
    for site in (CAMP, TRANSIT_SITE):
        interview(client, world, maker, site, {})
    assert drain(database) == 2
    with database.session() as session:
        assert session.scalars(sa.select(MitigationTask.rule_id)).all() == []


@pytest.mark.parametrize("rule_id", RULES)
def test_every_rule_from_stored_answers_to_its_task(client, world, database, rule_id):  # noqa: F811
    rule = catalogues()[0].rule(rule_id)
    answers, site = witness(rule_id)
    maker = SubmissionMaker()
    interview(client, world, maker, site, answers, AGE_DAYS.get(rule_id, 5))
    if rule.scope == "admin_area":
        interview(client, world, maker, "S3", answers)  # S1 and S3 share province XZ01
    drain(database)
    if rule.scope == "admin_area":
        with database.session() as session:
            places = set(session.scalars(sa.select(AdminArea.pcode).join(
                MitigationTask, MitigationTask.admin_area_id == AdminArea.id).where(MitigationTask.rule_id == rule_id)))
        assert places == {"XZ01"}
        return
    found = tasks_of_rule(database, rule_id, site)
    expected_scope = "site" if rule.admin_level is None else "admin_area"
    assert [scope for scope, _ in found] == [expected_scope], (rule_id, answers, found)


def test_m26_fires_on_the_travel_offer_follow_up_and_names_it(client, world, database):  # noqa: F811
    interview(client, world, SubmissionMaker(), CAMP, WITNESSES["M26"])
    drain(database)
    with database.session() as session:
        evidence = session.scalar(sa.select(TaskSite.evidence).join(
            MitigationTask, MitigationTask.id == TaskSite.task_id).where(MitigationTask.rule_id == "M26"))
    assert {"kind": "indicator", "id": "REC_OFFERS_TYPES", "value": ["travel_transport"]} in evidence


def test_a_verified_area_task_is_not_created_again_by_the_next_submission_in_the_area(client, world, database):  # noqa: F811
    # Issue 12, item 6: area scorings now carry their newest assessment date, so a verified M03
    # comes back only with evidence newer than its verification.
    maker = SubmissionMaker()
    for site in (CAMP, "S3"):
        interview(client, world, maker, site, WITNESSES["M03"], age_days=15)
    drain(database)
    with database.session() as session:
        session.execute(sa.update(MitigationTask).where(MitigationTask.rule_id == "M03")
                        .values(status="verified", closed_at=utcnow() - timedelta(days=10)))

    def m03() -> list[str]:
        with database.session() as session:
            return list(session.scalars(sa.select(MitigationTask.status).where(MitigationTask.rule_id == "M03")
                                        .order_by(MitigationTask.id)))
    interview(client, world, maker, "S2", {}, age_days=12)  # assessed before the verification
    drain(database)
    assert m03() == ["verified"]
    interview(client, world, maker, "S2", {}, age_days=3)  # newer: the hot-spot is still there
    drain(database)
    assert m03() == ["verified", "open"]

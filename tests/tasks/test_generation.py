from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from crisis_ct.tasks.generation import (
    ALREADY_CLOSED, DUPLICATE_OPEN_TASK, NO_LONGER_TRIGGERED, OLDER_ASSESSMENT, RULE_REMOVED,
    ExistingTask, plan_tasks,
)
from crisis_ct.tasks.triggers import Evidence, IndicatorFact, TriggeredRule, rules_triggered

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
ASSESSED = date(2026, 2, 25)


@pytest.fixture
def hit(catalogue):
    def make(rule_id: str, priority: str | None = None, evidence=("indicator", "X", "yes"), strength: int = 1):
        rule = catalogue.rule(rule_id)
        return TriggeredRule(rule, priority or rule.priority, (Evidence(*evidence),), strength)
    return make


def plan(catalogue, triggered, existing=(), assessment_date=ASSESSED):
    return plan_tasks(triggered, existing, now=NOW, assessment_date=assessment_date, catalogue=catalogue)


def test_a_new_trigger_creates_a_task_due_after_its_priority_response_time(catalogue, hit):
    result = plan(catalogue, [hit("M09")])
    (task,) = result.create
    assert (task.rule_id, task.priority) == ("M09", "P2")
    assert task.due_at == NOW + timedelta(hours=168)
    assert task.evidence == (Evidence("indicator", "X", "yes"),)
    assert task.assessment_date == ASSESSED


def test_p1_task_is_due_in_72_hours(catalogue, hit):
    assert plan(catalogue, [hit("M05")]).create[0].due_at == NOW + timedelta(hours=72)


def test_re_trigger_refreshes_the_open_task_instead_of_duplicating(catalogue, hit):
    existing = [ExistingTask("M09", "claimed", "P2", task_id=7)]
    result = plan(catalogue, [hit("M09", evidence=("indicator", "DOC_LACK", "most"))], existing)
    assert result.create == ()
    assert [(r.task_id, r.evidence) for r in result.refresh] == [(7, (Evidence("indicator", "DOC_LACK", "most"),))]


@pytest.mark.parametrize("status", ["open", "claimed", "in_progress", "done"])
def test_every_non_final_status_blocks_a_duplicate(catalogue, hit, status):
    result = plan(catalogue, [hit("M09")], [ExistingTask("M09", status, "P2", task_id=1)])
    assert result.create == () and len(result.refresh) == 1


@pytest.mark.parametrize("status", ["verified", "cancelled"])
def test_a_closed_task_from_an_older_assessment_does_not_block_a_new_one(catalogue, hit, status):
    closed = ExistingTask("M09", status, "P2", task_id=1, assessment_date=ASSESSED - timedelta(days=100))
    assert [t.rule_id for t in plan(catalogue, [hit("M09")], [closed]).create] == ["M09"]


def test_a_task_closed_for_this_same_assessment_is_not_created_again(catalogue, hit):
    closed = ExistingTask("M09", "cancelled", "P2", task_id=1, assessment_date=ASSESSED)
    result = plan(catalogue, [hit("M09")], [closed])
    assert result.create == ()
    assert [(s.task_id, s.reason) for s in result.skipped] == [(1, ALREADY_CLOSED)]


def test_a_stronger_trigger_escalates_the_open_task(catalogue, hit):
    existing = [ExistingTask("M16", "open", "P2", task_id=3, due_at=NOW + timedelta(days=5))]
    result = plan(catalogue, [hit("M16", priority="P1")], existing)
    (escalation,) = result.escalate
    assert (escalation.task_id, escalation.from_priority, escalation.to_priority) == (3, "P2", "P1")
    assert escalation.due_at == NOW + timedelta(hours=72)
    assert result.refresh == () and result.create == ()


def test_escalation_never_pushes_a_due_date_later(catalogue, hit):
    soon = NOW + timedelta(hours=10)
    existing = [ExistingTask("M16", "open", "P2", task_id=3, due_at=soon)]
    assert plan(catalogue, [hit("M16", priority="P1")], existing).escalate[0].due_at == soon


def test_a_weaker_trigger_never_lowers_priority(catalogue, hit):
    existing = [ExistingTask("M16", "in_progress", "P1", task_id=3)]
    result = plan(catalogue, [hit("M16", priority="P2")], existing)
    assert result.escalate == ()
    assert [r.task_id for r in result.refresh] == [3]


def test_an_open_task_whose_rule_no_longer_triggers_is_flagged_not_closed(catalogue):
    # M07 is a site rule (M04 became one task per district: see the area-task tests).
    existing = [ExistingTask("M07", "claimed", "P1", task_id=11)]
    result = plan(catalogue, [], existing)
    assert [(r.task_id, r.reason) for r in result.review] == [(11, NO_LONGER_TRIGGERED)]
    assert result.create == () and result.refresh == () and result.escalate == ()


def test_a_done_task_is_not_flagged_when_risk_falls(catalogue):
    assert plan(catalogue, [], [ExistingTask("M04", "done", "P1", task_id=11)]).review == ()


def test_a_closed_task_is_not_flagged_when_risk_falls(catalogue):
    assert plan(catalogue, [], [ExistingTask("M04", "verified", "P1", task_id=11)]).review == ()


def test_a_task_of_a_removed_rule_is_flagged_as_such(catalogue):
    result = plan(catalogue, [], [ExistingTask("M99", "open", "P2", task_id=5)])
    assert [(r.task_id, r.reason) for r in result.review] == [(5, RULE_REMOVED)]


def test_a_second_open_task_of_one_rule_is_flagged_as_duplicate(catalogue, hit):
    existing = [ExistingTask("M09", "open", "P3", task_id=1), ExistingTask("M09", "claimed", "P2", task_id=2)]
    result = plan(catalogue, [hit("M09")], existing)
    assert [r.task_id for r in result.refresh] == [2]
    assert [(r.task_id, r.reason) for r in result.review] == [(1, DUPLICATE_OPEN_TASK)]


def test_an_older_assessment_neither_refreshes_nor_flags_newer_tasks(catalogue, hit):
    newer = date(2026, 2, 28)
    existing = [ExistingTask("M09", "open", "P2", task_id=1, assessment_date=newer),
                ExistingTask("M04", "open", "P1", task_id=2, assessment_date=newer)]
    result = plan(catalogue, [hit("M09")], existing, assessment_date=date(2026, 1, 1))
    assert result.is_empty
    assert sorted((s.task_id, s.reason) for s in result.skipped) == [(1, OLDER_ASSESSMENT), (2, OLDER_ASSESSMENT)]


def test_new_tasks_are_listed_most_urgent_first(catalogue, hit):
    result = plan(catalogue, [hit("M30"), hit("M09"), hit("M05")])
    assert [t.rule_id for t in result.create] == ["M05", "M09", "M30"]


def test_naive_now_is_refused(catalogue, hit):
    with pytest.raises(ValueError):
        plan_tasks([hit("M09")], [], now=NOW.replace(tzinfo=None), assessment_date=None, catalogue=catalogue)


def test_a_single_ki_critical_signal_yields_the_verification_task(catalogue, site, scales):
    facts = site({"EXP_ARMED_RECRUIT": IndicatorFact("yes", 4, n_yes=1, n_answered=5)},
                 site_phase=3, unconfirmed_signals=("EXP_ARMED_RECRUIT",))
    result = plan(catalogue, rules_triggered(catalogue, facts, scales))
    created = {t.rule_id: t for t in result.create}
    assert created["M02"].priority == "P1"
    assert created["M02"].evidence == (Evidence("unconfirmed_signal", "EXP_ARMED_RECRUIT", "yes"),)
    # ... and only it: the responses to the report itself (M01 referral, M05 CP alert, M21 and
    # M23 on the E domain) wait until a second key informant confirms it.
    assert [t.rule_id for t in result.create if t.priority == "P1"] == ["M02"]
    assert not {"M01", "M05"} & set(created)


def test_a_confirmed_critical_signal_opens_its_responses_at_p1(catalogue, site, scales):
    facts = site({"EXP_ARMED_RECRUIT": IndicatorFact("yes", 4, n_yes=2, n_answered=5)},
                 site_phase=4, confirmed_signals=("EXP_ARMED_RECRUIT",))
    created = {t.rule_id: t.priority for t in plan(catalogue, rules_triggered(catalogue, facts, scales)).create}
    assert created["M05"] == created["M01"] == created["M02"] == "P1"


def test_an_unconfirmed_signal_lowers_a_rule_that_says_so(catalogue, site, scales):
    # M07 (women and girls' safe space) does not wait: risk reduction for GBV does not need
    # proof (IASC), so it opens at its while_unconfirmed priority.
    facts = site({"EXP_SEX_EXCHANGE": IndicatorFact("yes", 4, n_yes=1, n_answered=4)},
                 site_phase=4, unconfirmed_signals=("EXP_SEX_EXCHANGE",))
    created = {t.rule_id: t.priority for t in plan(catalogue, rules_triggered(catalogue, facts, scales)).create}
    assert created["M07"] == "P3" and created["M02"] == "P1"
    assert [rule for rule, priority in created.items() if priority == "P1"] == ["M02"]


def test_planning_twice_from_the_same_facts_creates_nothing_new(catalogue, site, scales):
    facts = site({"POP_UASC": "many", "DOC_LACK": "most"})
    first = plan(catalogue, rules_triggered(catalogue, facts, scales))
    existing = [ExistingTask(t.rule_id, "open", t.priority, task_id=i, assessment_date=ASSESSED)
                for i, t in enumerate(first.create)]
    second = plan(catalogue, rules_triggered(catalogue, facts, scales), existing)
    assert first.create and second.create == ()
    assert {r.rule_id for r in second.refresh} == {t.rule_id for t in first.create}

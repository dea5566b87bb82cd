from __future__ import annotations

import pytest

from crisis_ct.tasks.triggers import (
    ConditionError, Evidence, IndicatorFact, TriggerError, evaluate, parse_condition, rules_triggered,
)


def triggered_ids(catalogue, facts, scales) -> list[str]:
    return [t.rule.id for t in rules_triggered(catalogue, facts, scales)]


def by_id(catalogue, facts, scales, rule_id):
    return next(t for t in rules_triggered(catalogue, facts, scales) if t.rule.id == rule_id)


# --- single conditions -------------------------------------------------------------------

def test_is_matches_the_answer_and_returns_it_as_evidence(site, scales):
    match = evaluate({"indicator": "REC_ORGANS", "is": "yes"}, site({"REC_ORGANS": "yes"}), scales)
    assert match.evidence == (Evidence("indicator", "REC_ORGANS", "yes"),)


def test_is_does_not_match_another_answer(site, scales):
    assert evaluate({"indicator": "REC_ORGANS", "is": "yes"}, site({"REC_ORGANS": "no"}), scales) is None


def test_is_not_is_false_when_the_indicator_is_unanswered(site, scales):
    assert evaluate({"indicator": "ENV_WASH_SAFE", "is_not": "adequate"}, site({}), scales) is None


def test_is_not_is_false_for_dont_know(site, scales):
    facts = site({"ENV_WASH_SAFE": "dnk"})
    assert evaluate({"indicator": "ENV_WASH_SAFE", "is_not": "adequate"}, facts, scales) is None


def test_is_not_is_false_for_an_indicator_specific_missing_code(site, scales):
    facts = site({"ENV_LIGHTING": "not_observed"})
    assert evaluate({"indicator": "ENV_LIGHTING", "is_not": "adequate"}, facts, scales) is None


def test_is_not_holds_for_a_different_answer(site, scales):
    facts = site({"ENV_WASH_SAFE": "partial"})
    assert evaluate({"indicator": "ENV_WASH_SAFE", "is_not": "adequate"}, facts, scales) is not None


@pytest.mark.parametrize("answer, holds", [("none", False), ("few", False), ("many", True), ("most", True)])
def test_at_least_compares_on_the_scale(site, scales, answer, holds):
    facts = site({"DOC_LACK": answer})
    assert (evaluate({"indicator": "DOC_LACK", "at_least": "many"}, facts, scales) is not None) is holds


@pytest.mark.parametrize("answer, holds", [("adequate", True), ("partial", True), ("none", False)])
def test_at_most_compares_on_the_scale(site, scales, answer, holds):
    facts = site({"ENV_LIGHTING": answer})
    assert (evaluate({"indicator": "ENV_LIGHTING", "at_most": "partial"}, facts, scales) is not None) is holds


def test_at_least_is_false_for_dont_know(site, scales):
    assert evaluate({"indicator": "DOC_LACK", "at_least": "none"}, site({"DOC_LACK": "dnk"}), scales) is None


def test_at_least_without_a_known_scale_raises_rather_than_reading_no_risk(site):
    with pytest.raises(TriggerError):
        evaluate({"indicator": "DOC_LACK", "at_least": "many"}, site({"DOC_LACK": "most"}), {})


def test_includes_reads_kobo_space_separated_choices(site, scales):
    facts = site({"ENV_ARMED_ACTORS": "nearby inside"})
    match = evaluate({"indicator": "ENV_ARMED_ACTORS", "includes": "inside"}, facts, scales)
    assert match.evidence == (Evidence("indicator", "ENV_ARMED_ACTORS", ("inside", "nearby")),)


def test_includes_is_false_when_the_choice_is_absent(site, scales):
    facts = site({"ENV_ARMED_ACTORS": ["nearby"]})
    assert evaluate({"indicator": "ENV_ARMED_ACTORS", "includes": "inside"}, facts, scales) is None


@pytest.mark.parametrize("answer, holds", [
    (["none"], False), (["dnk"], False), (["none", "pnta"], False), (["upfront_fee"], True), ([], False),
])
def test_includes_any_except_ignores_listed_and_non_answer_codes(site, scales, answer, holds):
    facts = site({"REC_RED_FLAGS": answer})
    condition = {"indicator": "REC_RED_FLAGS", "includes_any_except": ["none"]}
    assert (evaluate(condition, facts, scales) is not None) is holds


def test_indicator_phase_at_least_uses_the_scored_phase(site, scales):
    facts = site({"POP_NEW_ARRIVALS": IndicatorFact(value=350, phase=3, n_yes=0, n_answered=3)})
    match = evaluate({"indicator": "POP_NEW_ARRIVALS", "phase_at_least": 3}, facts, scales)
    assert match.evidence == (Evidence("indicator", "POP_NEW_ARRIVALS", 350),)
    assert evaluate({"indicator": "POP_NEW_ARRIVALS", "phase_at_least": 4}, facts, scales) is None


def test_domain_phase_condition(site, scales):
    facts = site(domain_phases={"E": 4, "V": None})
    assert evaluate({"domain": "E", "phase_at_least": 4}, facts, scales).evidence == (Evidence("domain", "E", 4),)
    assert evaluate({"domain": "V", "phase_at_least": 1}, facts, scales) is None


def test_site_type_in(site, scales):
    facts = site(site_type="border_point")
    assert evaluate({"site_type_in": ["transit_centre", "border_point"]}, facts, scales) is not None
    assert evaluate({"site_type_in": ["planned_camp"]}, facts, scales) is None


def test_age_days_over_is_strict(site, scales):
    assert evaluate({"age_days_over": 90}, site(age_days=90), scales) is None
    assert evaluate({"age_days_over": 90}, site(age_days=91), scales) is not None


def test_all_needs_every_branch(site, scales):
    condition = {"all": [{"confidence": "low"}, {"site_phase_at_least": 3}]}
    assert evaluate(condition, site(confidence="low", site_phase=2), scales) is None
    match = evaluate(condition, site(confidence="low", site_phase=3), scales)
    assert match.leaves == 2


def test_any_collects_evidence_from_every_branch_that_holds(site, scales):
    condition = {"any": [{"indicator": "REC_OFFERS", "is": "yes"}, {"indicator": "TRN_SMUGGLERS", "is": "yes"}]}
    match = evaluate(condition, site({"REC_OFFERS": "yes", "TRN_SMUGGLERS": "yes"}), scales)
    assert [e.id for e in match.evidence] == ["REC_OFFERS", "TRN_SMUGGLERS"]


@pytest.mark.parametrize("raw, where", [
    ({"indicator": "X", "is": "yes", "at_least": "few"}, ""),
    ({"indicator": "X", "like": "y%"}, "like"),
    ({"site_phase_at_least": 7}, "site_phase_at_least"),
    ({"any": []}, "any"),
    ({"hotspot": False}, "hotspot"),
    ({"domain": "Z", "phase_at_least": 3}, "domain"),
    ({"any": [{"__import__": "os"}]}, "any[0].__import__"),
    ("POP_UASC >= few", ""),
])
def test_malformed_conditions_are_rejected_with_their_path(raw, where):
    with pytest.raises(ConditionError) as caught:
        parse_condition(raw)
    assert caught.value.where == where


# --- the real rules ----------------------------------------------------------------------

def test_m04_triggers_from_a_few_uasc_at_p2_below_phase_4(catalogue, site, scales):
    hit = by_id(catalogue, site({"POP_UASC": "few"}, site_phase=3), scales, "M04")
    assert hit.priority == "P2"
    assert hit.evidence == (Evidence("indicator", "POP_UASC", "few"),)


@pytest.mark.parametrize("facts", [{"site_phase": 4}, {"site_phase": 3, "confirmed_signals": ("EXP_CONFINEMENT",)}])
def test_m04_is_p1_at_phase_4_or_with_a_confirmed_critical_signal(catalogue, site, scales, facts):
    hit = by_id(catalogue, site({"POP_UASC": "few"}, **facts), scales, "M04")
    assert hit.priority == "P1"


def test_m04_does_not_trigger_from_no_uasc(catalogue, site, scales):
    assert "M04" not in triggered_ids(catalogue, site({"POP_UASC": "none", "POP_SEPARATION": "few"}), scales)


def test_m16_is_p2_without_people_gone_missing(catalogue, site, scales):
    hit = by_id(catalogue, site({"SVC_REGISTRATION": "no", "REC_LEFT_NO_NEWS": "no"}), scales, "M16")
    assert hit.priority == "P2"


def test_m16_escalates_to_p1_when_people_left_without_news(catalogue, site, scales):
    hit = by_id(catalogue, site({"SVC_REGISTRATION": "no", "REC_LEFT_NO_NEWS": "yes"}), scales, "M16")
    assert hit.priority == "P1"
    assert Evidence("indicator", "REC_LEFT_NO_NEWS", "yes") in hit.evidence


def test_m02_triggers_from_an_unconfirmed_single_ki_signal(catalogue, site, scales):
    facts = site({"EXP_CONFINEMENT": IndicatorFact("yes", 4, n_yes=1, n_answered=4)},
                 site_phase=3, unconfirmed_signals=("EXP_CONFINEMENT",))
    hit = by_id(catalogue, facts, scales, "M02")
    assert hit.evidence == (Evidence("unconfirmed_signal", "EXP_CONFINEMENT", "yes"),)


def test_m02_does_not_trigger_below_phase_4_without_unconfirmed_signals(catalogue, site, scales):
    assert "M02" not in triggered_ids(catalogue, site(site_phase=3), scales)


@pytest.mark.parametrize("facts", [{"area_phase": 4}, {"area_phase": 2, "hotspot": True}])
@pytest.mark.parametrize("level", [1, 2])
def test_m03_triggers_for_area_phase_4_or_a_hotspot(catalogue, area, scales, facts, level):
    assert triggered_ids(catalogue, area(admin_level=level, **facts), scales) == ["M03"]


def test_m03_leaves_admin_3_areas_to_their_district(catalogue, area, scales):
    # An admin-3 hot-spot's sites make its district a hot-spot too: one escalation, not two.
    assert triggered_ids(catalogue, area(admin_level=3, area_phase=4, hotspot=True), scales) == []


def test_m03_does_not_trigger_for_a_calm_area(catalogue, area, scales):
    assert triggered_ids(catalogue, area(area_phase=3), scales) == []


def test_site_rules_are_not_evaluated_for_an_area(catalogue, area, scales):
    # Area facts carry no indicators; only the admin_area rule may trigger.
    assert all(t.rule.scope == "admin_area" for t in rules_triggered(catalogue, area(area_phase=5, hotspot=True,
                                                                                      age_days=400), scales))


def test_area_rule_is_not_evaluated_for_a_site(catalogue, site, scales):
    assert "M03" not in triggered_ids(catalogue, site(area_phase=5, hotspot=True), scales)


def test_m18_does_not_trigger_when_lighting_could_not_be_observed(catalogue, site, scales):
    assert "M18" not in triggered_ids(catalogue, site({"ENV_LIGHTING": "not_observed"}), scales)


def test_m24_reads_the_inverse_school_item(catalogue, site, scales):
    assert "M24" in triggered_ids(catalogue, site({"SVC_SCHOOL": "few"}), scales)
    assert "M24" not in triggered_ids(catalogue, site({"SVC_SCHOOL": "many"}), scales)


def test_m26_triggers_from_a_travel_offer_type(catalogue, site, scales):
    assert "M26" in triggered_ids(catalogue, site({"REC_OFFERS_TYPES": "job_abroad travel_transport"}), scales)


def test_m30_triggers_for_low_confidence_only_at_phase_3(catalogue, site, scales):
    assert "M30" not in triggered_ids(catalogue, site(confidence="low", site_phase=2), scales)
    assert "M30" in triggered_ids(catalogue, site(confidence="low", site_phase=3), scales)


def test_nothing_triggers_for_a_site_with_no_risk_answers(catalogue, site, scales):
    calm = site({"SVC_REFERRAL": "yes", "SVC_INFO": "yes", "SVC_REGISTRATION": "yes", "SVC_CFM_PSEA": "yes",
                 "POP_UASC": "none", "ENV_LIGHTING": "adequate", "ENV_WASH_SAFE": "adequate",
                 "ENV_ARMED_ACTORS": "none", "REC_RED_FLAGS": "none", "SVC_SCHOOL": "most"},
                site_phase=1, domain_phases={"E": 1}, confidence="high", age_days=10)
    assert triggered_ids(catalogue, calm, scales) == []


def test_strength_counts_the_trigger_conditions_that_held(catalogue, site, scales):
    hit = by_id(catalogue, site({"POP_UASC": "many", "POP_CHH": "few", "POP_SEPARATION": "none"}), scales, "M04")
    assert hit.strength == 2

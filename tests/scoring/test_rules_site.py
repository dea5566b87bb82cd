"""score_site worked examples (domain.md §2.2-§2.6) on a small hand-built catalogue."""
import json
from datetime import date, timedelta

from catalogue_factory import AS_OF, ROUND_DAY, calm, catalogue, indicator, interview

from crisis_ct.scoring.rules import SiteScore, score_site

CATALOGUE = catalogue()


def score(*interviews, as_of=AS_OF, cat=CATALOGUE):
    return score_site(cat, list(interviews), as_of=as_of)


def result(site, indicator_id):
    return next(r for r in site.indicators if r.indicator_id == indicator_id)


def test_calm_site_with_referral_pathway_is_phase_1():
    site = score(calm(1), calm(2, sex="male"), calm(3, sex="male"))
    assert site.phase == 1
    assert site.drivers == ()
    assert site.critical_signals == ()


def test_calm_site_with_three_kis_and_a_woman_has_high_confidence():
    site = score(calm(1), calm(2, sex="male"), calm(3, sex="male"))
    assert (site.confidence, site.recency, site.n_ki, site.has_woman_ki) == ("high", "current", 3, True)


def test_confinement_from_two_kis_floors_at_4_and_drives():
    site = score(calm(1, EXP_CONFINEMENT="yes"), calm(2, EXP_CONFINEMENT="yes"), calm(3))
    assert site.phase >= 4
    assert "EXP_CONFINEMENT" in site.drivers
    assert "critical_floor_4" in site.rules_applied
    assert site.critical_signals == ("EXP_CONFINEMENT",)


def test_two_confirmed_critical_signals_without_referral_is_phase_5():
    kis = [calm(n, EXP_CONFINEMENT="yes", DOC_HELD_BY_OTHERS="yes", SVC_REFERRAL="no") for n in (1, 2, 3)]
    site = score(*kis)
    assert site.phase == 5
    assert "phase5_critical_no_referral" in site.rules_applied
    assert set(site.drivers) == {"EXP_CONFINEMENT", "DOC_HELD_BY_OTHERS", "SVC_REFERRAL"}


def test_phase_5_is_blocked_when_referral_pathway_exists():
    kis = [calm(n, EXP_CONFINEMENT="yes", DOC_HELD_BY_OTHERS="yes") for n in (1, 2, 3)]
    site = score(*kis)
    assert site.phase == 4
    assert "phase5_blocked_referral_present" in site.rules_applied


def test_phase_5_is_blocked_when_referral_is_unknown():
    kis = [calm(n, EXP_CONFINEMENT="yes", DOC_HELD_BY_OTHERS="yes", SVC_REFERRAL="dnk") for n in (1, 2, 3)]
    site = score(*kis)
    assert site.phase == 4
    assert "phase5_blocked_referral_unknown" in site.rules_applied


def test_single_ki_critical_signal_is_unconfirmed_floors_at_4_not_5():
    site = score(
        calm(1, EXP_CONFINEMENT="yes", DOC_HELD_BY_OTHERS="yes", SVC_REFERRAL="no"),
        calm(2, DOC_HELD_BY_OTHERS="yes", SVC_REFERRAL="no"),
        calm(3, SVC_REFERRAL="no"),
    )
    assert site.phase == 4
    assert site.unconfirmed_signals == ("EXP_CONFINEMENT",)
    assert site.critical_signals == ("DOC_HELD_BY_OTHERS",)


def test_unconfirmed_critical_signal_lowers_confidence_from_high():
    site = score(calm(1, EXP_CONFINEMENT="yes"), calm(2, sex="male"), calm(3, sex="male"))
    assert site.confidence == "medium"


def test_mode_tie_is_no_consensus_and_scores_nothing():
    site = score(calm(1, POP_UASC="many"), calm(2, POP_UASC="few"))
    uasc = result(site, "POP_UASC")
    assert (uasc.consensus, uasc.value, uasc.phase) == (False, None, None)


def test_two_domains_at_3_give_phase_3():
    kis = [calm(n, POP_UASC="many", EXP_FORCED_WORK="yes") for n in (1, 2, 3)]
    site = score(*kis)
    assert site.phase == 3
    assert site.drivers == ("POP_UASC", "EXP_FORCED_WORK")
    assert "two_domains_at_p" in site.rules_applied


def test_one_high_domain_alone_does_not_raise_the_site():
    kis = [calm(n, POP_UASC="most", LIV_DEBT="many") for n in (1, 2, 3)]
    site = score(*kis)
    assert site.domain_phases["V"] == 4
    assert site.phase == 1


def test_capacity_domain_uses_median_half_up():
    kis = [calm(n, SVC_REFERRAL="no", SVC_CP_GBV="no") for n in (1, 2, 3)]
    assert score(*kis).domain_phases["C"] == 3
    kis = [calm(n, SVC_REFERRAL="no", SVC_CP_GBV="no", SVC_INFO=None) for n in (1, 2, 3)]
    assert score(*kis).domain_phases["C"] == 3  # median of 3, 3
    kis = [calm(n, SVC_REFERRAL="no", SVC_CP_GBV=None) for n in (1, 2, 3)]
    assert score(*kis).domain_phases["C"] == 2  # median of 3, 1 = 2


def test_single_domain_with_data_counts_alone_at_low_confidence():
    kis = [interview(n, {"POP_UASC": "many", "LIV_DEBT": "most"}) for n in (1, 2, 3)]
    site = score(*kis)
    assert site.phase == 4
    assert "single_domain" in site.rules_applied
    assert site.confidence == "low"


def test_count_rule_is_capped_at_4_without_critical_signals():
    cat = catalogue((
        indicator("V_FIVE", "V", "select_one", {"low": 1, "top": 5}, combine="mode"),
        indicator("S_FIVE", "S", "select_one", {"low": 1, "top": 5}, combine="mode"),
    ))
    site = score(*[interview(n, {"V_FIVE": "top", "S_FIVE": "top"}) for n in (1, 2, 3)], cat=cat)
    assert site.phase == 4
    assert "phase5_capped" in site.rules_applied


def test_no_scorable_answer_gives_no_phase():
    site = score(interview(1, {"POP_UASC": "dnk", "EXP_CONFINEMENT": "pnta"}))
    assert site.phase is None
    assert site.n_ki == 0
    assert site.completeness == 0.0


def test_ki_who_declined_everything_is_not_counted_as_a_woman_ki():
    site = score(calm(1, sex="male"), calm(2, sex="male"), calm(3, sex="male"),
                 interview(4, {"EXP_CONFINEMENT": "pnta"}, sex="female"))
    assert (site.n_ki, site.has_woman_ki, site.submission_ids) == (3, False, (1, 2, 3))


def test_only_the_latest_round_is_scored_when_it_stands_alone():
    # Three KIs answering every domain replace the earlier round (issue 12: with fewer,
    # the earlier answers keep counting; tests/scoring/test_rules_rounds.py).
    old = ROUND_DAY - timedelta(days=60)
    site = score(calm(1, day=old, EXP_CONFINEMENT="yes"), calm(2, day=old, EXP_CONFINEMENT="yes"),
                 calm(3), calm(4), calm(5))
    assert site.phase == 1
    assert site.submission_ids == (3, 4, 5)


def test_ageing_assessment_lowers_confidence_one_level():
    kis = [calm(1), calm(2, sex="male"), calm(3, sex="male")]
    site = score(*kis, as_of=ROUND_DAY + timedelta(days=120))
    assert (site.recency, site.confidence) == ("ageing", "medium")


def test_expired_assessment_has_low_confidence():
    kis = [calm(1), calm(2, sex="male"), calm(3, sex="male")]
    site = score(*kis, as_of=ROUND_DAY + timedelta(days=181))
    assert (site.recency, site.confidence) == ("expired", "low")


def test_recency_boundaries_are_inclusive():
    kis = [calm(1), calm(2), calm(3)]
    assert score(*kis, as_of=ROUND_DAY + timedelta(days=90)).recency == "current"
    assert score(*kis, as_of=ROUND_DAY + timedelta(days=180)).recency == "ageing"


def test_fewer_than_min_kis_is_low_confidence():
    assert score(calm(1), calm(2)).confidence == "low"


def test_no_woman_ki_is_medium_confidence():
    site = score(calm(1, sex="male"), calm(2, sex="male"), calm(3, sex="pnta"))
    assert site.confidence == "medium"


def test_transit_item_is_listed_only_when_answered():
    plain = score(calm(1), calm(2), calm(3))
    transit = score(calm(1, TRN_SMUGGLERS="yes"), calm(2), calm(3))
    assert "TRN_SMUGGLERS" not in [r.indicator_id for r in plain.indicators]
    assert result(transit, "TRN_SMUGGLERS").phase == 3


def test_completeness_counts_indicators_with_a_phase():
    site = score(calm(1, POP_UASC="dnk", LIV_DEBT=None), calm(2, POP_UASC="dnk", LIV_DEBT=None))
    listed = len(site.indicators)
    assert site.completeness == round((listed - 2) / listed, 4)


def test_score_round_trips_through_json():
    site = score(calm(1, EXP_CONFINEMENT="yes", LIV_NEG_COPING=("begging", "selling_assets")),
                 calm(2, POP_NEW_ARRIVALS=75), calm(3))
    data = json.loads(json.dumps(site.to_dict()))
    assert SiteScore.from_dict(data) == site
    assert data["assessment_date"] == ROUND_DAY.isoformat()
    assert list(data) == list(site.to_dict())


def test_assessment_date_is_the_latest_interview_date():
    site = score(calm(1, day=date(2025, 2, 20)), calm(2, day=date(2025, 3, 1)))
    assert site.assessment_date == date(2025, 3, 1)

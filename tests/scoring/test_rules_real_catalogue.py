"""Worked examples of §2 against the shipped catalogue (forms/indicators.yaml)."""
from catalogue_factory import AS_OF, interview

from crisis_ct.scoring.catalogue import load_catalogue
from crisis_ct.scoring.rules import score_site

CATALOGUE = load_catalogue()


def calm_answers():
    """Every always-asked indicator at its phase-1 answer ('none', 'no', 'adequate', 'yes' for SVC)."""
    answers = {}
    for item in CATALOGUE.indicators:
        if item.transit_only or item.asked_if:
            continue
        if item.answer_type == "integer":
            answers[item.id] = 0
            continue
        lowest = min((c for c in item.choices if c.phase is not None), key=lambda c: c.phase)
        answers[item.id] = (lowest.code,) if item.answer_type == "select_multiple" else lowest.code
    return answers


def kis(*changes, sexes=("female", "male", "male")):
    return [interview(n, {**calm_answers(), **change}, sex=sex)
            for n, (change, sex) in enumerate(zip(changes, sexes), start=1)]


def score(interviews):
    return score_site(CATALOGUE, interviews, as_of=AS_OF)


def test_only_no_risk_answers_with_referral_is_phase_1_high_confidence():
    site = score(kis({}, {}, {}))
    assert (site.phase, site.confidence, site.completeness) == (1, "high", 1.0)
    assert site.catalogue_version == CATALOGUE.version


def test_confinement_from_two_kis_is_at_least_phase_4_and_drives():
    site = score(kis({"EXP_CONFINEMENT": "yes"}, {"EXP_CONFINEMENT": "yes"}, {}))
    assert site.phase >= 4
    assert "EXP_CONFINEMENT" in site.drivers
    assert site.critical_signals == ("EXP_CONFINEMENT",)


def test_two_confirmed_critical_signals_and_no_referral_is_phase_5():
    grave = {"EXP_CONFINEMENT": "yes", "REC_LEFT_NO_NEWS": "yes", "SVC_REFERRAL": "no"}
    site = score(kis(grave, grave, {"SVC_REFERRAL": "no"}))
    assert site.phase == 5
    assert set(site.critical_signals) == {"EXP_CONFINEMENT", "REC_LEFT_NO_NEWS"}


def test_single_ki_critical_signal_is_unconfirmed_and_stops_at_4():
    site = score(kis({"REC_ORGANS": "yes", "EXP_CONFINEMENT": "yes", "SVC_REFERRAL": "no"},
                     {"EXP_CONFINEMENT": "yes", "SVC_REFERRAL": "no"}, {"SVC_REFERRAL": "no"}))
    assert site.phase == 4
    assert site.unconfirmed_signals == ("REC_ORGANS",)


def test_recruitment_with_red_flags_and_vulnerability_is_phase_3():
    offers = {"REC_OFFERS": "yes", "REC_RED_FLAGS": ("upfront_fee",), "LIV_DEBT": "many"}
    site = score(kis(offers, offers, {}))
    assert site.phase == 3
    assert set(site.drivers) == {"LIV_DEBT", "REC_OFFERS", "REC_RED_FLAGS"}


def test_mean_1sd_on_new_arrivals_ignores_the_outlier_estimate():
    site = score(kis({"POP_NEW_ARRIVALS": 30}, {"POP_NEW_ARRIVALS": 40},
                     {"POP_NEW_ARRIVALS": 30}, {"POP_NEW_ARRIVALS": 1000},
                     sexes=("female", "male", "male", "male")))
    arrivals = next(r for r in site.indicators if r.indicator_id == "POP_NEW_ARRIVALS")
    assert (arrivals.phase, round(arrivals.value, 1)) == (1, 33.3)

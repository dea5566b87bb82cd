"""Assessment rounds (issue 12, item 1): a newer round replaces the previous one only
when it can stand alone; until then the previous round's answers keep counting."""
from datetime import timedelta

from catalogue_factory import AS_OF, ROUND_DAY, calm, catalogue, interview

from crisis_ct.scoring.rules import SiteScore, score_site

CATALOGUE = catalogue()
LATE = ROUND_DAY + timedelta(days=31)


def phase_5_round():
    """3 KIs, two confirmed critical signals, no referral pathway."""
    return [calm(n, EXP_CONFINEMENT="yes", DOC_HELD_BY_OTHERS="yes", SVC_REFERRAL="no") for n in (1, 2, 3)]


def score(interviews, as_of):
    return score_site(CATALOGUE, interviews, as_of=as_of)


def test_one_late_benign_interview_does_not_wipe_a_phase_5_round():
    before = score(phase_5_round(), AS_OF)
    assert before.phase == 5
    late = interview(9, {"POP_UASC": "none"}, day=LATE)
    after = score(phase_5_round() + [late], LATE + timedelta(days=1))
    assert after.phase >= 4
    assert after.phase == 5
    assert "previous_round_kept" in after.rules_applied
    kept = after.previous_round
    assert kept["submission_ids"] == [1, 2, 3]
    assert kept["assessment_date"] == ROUND_DAY.isoformat()
    assert "1 KI" in kept["reason"]["en"]
    assert 9 in after.submission_ids and {1, 2, 3} <= set(after.submission_ids)


def test_the_kept_round_ages_by_its_own_date():
    late = interview(9, {"POP_UASC": "none"}, day=LATE)
    after = score(phase_5_round() + [late], ROUND_DAY + timedelta(days=100))
    assert after.assessment_date == ROUND_DAY  # the picture rests on the kept round
    assert after.recency == "ageing"


def test_a_complete_new_round_replaces_the_previous_one():
    new_round = [calm(n, day=LATE, sex="female" if n == 10 else "male") for n in (10, 11, 12)]
    after = score(phase_5_round() + new_round, LATE + timedelta(days=1))
    assert after.phase == 1
    assert "previous_round_kept" not in after.rules_applied
    assert after.previous_round is None
    assert set(after.submission_ids) == {10, 11, 12}


def test_a_new_round_missing_a_domain_the_previous_covered_does_not_replace_it():
    # Three KIs, but the sensitive module (E) was not administered: the exploitation
    # signals of the previous round keep counting.
    no_module = {"EXP_CONFINEMENT": None, "DOC_HELD_BY_OTHERS": None, "EXP_SEX_EXCHANGE": None,
                 "EXP_FORCED_WORK": None, "EXP_CHILD_LABOUR": None}
    new_round = [calm(n, day=LATE, **no_module) for n in (10, 11, 12)]
    after = score(phase_5_round() + new_round, LATE + timedelta(days=1))
    assert after.phase >= 4
    assert "previous_round_kept" in after.rules_applied
    assert "E" in after.previous_round["reason"]["en"]


def test_an_expired_previous_round_no_longer_counts():
    late = interview(9, {"POP_UASC": "none"}, day=ROUND_DAY + timedelta(days=200))
    after = score(phase_5_round() + [late], ROUND_DAY + timedelta(days=201))
    assert after.phase == 1
    assert after.submission_ids == (9,)
    assert after.previous_round is None


def test_the_explanation_round_trips_with_the_kept_round():
    late = interview(9, {"POP_UASC": "none"}, day=LATE)
    after = score(phase_5_round() + [late], LATE)
    assert SiteScore.from_dict(after.to_dict()) == after

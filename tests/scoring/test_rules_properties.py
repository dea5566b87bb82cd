"""Properties of the site rules over random KI interviews (small and real catalogues).

All generated interviews fall inside one round (dates within 20 days, window 30), so the
properties speak about the rules, not about which interviews select_round keeps.
"""
from datetime import timedelta

from catalogue_factory import AS_OF, ROUND_DAY, catalogue, interview
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crisis_ct.scoring.catalogue import load_catalogue
from crisis_ct.scoring.rules import (
    CONFIDENCE_LEVELS, RISK_PHASE, KiInterview, combine_indicator, score_site,
)

CATALOGUES = (catalogue(), load_catalogue())
BY_VERSION = {cat.version: cat for cat in CATALOGUES}
SEXES = ("female", "male", "pnta", None)


def answer_for(indicator, calm=False):
    """Any answer; with calm=True only answers below the risk phase (or missing)."""
    if indicator.answer_type == "integer":
        top = 199 if calm else 3000
        return st.one_of(st.integers(0, top), missing_answer_for(indicator))
    codes = [c.code for c in indicator.choices
             if not calm or c.phase is None or c.phase < RISK_PHASE]
    if indicator.answer_type == "select_multiple":
        return st.lists(st.sampled_from(codes), max_size=3, unique=True).map(tuple)
    return st.sampled_from(codes)


def missing_answer_for(indicator):
    if not indicator.missing:
        return st.none()  # e.g. integer items: Kobo sends null for "don't know"
    code = st.sampled_from(sorted(indicator.missing))
    return code.map(lambda c: (c,)) if indicator.answer_type == "select_multiple" else code


# Built once per catalogue: hypothesis would otherwise re-describe them on every draw.
ANSWER_SETS = {
    (cat.version, calm): st.fixed_dictionaries(
        {}, optional={i.id: answer_for(i, calm) for i in cat.indicators})
    for cat in CATALOGUES for calm in (False, True)
}


@st.composite
def site_cases(draw, min_kis=1):
    cat = draw(st.sampled_from(CATALOGUES))
    # calm sites, risky sites and mixes, so every phase shows up (uniform answers sit at 4)
    mood = draw(st.sampled_from(("calm", "mixed", "any")))
    calm, risky = ANSWER_SETS[cat.version, True], ANSWER_SETS[cat.version, False]
    one_ki = {"calm": calm, "any": risky, "mixed": st.one_of(calm, calm, calm, risky)}[mood]
    answer_sets = draw(st.lists(one_ki, min_size=min_kis, max_size=6))
    interviews = [
        interview(n, answers, day=ROUND_DAY - timedelta(days=draw(st.integers(0, 20))),
                  sex=draw(st.sampled_from(SEXES)))
        for n, answers in enumerate(answer_sets, start=1)
    ]
    return cat, interviews


def rank(phase):
    return 0 if phase is None else phase


def domains_with_data(site):
    return sum(p is not None for p in site.domain_phases.values())


def risk_codes(indicator):
    return [c.code for c in indicator.choices if c.phase is not None and c.phase >= RISK_PHASE]


@settings(max_examples=200, deadline=None)
@given(site_cases())
def test_site_phase_is_1_to_5_or_none(case):
    cat, interviews = case
    site = score_site(cat, interviews, as_of=AS_OF)
    assert site.phase in (None, 1, 2, 3, 4, 5)
    assert all(p in (None, 1, 2, 3, 4, 5) for p in site.domain_phases.values())


@settings(max_examples=200, deadline=None)
@given(site_cases(), st.data())
def test_adding_a_yes_to_a_yes_prevails_risk_item_never_lowers_the_phase(case, data):
    """Stated precisely: holds once >= 2 domains have data (see the single-domain test below)."""
    cat, interviews = case
    candidates = [i for i in cat.indicators
                  if i.domain in ("E", "R") and i.combine == "yes_prevails" and risk_codes(i)]
    item = data.draw(st.sampled_from(candidates))
    before = score_site(cat, interviews, as_of=AS_OF)
    assume(domains_with_data(before) >= 2)
    extra = interview(999, {item.id: data.draw(st.sampled_from(risk_codes(item)))},
                      day=ROUND_DAY, sex=data.draw(st.sampled_from(SEXES)))
    after = score_site(cat, [*interviews, extra], as_of=AS_OF)
    assert rank(after.phase) >= rank(before.phase)


def test_single_domain_fallback_is_the_documented_exception_to_monotonicity():
    cat = catalogue()
    vulnerability_only = [interview(n, {"POP_UASC": "most"}) for n in (1, 2, 3)]
    before = score_site(cat, vulnerability_only, as_of=AS_OF)
    after = score_site(cat, [*vulnerability_only, interview(4, {"REC_OFFERS": "yes"})], as_of=AS_OF)
    assert (before.phase, before.confidence) == (4, "low")
    assert after.phase == 3  # two domains now: V 4, R 3 -> second-highest is 3


@settings(max_examples=200, deadline=None)
@given(site_cases(), st.randoms(use_true_random=False))
def test_ki_order_does_not_matter(case, random):
    cat, interviews = case
    shuffled = list(interviews)
    random.shuffle(shuffled)
    assert score_site(cat, shuffled, as_of=AS_OF) == score_site(cat, interviews, as_of=AS_OF)


@settings(max_examples=200, deadline=None)
@given(site_cases())
def test_any_critical_risk_answer_floors_the_site_at_4(case):
    cat, interviews = case
    critical = {i.id: set(risk_codes(i)) for i in cat.indicators if i.critical}
    reported = any(
        answer in critical[item] or (isinstance(answer, tuple) and critical[item] & set(answer))
        for ki in interviews for item, answer in ki.answers.items() if item in critical
    )
    assume(reported)
    assert score_site(cat, interviews, as_of=AS_OF).phase >= 4


@settings(max_examples=200, deadline=None)
@given(site_cases())
def test_phase_5_exactly_when_two_confirmed_critical_signals_and_no_referral(case):
    cat, interviews = case
    site = score_site(cat, interviews, as_of=AS_OF)
    referral = next((r for r in site.indicators if r.indicator_id == "SVC_REFERRAL"), None)
    no_referral = referral is not None and referral.value == "no"
    assert (site.phase == 5) == (len(site.critical_signals) >= 2 and no_referral)


@st.composite
def with_missing_answers_added(draw, version, interviews):
    """The same interviews with some absent answers filled by dnk/pnta, plus all-missing KIs."""
    cat = BY_VERSION[version]
    padded = []
    for ki in interviews:
        gaps = [i for i in cat.indicators if i.id not in ki.answers]
        fill = draw(st.lists(st.sampled_from(gaps), unique_by=lambda i: i.id)) if gaps else []
        padded.append(KiInterview(ki.submission_id, ki.assessment_date, ki.ki_sex,
                                  {**ki.answers, **{i.id: draw(missing_answer_for(i)) for i in fill}}))
    silent = draw(st.lists(st.lists(st.sampled_from(cat.indicators), min_size=1, unique_by=lambda i: i.id),
                          max_size=2))
    for n, items in enumerate(silent, start=500):
        padded.append(interview(n, {i.id: draw(missing_answer_for(i)) for i in items},
                                day=ROUND_DAY + timedelta(days=draw(st.integers(-40, 40))),
                                sex=draw(st.sampled_from(SEXES))))
    return padded


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_adding_missing_answers_never_raises_phase_completeness_or_confidence(data):
    cat, interviews = data.draw(site_cases())
    padded = data.draw(with_missing_answers_added(cat.version, interviews))
    before = score_site(cat, interviews, as_of=AS_OF)
    after = score_site(cat, padded, as_of=AS_OF)
    assert rank(after.phase) <= rank(before.phase)
    assert after.completeness <= before.completeness
    assert CONFIDENCE_LEVELS.index(after.confidence) <= CONFIDENCE_LEVELS.index(before.confidence)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_missing_answers_leave_phase_and_drivers_unchanged(data):
    """Stronger than the above: dnk/pnta are dropped before combining, so nothing moves."""
    cat, interviews = data.draw(site_cases())
    assume(any(score_site(cat, [ki], as_of=AS_OF).n_ki for ki in interviews))
    padded = data.draw(with_missing_answers_added(cat.version, interviews))
    before = score_site(cat, interviews, as_of=AS_OF)
    after = score_site(cat, padded, as_of=AS_OF)
    assert (after.phase, after.drivers, after.n_ki) == (before.phase, before.drivers, before.n_ki)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_an_indicator_with_only_missing_answers_contributes_no_phase(data):
    cat = data.draw(st.sampled_from(CATALOGUES))
    item = data.draw(st.sampled_from(cat.indicators))
    answers = data.draw(st.lists(missing_answer_for(item), min_size=1, max_size=6))
    result = combine_indicator(item, answers)
    assert (result.phase, result.value, result.n_answered, result.n_yes) == (None, None, 0, 0)


@st.composite
def indicator_answers(draw):
    cat = draw(st.sampled_from(CATALOGUES))
    item = draw(st.sampled_from(cat.indicators))
    return item, draw(st.lists(answer_for(item), max_size=7))


@settings(max_examples=200, deadline=None)
@given(indicator_answers(), st.randoms(use_true_random=False))
def test_combining_does_not_depend_on_answer_order(case, random):
    """score_site sorts interviews, so this is where order could still leak in."""
    item, answers = case
    shuffled = list(answers)
    random.shuffle(shuffled)
    assert combine_indicator(item, shuffled) == combine_indicator(item, answers)


YES_PREVAILS = [i for cat in CATALOGUES for i in cat.indicators if i.combine == "yes_prevails"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_yes_prevails_any_risk_answer_sets_the_worst_phase(data):
    item = data.draw(st.sampled_from(YES_PREVAILS))
    answers = data.draw(st.lists(answer_for(item), max_size=6))
    answers.insert(data.draw(st.integers(0, len(answers))), data.draw(st.sampled_from(risk_codes(item))))
    result = combine_indicator(item, answers)
    worst = max(c.phase for c in item.choices if c.code in answers and c.phase is not None)
    assert result.phase == worst

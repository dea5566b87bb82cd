"""combine_indicator: KI answers to one indicator -> site value (domain.md §2.5)."""
from datetime import date

from catalogue_factory import count, freq4, indicator, interview, multi, yes_no
from hypothesis import given
from hypothesis import strategies as st

from crisis_ct.scoring.combine import _COMBINERS, ki_reading
from crisis_ct.scoring.rules import combine_indicator, select_round


def test_mode_takes_most_frequent_code():
    result = combine_indicator(freq4("POP_UASC", "V"), ["many", "many", "few"])
    assert (result.value, result.phase, result.consensus) == ("many", 3, True)


def test_mode_tie_is_no_consensus():
    result = combine_indicator(freq4("POP_UASC", "V"), ["many", "few"])
    assert result.value is None
    assert result.phase is None
    assert result.consensus is False
    assert result.n_answered == 2


def test_missing_codes_are_dropped_before_the_mode():
    result = combine_indicator(freq4("POP_UASC", "V"), ["many", "dnk", "pnta", None])
    assert (result.value, result.phase, result.n_answered) == ("many", 3, 1)


def test_all_missing_answers_give_no_phase():
    result = combine_indicator(yes_no("EXP_CONFINEMENT", "E", critical=True), ["dnk", "pnta", "dnk"])
    assert result.phase is None
    assert result.value is None
    assert result.n_answered == 0
    assert result.n_yes == 0


def test_unknown_code_is_not_scored():
    result = combine_indicator(freq4("POP_UASC", "V"), ["lots", "none"])
    assert (result.value, result.n_answered) == ("none", 1)


def test_yes_prevails_one_yes_beats_two_nos():
    result = combine_indicator(yes_no("REC_OFFERS", "R"), ["no", "yes", "no"])
    assert (result.value, result.phase, result.n_yes, result.n_answered) == ("yes", 3, 1, 3)


def test_yes_prevails_takes_the_highest_risk_answer():
    result = combine_indicator(freq4("EXP_CHILD_LABOUR", "E", combine="yes_prevails"),
                               ["none", "many", "most", "none"])
    assert (result.value, result.phase, result.n_yes) == ("most", 4, 2)


def test_yes_prevails_without_risk_answers_falls_back_to_mode_tie():
    result = combine_indicator(freq4("EXP_CHILD_LABOUR", "E", combine="yes_prevails"), ["none", "few"])
    assert result.consensus is False
    assert result.phase is None


def test_critical_signal_from_one_ki_is_unconfirmed():
    result = combine_indicator(yes_no("EXP_CONFINEMENT", "E", critical=True), ["yes", "no", "no"])
    assert result.unconfirmed is True
    assert result.phase == 4


def test_critical_signal_from_two_kis_is_confirmed():
    result = combine_indicator(yes_no("EXP_CONFINEMENT", "E", critical=True), ["yes", "yes", "no"])
    assert result.unconfirmed is False
    assert result.n_yes == 2


def test_non_critical_single_yes_is_not_flagged_unconfirmed():
    result = combine_indicator(yes_no("REC_OFFERS", "R"), ["yes"])
    assert result.unconfirmed is False


def test_mean_1sd_drops_the_outlier():
    # mean 275, sd ~483: 1000 lies outside one sd and is dropped -> mean of 30, 40, 30 ... = 33.3
    result = combine_indicator(count("POP_NEW_ARRIVALS", "V"), [30, 40, 30, 1000])
    assert abs(result.value - 100 / 3) < 1e-9
    assert result.phase == 1


def test_mean_1sd_with_two_answers_uses_plain_mean():
    result = combine_indicator(count("POP_NEW_ARRIVALS", "V"), [100, 400])
    assert (result.value, result.phase) == (250, 3)


def test_mean_1sd_with_equal_answers_keeps_them_all():
    result = combine_indicator(count("POP_NEW_ARRIVALS", "V"), [60, 60, 60])
    assert (result.value, result.phase) == (60, 2)


def test_integer_answers_given_as_strings_are_read_as_numbers():
    result = combine_indicator(count("POP_NEW_ARRIVALS", "V"), ["250", "dnk", "250"])
    assert (result.value, result.phase, result.n_answered) == (250, 3, 2)


def test_integer_n_yes_counts_each_kis_own_phase():
    result = combine_indicator(count("POP_NEW_ARRIVALS", "V"), [10, 20, 900])
    assert result.n_yes == 1


def test_max_unions_select_multiple_codes_in_choice_order():
    indicator = multi("LIV_NEG_COPING", "V", {"none": 1, "selling_assets": 2, "begging": 3})
    result = combine_indicator(indicator, [("begging",), ("selling_assets", "dnk"), ()])
    assert result.value == ("selling_assets", "begging")
    assert result.phase == 3
    assert result.n_answered == 2


def test_max_accepts_kobo_space_separated_selection():
    indicator = multi("LIV_NEG_COPING", "V", {"none": 1, "selling_assets": 2, "begging": 3})
    result = combine_indicator(indicator, ["selling_assets begging"])
    assert (result.value, result.phase) == (("selling_assets", "begging"), 3)


def test_select_round_keeps_interviews_within_window_of_latest():
    old = interview(1, {}, day=date(2025, 1, 1))
    edge = interview(2, {}, day=date(2025, 2, 1))
    latest = interview(3, {}, day=date(2025, 3, 3))
    chosen = select_round([latest, old, edge], window_days=30)
    assert [i.submission_id for i in chosen] == [2, 3]


def test_equal_phase_answers_tie_break_by_choice_order_not_ki_order():
    labour = indicator("EXP_CHILD_LABOUR", "E", "select_one",
                       {"none": 1, "few": 3, "many": 4, "most": 4}, combine="max")
    assert combine_indicator(labour, ["most", "many"]).value == "many"
    assert combine_indicator(labour, ["many", "most"]).value == "many"


def test_equal_phase_answers_prefer_the_more_frequent():
    labour = indicator("EXP_CHILD_LABOUR", "E", "select_one",
                       {"none": 1, "few": 3, "many": 4, "most": 4}, combine="max")
    assert combine_indicator(labour, ["most", "many", "most"]).value == "most"


# The select_one path counts codes instead of building (code, phase) readings; it must give
# what the reading-based combiners give, for every combine kind and any mix of answers.
_SELECT_ONE_ANSWERS = st.lists(st.sampled_from(["none", "few", "many", "most", "yes", "no", "dnk", "pnta", "lots",
                                                None, 3, ("few",), ["many"]]), max_size=12)


@given(answers=_SELECT_ONE_ANSWERS, combine=st.sampled_from(["mode", "yes_prevails", "max", "confirmed_max"]),
       critical=st.booleans())
def test_select_one_counting_agrees_with_the_reading_combiners(answers, combine, critical):
    item = indicator("ITEM", "E", "select_one", {"none": 1, "few": 2, "many": 3, "most": 4, "yes": 4, "no": 1},
                     combine=combine, critical=critical)
    readings = [reading for answer in answers
                if not isinstance(answer, list) and (reading := ki_reading(item, answer)) is not None]
    value, phase, consensus = _COMBINERS[combine](item, readings)
    result = combine_indicator(item, answers)
    assert (result.value, result.phase, result.consensus) == (value, phase, consensus)
    assert result.n_answered == len(readings)
    assert result.n_yes == sum(p >= 3 for _, p in readings)
    assert result.unconfirmed == (critical and result.n_yes == 1)


def test_equal_results_of_different_value_types_stay_apart():
    # 1 and 1.0 are equal keys in a dict: results are shared by value and type, so a
    # site's mean of 1.0 never comes back as the integer 1 from another site.
    item = count("POP_NEW_ARRIVALS", "V", combine="max")
    assert type(combine_indicator(item, [1]).value) is int
    assert type(combine_indicator(item, [1.0]).value) is float
    assert type(combine_indicator(item, [1]).value) is int


def test_confirmed_max_keeps_a_report_two_of_three_kis_make():
    # issue 12 item 4: by mode none / few / many is "no consensus" and the report is lost
    uasc = freq4("POP_UASC", "V", combine="confirmed_max")
    result = combine_indicator(uasc, ["none", "few", "many"])
    assert (result.value, result.phase, result.consensus) == ("few", 2, True)
    assert combine_indicator(freq4("POP_UASC", "V"), ["none", "few", "many"]).consensus is False


def test_confirmed_max_never_loses_two_kis_among_many():
    uasc = freq4("POP_UASC", "V", combine="confirmed_max")
    assert combine_indicator(uasc, ["none", "none", "none", "few", "few"]).value == "few"
    assert combine_indicator(uasc, ["none", "none", "none", "none", "most"]).value == "none"
    assert combine_indicator(uasc, ["many"]).value == "many"
    assert combine_indicator(uasc, ["dnk", "most", "pnta"]).value == "most"

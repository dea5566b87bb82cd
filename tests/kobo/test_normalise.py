"""normalise(): typed answers by question name, identity fields, problems."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from crisis_ct.kobo.normalise import NotASubmission, normalise


def base_record(**extra) -> dict:
    record = {
        "_id": 42,
        "_uuid": "0b7c1e6e-1111-4222-8333-444455556666",
        "meta/instanceID": "uuid:0b7c1e6e-1111-4222-8333-444455556666",
        "_xform_id_string": "aTestAsset123",
        "__version__": "2026030101",
        "_submission_time": "2026-03-02T10:22:33",
        "enumerator_code": "E1",
        "consent": "yes",
        "site/site_id": "SITE-001",
        "site/site_type": "planned_camp",
        "site/assessment_date": "2026-03-01",
        "site/ki_role": "site_manager",
        "site/ki_sex": "female",
        "site/location": "12.5 -3.25 310.0 5.0",
        "pop/pop_uasc": "many",
        "pop/pop_new_arrivals": "120",
        "liv/liv_neg_coping": "children_work begging",
        "liv/liv_debt_share": "3.5",
        "actors": [{"actors/actor_type": "ngo", "actors/actor_staff": "4"},
                   {"actors/actor_type": "un"}],
    }
    record.update(extra)
    return record


def codes(result) -> set[str]:
    return {p.code for p in result.problems}


def test_clean_record_has_no_problems(sample_form):
    assert normalise(base_record(), sample_form).problems == ()


def test_answers_keyed_by_question_name(sample_form):
    answers = normalise(base_record(), sample_form).answers
    assert answers["site_id"] == "SITE-001"
    assert "site/site_id" not in answers


def test_select_one_is_the_code(sample_form):
    assert normalise(base_record(), sample_form).answers["pop_uasc"] == "many"


def test_select_multiple_is_a_tuple_of_codes(sample_form):
    assert normalise(base_record(), sample_form).answers["liv_neg_coping"] == ("children_work", "begging")


def test_integer_and_decimal_are_typed(sample_form):
    answers = normalise(base_record(), sample_form).answers
    assert answers["pop_new_arrivals"] == 120 and isinstance(answers["pop_new_arrivals"], int)
    assert answers["liv_debt_share"] == 3.5


def test_date_is_a_date(sample_form):
    result = normalise(base_record(), sample_form)
    assert result.answers["assessment_date"] == date(2026, 3, 1)
    assert result.assessment_date == date(2026, 3, 1)


def test_geopoint_is_latitude_first(sample_form):
    result = normalise(base_record(), sample_form)
    assert result.answers["location"] == (12.5, -3.25, 310.0, 5.0)
    assert result.geopoint == (12.5, -3.25)


def test_repeat_becomes_list_of_rows_by_name(sample_form):
    rows = normalise(base_record(), sample_form).answers["actors"]
    assert rows == [{"actor_type": "ngo", "actor_staff": 4}, {"actor_type": "un"}]


def test_repeat_rows_with_relative_keys_are_accepted(sample_form):
    record = base_record(actors=[{"actor_type": "gov", "actor_staff": "2"}])
    assert normalise(record, sample_form).answers["actors"] == [{"actor_type": "gov", "actor_staff": 2}]


def test_dnk_pnta_and_absent_stay_distinct(sample_form):
    record = base_record(**{"pop/pop_uasc": "dnk", "site/ki_sex": "pnta"})
    record.pop("site/ki_role")
    answers = normalise(record, sample_form).answers
    assert answers["pop_uasc"] == "dnk"
    assert answers["ki_sex"] == "pnta"
    assert "ki_role" not in answers


def test_site_fields_are_lifted(sample_form):
    result = normalise(base_record(), sample_form)
    assert (result.site_code, result.site_type, result.ki_role, result.ki_sex) == \
        ("SITE-001", "planned_camp", "site_manager", "female")


def test_identity_fields(sample_form):
    result = normalise(base_record(), sample_form)
    assert result.kobo_id == 42
    assert result.instance_id == "uuid:0b7c1e6e-1111-4222-8333-444455556666"
    assert result.asset_uid == "aTestAsset123"
    assert result.form_version == "2026030101"
    assert result.deprecated_id is None and result.root_id is None


def test_submission_time_is_utc_aware(sample_form):
    assert normalise(base_record(), sample_form).submitted_at == datetime(2026, 3, 2, 10, 22, 33, tzinfo=timezone.utc)


def test_instance_id_falls_back_to_uuid(sample_form):
    record = base_record()
    del record["meta/instanceID"]
    assert normalise(record, sample_form).instance_id == "uuid:0b7c1e6e-1111-4222-8333-444455556666"


def test_edit_fields_get_uuid_prefix(sample_form):
    record = base_record(**{"meta/deprecatedID": "uuid:old-1", "meta/rootUuid": "root-0"})
    result = normalise(record, sample_form)
    assert result.deprecated_id == "uuid:old-1"
    assert result.root_id == "uuid:root-0"
    assert result.edit_chain_id == "uuid:root-0"


def test_no_identity_is_not_a_submission(sample_form):
    record = base_record()
    del record["meta/instanceID"], record["_uuid"]
    with pytest.raises(NotASubmission):
        normalise(record, sample_form)


def test_non_mapping_is_not_a_submission(sample_form):
    with pytest.raises(NotASubmission):
        normalise(["not", "a", "record"], sample_form)


def test_value_outside_choices_names_question_and_value(sample_form):
    result = normalise(base_record(**{"pop/pop_uasc": "loads"}), sample_form)
    [problem] = result.problems
    assert problem.code == "invalid_choice"
    assert "pop/pop_uasc" in problem.message and "loads" in problem.message
    assert "pop_uasc" not in result.answers


def test_one_bad_code_in_select_multiple_is_a_problem(sample_form):
    result = normalise(base_record(**{"liv/liv_neg_coping": "begging theft"}), sample_form)
    assert [p.value for p in result.problems] == ["theft"]


@pytest.mark.parametrize("xpath, value, code", [
    ("pop/pop_new_arrivals", "12.5", "invalid_number"),
    ("liv/liv_debt_share", "three", "invalid_number"),
    ("site/assessment_date", "01/03/2026", "invalid_date"),
    ("site/location", "north of the river", "invalid_geopoint"),
    ("site/location", "95 10 0 0", "invalid_geopoint"),
])
def test_unparsable_values_are_problems(sample_form, xpath, value, code):
    assert codes(normalise(base_record(**{xpath: value}), sample_form)) == {code}


def test_missing_required_outside_gated_groups(sample_form):
    record = base_record()
    del record["enumerator_code"]
    [problem] = normalise(record, sample_form).problems
    assert (problem.code, problem.question) == ("missing_required", "enumerator_code")


def test_required_inside_relevance_gated_group_is_not_checked(sample_form):
    record = base_record()
    del record["pop/pop_uasc"]
    assert normalise(record, sample_form).problems == ()


def test_consent_not_given_is_a_problem(sample_form):
    record = {k: v for k, v in base_record().items() if k.startswith(("_", "meta/")) or k == "enumerator_code"}
    record["consent"] = "no"
    assert codes(normalise(record, sample_form)) == {"consent_not_given"}


def test_unknown_version_is_a_flag_not_a_problem(sample_form):
    result = normalise(base_record(__version__="vOther"), sample_form)
    assert result.unknown_version is True
    assert result.problems == ()


def test_known_version_is_not_flagged(sample_form):
    assert normalise(base_record(), sample_form).unknown_version is False


def test_unknown_keys_are_ignored_and_listed(sample_form):
    result = normalise(base_record(**{"old_group/old_q": "x"}), sample_form)
    assert result.unknown_keys == ("old_group/old_q",)
    assert "old_q" not in result.answers and result.problems == ()


def test_bad_repeat_shape_is_a_problem_not_an_exception(sample_form):
    assert codes(normalise(base_record(actors="oops"), sample_form)) == {"invalid_repeat"}

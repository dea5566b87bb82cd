"""Every mitigation rule names one of IOM's eight counter-trafficking theory-of-change areas,
and a wrong or missing tag (or a broken areas file) stops loading with an error naming the
file, the rule and the field."""
from __future__ import annotations

import copy

import pytest

from crisis_ct.tasks.catalogue import MitigationRulesError, load_mitigation_rules
from crisis_ct.tasks.theory_of_change import TheoryOfChangeError, load_toc_areas, parse_toc_areas
from tests.tasks.test_catalogue import load_broken, raw_rules, rule, write

IOM_AREAS = {"case_management", "service_provision", "referral_systems", "private_sector", "ethical_recruitment",
             "justice_system", "law_and_policy", "research_and_data"}


def test_the_areas_file_holds_iom_eight_areas_in_english_and_french():
    areas = load_toc_areas()
    assert set(areas) == IOM_AREAS
    assert areas["justice_system"] == {"en": "Justice-system capacity", "fr": "Capacités du système judiciaire"}
    assert all(labels["en"] and labels["fr"] for labels in areas.values())


def test_every_rule_is_tagged_with_a_known_area(catalogue):
    assert all(r.toc_area in IOM_AREAS for r in catalogue.rules)
    assert catalogue.rule("M01").toc_area == "referral_systems"
    assert catalogue.rule("M28").toc_area == "law_and_policy"


def test_an_unknown_area_names_the_file_rule_and_field(tmp_path):
    error = load_broken(tmp_path, lambda data: rule(data, "M05").update(toc_area="prevention"))
    assert (error.rule_id, error.field) == ("M05", "toc_area")
    assert "prevention" in str(error) and "rules.yaml" in str(error) and "theory_of_change.yaml" in str(error)


def test_a_missing_tag_is_an_error(tmp_path):
    error = load_broken(tmp_path, lambda data: rule(data, "M12").pop("toc_area"))
    assert (error.rule_id, error.field) == ("M12", "toc_area")
    assert "missing" in str(error)


def test_the_rules_are_checked_against_the_areas_they_are_given(tmp_path):
    path = write(tmp_path, copy.deepcopy(raw_rules()))
    with pytest.raises(MitigationRulesError):
        load_mitigation_rules(path, toc_areas={"case_management"})


@pytest.mark.parametrize("raw, field", [
    ({"areas": {"case_management": {"en": "Case management"}}}, "areas.case_management"),
    ({"areas": {"case_management": {"en": "Case management", "fr": " "}}}, "areas.case_management.fr"),
    ({"areas": {"case management": {"en": "x", "fr": "y"}}}, "areas.case management"),
    ({"areas": []}, "areas"),
])
def test_a_broken_areas_file_names_the_field(raw, field):
    with pytest.raises(TheoryOfChangeError) as caught:
        parse_toc_areas(raw, "forms/theory_of_change.yaml")
    assert caught.value.field == field
    assert str(caught.value).startswith("forms/theory_of_change.yaml: field ")

"""The indicator catalogue in forms/indicators.yaml and its loader."""
from __future__ import annotations

import json

import pytest

from crisis_ct.scoring.catalogue import (
    DEFAULT_CATALOGUE_PATH,
    CatalogueError,
    load_catalogue,
)

# Typed from shared/domain.md §1.3 (sections A-H).
DOMAIN_MD_IDS = [
    "POP_UASC", "POP_CHH", "POP_FHH_ALONE", "POP_NEW_ARRIVALS", "POP_SEPARATION",
    "DOC_LACK", "DOC_HELD_BY_OTHERS",
    "LIV_NO_INCOME", "LIV_DEBT", "LIV_NEG_COPING", "LIV_AID_GAP",
    "REC_OFFERS", "REC_RED_FLAGS", "REC_LEFT_NO_NEWS", "REC_ORGANS",
    "EXP_CHILD_LABOUR", "EXP_CHILD_BEGGING", "EXP_CHILD_MARRIAGE", "EXP_SEX_EXCHANGE",
    "EXP_FORCED_WORK", "EXP_CONFINEMENT", "EXP_ARMED_RECRUIT",
    "ENV_LIGHTING", "ENV_WASH_SAFE", "ENV_UNSAFE_AREAS", "ENV_ARMED_ACTORS", "ENV_MOVEMENT",
    "ENV_OVERCROWD",
    "SVC_REFERRAL", "SVC_CP_GBV", "SVC_REGISTRATION", "SVC_SCHOOL", "SVC_INFO", "SVC_CFM_PSEA",
    "TRN_SMUGGLERS", "TRN_STRANDED",
]
# §2.2 critical list.
CRITICAL_IDS = {"DOC_HELD_BY_OTHERS", "REC_LEFT_NO_NEWS", "REC_ORGANS", "EXP_SEX_EXCHANGE",
                "EXP_CONFINEMENT", "EXP_ARMED_RECRUIT"}
# §1.4 domain table.
SITE_SAFETY_IDS = {"ENV_LIGHTING", "ENV_WASH_SAFE", "ENV_UNSAFE_AREAS", "ENV_ARMED_ACTORS",
                   "ENV_OVERCROWD"}


def expected_domain(indicator_id: str) -> str:
    prefix = indicator_id.split("_")[0]
    if indicator_id in SITE_SAFETY_IDS:
        return "S"
    if prefix in ("REC", "TRN") or indicator_id == "ENV_MOVEMENT":
        return "R"
    if prefix == "EXP" or indicator_id == "DOC_HELD_BY_OTHERS":
        return "E"
    if prefix == "SVC":
        return "C"
    return "V"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_default_path_is_the_forms_file():
    assert DEFAULT_CATALOGUE_PATH.parts[-2:] == ("forms", "indicators.yaml")
    assert DEFAULT_CATALOGUE_PATH.is_file()


def test_catalogue_has_exactly_the_domain_md_indicators_in_order(catalogue):
    assert [ind.id for ind in catalogue.indicators] == DOMAIN_MD_IDS


def test_question_names_are_lowercase_ids(catalogue):
    assert all(ind.name == ind.id.lower() for ind in catalogue.indicators)


def test_version_and_settings_are_loaded(catalogue):
    assert catalogue.version == "2026.1"
    assert catalogue.settings.area_threshold_share == 0.25
    assert catalogue.settings.min_kis == 3
    assert catalogue.settings.round_window_days == 30
    assert catalogue.settings.current_days < catalogue.settings.expired_days


def test_domains_follow_the_risk_factor_model(catalogue):
    wrong = {i.id: i.domain for i in catalogue.indicators if i.domain != expected_domain(i.id)}
    assert wrong == {}


def test_critical_flags_match_the_critical_list(catalogue):
    assert {i.id for i in catalogue.indicators if i.critical} == CRITICAL_IDS


def test_critical_yes_is_phase_4_and_no_is_phase_1(catalogue):
    for indicator_id in CRITICAL_IDS:
        indicator = catalogue.get(indicator_id)
        assert (indicator.phase_of("yes"), indicator.phase_of("no")) == (4, 1), indicator_id


def test_non_critical_yes_no_signal_is_phase_3(catalogue):
    indicator = catalogue.get("EXP_FORCED_WORK")
    assert (indicator.phase_of("yes"), indicator.phase_of("no")) == (3, 1)


def test_services_are_inverse(catalogue):
    for indicator in catalogue.indicators:
        if indicator.domain == "C" and indicator.list_name == "yn":
            assert (indicator.phase_of("no"), indicator.phase_of("yes")) == (3, 1), indicator.id
    school = catalogue.get("SVC_SCHOOL")
    assert [school.phase_of(c) for c in ("most", "many", "few", "none")] == [1, 2, 3, 4]


def test_observation_scale(catalogue):
    lighting = catalogue.get("ENV_LIGHTING")
    assert [lighting.phase_of(c) for c in ("none", "partial", "adequate")] == [3, 2, 1]


def test_child_labour_many_or_most_is_phase_4(catalogue):
    labour = catalogue.get("EXP_CHILD_LABOUR")
    assert labour.phase_of("many") == labour.phase_of("most") == 4


def test_vulnerability_frequency_scale(catalogue):
    uasc = catalogue.get("POP_UASC")
    assert [uasc.phase_of(c) for c in ("none", "few", "many", "most")] == [1, 2, 3, 4]


def test_dont_know_and_refusal_are_not_scored(catalogue):
    uasc = catalogue.get("POP_UASC")
    assert uasc.phase_of("dnk") is None and uasc.phase_of("pnta") is None
    assert uasc.missing == frozenset({"dnk", "pnta"})


def test_unknown_code_raises(catalogue):
    with pytest.raises(KeyError):
        catalogue.get("POP_UASC").phase_of("sometimes")


def test_count_phase_uses_highest_threshold_not_above_value(catalogue):
    arrivals = catalogue.get("POP_NEW_ARRIVALS")
    assert arrivals.answer_type == "integer" and arrivals.list_name is None
    assert [arrivals.phase_of(v) for v in ("0", "49", "50", "199", "200", "5000")] == [1, 1, 2, 2, 3, 4]


@pytest.mark.parametrize("bad", ["-1", "many", ""])
def test_count_rejects_non_counts(catalogue, bad):
    with pytest.raises(ValueError):
        catalogue.get("POP_NEW_ARRIVALS").phase_of(bad)


def test_select_multiple_phase_is_max_of_chosen_codes(catalogue):
    actors = catalogue.get("ENV_ARMED_ACTORS")
    assert actors.phase_of_selection("nearby inside") == actors.phase_of("inside")
    assert actors.phase_of_selection(["dnk"]) is None


CHILD_PROTECTION_COUNTS = {"POP_UASC", "POP_CHH", "POP_SEPARATION"}


def test_combine_rules_follow_section_2_5(catalogue):
    for ind in catalogue.indicators:
        if ind.answer_type == "integer":
            expected = {"mean_1sd"}
        elif ind.answer_type == "select_multiple":
            expected = {"max"}
        elif ind.id in CHILD_PROTECTION_COUNTS:
            expected = {"confirmed_max"}  # issue 12: two KIs' report on children is never lost
        elif ind.domain in "ER":
            # yes/no risk items: yes prevails; scales have no "yes", so the worst answer prevails
            expected = {"yes_prevails"} if ind.list_name == "yn" else {"max"}
        else:
            expected = {"mode"}
        assert ind.combine in expected, ind.id


def test_yes_no_items_with_details_list_them_as_types(catalogue):
    names = {i.id: [d.name for d in i.details] for i in catalogue.indicators if i.details}
    assert names == {
        "REC_OFFERS": ["rec_offers_types"],
        "ENV_UNSAFE_AREAS": ["env_unsafe_areas_types"],
        "ENV_MOVEMENT": ["env_movement_types"],
    }
    assert all(c.phase is None for i in catalogue.indicators for d in i.details for c in d.choices)


def test_red_flags_only_asked_after_offers(catalogue):
    assert catalogue.get("REC_RED_FLAGS").asked_if == ("REC_OFFERS", "yes")


def test_sensitive_module_is_exploitation_plus_organs(catalogue):
    sensitive = {i.id for i in catalogue.indicators if i.sensitive}
    assert sensitive == {i for i in DOMAIN_MD_IDS if i.startswith("EXP_")} | {"REC_ORGANS"}


def test_transit_only_items_are_the_trn_items(catalogue):
    assert {i.id for i in catalogue.indicators if i.transit_only} == {"TRN_SMUGGLERS", "TRN_STRANDED"}


def test_every_label_is_bilingual(catalogue):
    texts = []
    for ind in catalogue.indicators:
        texts += [ind.label, ind.question] + [c.label for c in ind.choices]
        texts += [d.question for d in ind.details] + [c.label for d in ind.details for c in d.choices]
    assert all(set(t) == {"en", "fr"} and all(v.strip() for v in t.values()) for t in texts)


def test_lookup_by_question_name_accepts_group_paths(catalogue):
    assert catalogue.by_name("rec_organs").id == "REC_ORGANS"
    assert catalogue.by_name("exp/rec_organs").id == "REC_ORGANS"
    with pytest.raises(KeyError):
        catalogue.by_name("site_id")


def test_get_unknown_id_raises(catalogue):
    with pytest.raises(KeyError):
        catalogue.get("POP_NOPE")


def test_to_dict_is_json_with_both_languages(catalogue):
    data = json.loads(json.dumps(catalogue.to_dict()))
    first = data["indicators"][0]
    assert data["version"] == catalogue.version
    assert first["id"] == "POP_UASC" and first["label"]["fr"] == catalogue.get("POP_UASC").label["fr"]
    assert {"code": "many", "label": {"en": "Many", "fr": "Beaucoup"}, "phase": 3} in first["choices"]


def test_to_dict_in_one_language_gives_plain_strings(catalogue):
    data = catalogue.to_dict("fr")
    first = data["indicators"][0]
    assert first["question"] == catalogue.get("POP_UASC").question["fr"]
    assert first["choices"][0]["label"] == "Aucun(e)"


def test_to_dict_rejects_unknown_language(catalogue):
    with pytest.raises(ValueError):
        catalogue.to_dict("de")

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from crisis_ct.scoring.catalogue import load_catalogue
from crisis_ct.tasks.catalogue import DEFAULT, MitigationRulesError, indicator_scales, load_mitigation_rules

ALL_RULE_IDS = [f"M{n:02d}" for n in range(1, 31)]


def raw_rules() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def load_broken(tmp_path, mutate, **kwargs) -> MitigationRulesError:
    data = copy.deepcopy(raw_rules())
    mutate(data)
    with pytest.raises(MitigationRulesError) as caught:
        load_mitigation_rules(write(tmp_path, data), **kwargs)
    return caught.value


def test_every_rule_of_section_3_is_present_in_order(catalogue):
    assert [r.id for r in catalogue.rules] == ALL_RULE_IDS


def test_every_rule_has_english_and_french_title_and_description(catalogue):
    for r in catalogue.rules:
        assert r.title.en and r.title.fr and r.description.en and r.description.fr, r.id
        assert r.title.en != r.description.en, r.id


def test_only_m03_is_an_admin_area_rule(catalogue):
    assert [r.id for r in catalogue.rules if r.scope == "admin_area"] == ["M03"]


def test_priorities_match_section_3(catalogue):
    assert {code: p.response_hours for code, p in catalogue.priorities.items()} == \
        {"P1": 72, "P2": 168, "P3": 720, "P4": 2160}
    assert catalogue.priorities["P1"].name.fr == "Critique"


def test_section_3_priorities_and_expertise_of_sample_rules(catalogue):
    assert (catalogue.rule("M10").priority, catalogue.rule("M10").expertise) == ("P1", ("LEGAL", "CT"))
    assert (catalogue.rule("M22").priority, catalogue.rule("M22").expertise) == ("P1", ("CT", "HEALTH", "LEGAL"))
    assert (catalogue.rule("M30").priority, catalogue.rule("M30").expertise) == ("P3", ("IM",))


def test_all_expertise_tags_of_section_3_have_names(catalogue):
    tags = {"CT", "CP", "GBV", "LEGAL", "LAB", "CCCM", "SHELTER", "WASH", "HEALTH", "MHPSS", "EDU",
            "LIV", "FSL", "CASH", "PSEA", "LOG", "AAP", "IM"}
    assert set(catalogue.expertise) == tags
    assert all(name.en and name.fr for name in catalogue.expertise.values())


def test_rules_agree_with_the_real_indicator_catalogue():
    scales = indicator_scales(load_catalogue())
    assert len(load_mitigation_rules(indicator_scales=scales).rules) == 30


def test_error_names_file_rule_and_field_for_unknown_condition_key(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M04")["trigger"]["any"].append(
        {"indicator": "POP_UASC", "more_than": "few"}))
    assert "rules.yaml" in str(error) and error.rule_id == "M04"
    assert error.field == "trigger.any[3].more_than"


def test_unknown_fact_condition_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M02").__setitem__("trigger", {"eval": "1"}))
    assert (error.rule_id, error.field) == ("M02", "trigger.eval")


def test_unknown_priority_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M09").__setitem__("priority", "P0"))
    assert (error.rule_id, error.field) == ("M09", "priority")


def test_unknown_expertise_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M09").__setitem__("expertise", ["LEGAL", "NINJA"]))
    assert (error.rule_id, error.field) == ("M09", "expertise[1]")


def test_unknown_sector_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M19").__setitem__("sector", "plumbing"))
    assert (error.rule_id, error.field) == ("M19", "sector")


def test_unknown_scope_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M19").__setitem__("scope", "country"))
    assert (error.rule_id, error.field) == ("M19", "scope")


def test_missing_french_title_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M07")["title"].pop("fr"))
    assert (error.rule_id, error.field) == ("M07", "title.fr")
    assert "FR" in str(error)


def test_missing_english_description_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M07")["description"].__setitem__("en", " "))
    assert (error.rule_id, error.field) == ("M07", "description.en")


def test_missing_expertise_name_in_french_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: d["expertise"]["CT"].pop("fr"))
    assert error.field == "expertise.CT.fr"


def test_duplicate_rule_id_is_rejected(tmp_path):
    def duplicate(d):
        copy_of_m05 = copy.deepcopy(rule(d, "M05"))
        d["rules"].append(copy_of_m05)
    error = load_broken(tmp_path, duplicate)
    assert (error.rule_id, error.field) == ("M05", "id")
    assert "duplicate" in str(error)


def test_unknown_indicator_is_rejected_when_scales_are_given(tmp_path, scales):
    error = load_broken(tmp_path, lambda d: rule(d, "M05").__setitem__(
        "trigger", {"indicator": "EXP_ARMED_RECRUITMENT", "is": "yes"}), indicator_scales=scales)
    assert (error.rule_id, error.field) == ("M05", "trigger.indicator")


def test_code_off_the_scale_is_rejected_when_scales_are_given(tmp_path, scales):
    error = load_broken(tmp_path, lambda d: rule(d, "M04")["trigger"]["any"][0].__setitem__("at_least", "some"),
                        indicator_scales=scales)
    assert (error.rule_id, error.field) == ("M04", "trigger.any[0].at_least")
    assert "'some'" in str(error)


def test_ordinal_comparison_with_a_non_answer_code_is_rejected(tmp_path, scales):
    error = load_broken(tmp_path, lambda d: rule(d, "M09")["trigger"].__setitem__("at_least", "dnk"),
                        indicator_scales=scales)
    assert (error.rule_id, error.field) == ("M09", "trigger.at_least")


def test_unknown_indicator_passes_without_scales(tmp_path):
    data = copy.deepcopy(raw_rules())
    rule(data, "M05")["trigger"] = {"indicator": "SOMETHING_NEW", "is": "yes"}
    assert load_mitigation_rules(write(tmp_path, data)).rule("M05").trigger.indicator == "SOMETHING_NEW"


def test_area_fact_in_a_site_rule_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M02")["trigger"]["any"].append({"hotspot": True}))
    assert (error.rule_id, error.field) == ("M02", "trigger.any[2]")


def test_site_fact_in_an_area_rule_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M03")["trigger"]["all"][1]["any"].append(
        {"indicator": "POP_UASC", "is": "few"}))
    assert (error.rule_id, error.field) == ("M03", "trigger.all[1].any[2]")


def test_escalation_to_a_lower_priority_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M16")["escalate"][0].__setitem__("priority", "P3"))
    assert (error.rule_id, error.field) == ("M16", "escalate[0].priority")


def test_escalation_condition_is_checked_too(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M16")["escalate"][0]["when"].__setitem__("phase_at_least", 9))
    assert error.rule_id == "M16" and error.field.startswith("escalate[0].when")


def test_unquoted_version_is_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: d.__setitem__("version", 2026.1))
    assert error.field == "version"


def test_priorities_out_of_urgency_order_are_rejected(tmp_path):
    error = load_broken(tmp_path, lambda d: d["priorities"]["P2"].__setitem__("response_hours", 48))
    assert error.field == "priorities.P2.response_hours"


def test_unquoted_yes_in_a_rule_reads_as_the_yes_code(tmp_path):
    path = tmp_path / "rules.yaml"
    text = DEFAULT.read_text(encoding="utf-8").replace(
        '{indicator: EXP_ARMED_RECRUIT, is: "yes"}', "{indicator: EXP_ARMED_RECRUIT, is: yes}")
    path.write_text(text, encoding="utf-8")
    assert load_mitigation_rules(path).rule("M05").trigger.operand == "yes"


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(MitigationRulesError, match="broken.yaml"):
        load_mitigation_rules(path)


# --- task_per and while_unconfirmed (issue 12) -------------------------------------------------

def test_team_delivered_actions_are_one_task_per_admin_area(catalogue):
    per_area = {r.id: r.admin_level for r in catalogue.rules if r.admin_level is not None}
    # Campaigns, legal aid, advocacy, trainings, livelihoods linkages (the file says why, rule by rule).
    assert {"M09", "M11", "M12", "M17", "M25", "M28"} <= set(per_area)
    # Work bound to one site stays a site task.
    assert not {"M02", "M05", "M06", "M07", "M10", "M14", "M16", "M29"} & set(per_area)
    assert set(per_area.values()) <= {1, 2}


def test_every_area_rule_says_why_in_the_file():
    text = DEFAULT.read_text(encoding="utf-8")
    for block in text.split("\n  - id: ")[1:]:
        if "task_per: adm" in block:
            assert "# One task per " in block, block.splitlines()[0]


def test_only_m02_opens_at_p1_on_an_unconfirmed_signal(catalogue):
    unconfirmed = {r.id: r.while_unconfirmed for r in catalogue.rules if r.scope == "site"}
    assert unconfirmed["M02"] == "P1"
    assert {rule_id for rule_id, policy in unconfirmed.items() if policy == "P1"} == {"M02"}


@pytest.mark.parametrize("key, value, message", [
    ("task_per", "adm9", "unknown task_per"),
    ("task_per", "district", "unknown task_per"),
    ("while_unconfirmed", "P0", "unknown priority"),
    ("while_unconfirmed", "later", "unknown priority"),
])
def test_a_bad_new_field_names_file_rule_and_field(tmp_path, key, value, message):
    error = load_broken(tmp_path, lambda d: rule(d, "M25").__setitem__(key, value))
    assert (error.rule_id, error.field) == ("M25", key)
    assert message in str(error) and "rules.yaml" in str(error)


def test_an_unconfirmed_signal_cannot_make_a_task_more_urgent(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M25").__setitem__("while_unconfirmed", "P1"))
    assert (error.rule_id, error.field) == ("M25", "while_unconfirmed")


@pytest.mark.parametrize("key", ["task_per", "while_unconfirmed"])
def test_an_area_rule_takes_no_site_only_field(tmp_path, key):
    error = load_broken(tmp_path, lambda d: rule(d, "M03").__setitem__(key, "adm2" if key == "task_per" else "wait"))
    assert (error.rule_id, error.field) == ("M03", key)


def test_admin_level_in_is_an_area_condition(tmp_path):
    error = load_broken(tmp_path, lambda d: rule(d, "M02")["trigger"]["any"].append({"admin_level_in": [1]}))
    assert (error.rule_id, error.field) == ("M02", "trigger.any[2]")
    error = load_broken(tmp_path, lambda d: rule(d, "M03")["trigger"]["all"].__setitem__(0, {"admin_level_in": ["x"]}))
    assert (error.rule_id, error.field) == ("M03", "trigger.all[0].admin_level_in")

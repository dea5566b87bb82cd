"""FormSpec from XLSForm and from kpi asset content."""
from __future__ import annotations

import pytest
from openpyxl import Workbook
from pyxform.xls2xform import convert

from crisis_ct.kobo.formspec import FormSpec, FormSpecError


def test_sample_xlsform_compiles_with_pyxform(sample_xlsform):
    result = convert(xlsform=str(sample_xlsform))
    assert "<h:html" in result.xform
    assert "/site/site_id" in result.xform
    assert "<repeat" in result.xform


def test_xpaths_follow_groups(sample_form):
    assert sample_form.by_name("site_id").xpath == "site/site_id"
    assert sample_form.by_name("consent").xpath == "consent"


def test_lookup_by_xpath_returns_the_question(sample_form):
    question = sample_form.by_xpath("pop/pop_uasc")
    assert question.name == "pop_uasc"
    assert question.type == "select_one"
    assert question.list_name == "freq4"


def test_select_question_carries_allowed_choice_names(sample_form):
    assert sample_form.by_name("ki_sex").choices == ("female", "male", "pnta")


def test_repeat_questions_know_their_repeat(sample_form):
    assert sample_form.by_name("actor_staff").repeat == "actors"
    assert sample_form.by_name("site_id").repeat is None


def test_required_flag_read_from_sheet(sample_form):
    assert sample_form.by_name("site_id").required is True
    assert sample_form.by_name("ki_role").required is False


def test_labels_aligned_with_translations(sample_form):
    assert sample_form.translations == ("English (en)", "Français (fr)")
    assert sample_form.by_name("consent").labels == ("Consent given?", "Consentement donné ?")


def test_version_from_settings(sample_form):
    assert sample_form.version == "2026030101"


def test_asset_content_round_trip_gives_same_spec(sample_form):
    content = sample_form.to_asset_content()
    assert FormSpec.from_asset_content(content, version=sample_form.version) == sample_form


def test_asset_content_version_argument_wins_over_settings(sample_form):
    spec = FormSpec.from_asset_content(sample_form.to_asset_content(), version="vAbc123")
    assert spec.version == "vAbc123"


def test_kpi_style_content_is_read():
    # The shape kpi stores: $kuid/$autoname, select_from_list_name, labels per translation.
    content = {
        "schema": "1",
        "survey": [
            {"$kuid": "k1", "type": "begin_group", "name": "ki", "$xpath": "ki", "label": ["KI", "IC"]},
            {"$kuid": "k2", "type": "select_multiple", "$autoname": "roles", "$xpath": "ki/roles",
             "select_from_list_name": "roles", "required": True, "label": ["Roles", None]},
            {"$kuid": "k3", "type": "end_group"},
        ],
        "choices": [{"$kuid": "c1", "list_name": "roles", "name": "leader", "$autovalue": "leader",
                     "label": ["Leader", "Chef"]}],
        "settings": {"default_language": "English (en)"},
        "translations": ["English (en)", "Français (fr)"],
        "translated": ["label"],
    }
    spec = FormSpec.from_asset_content(content, version="v1")
    roles = spec.by_xpath("ki/roles")
    assert (roles.name, roles.type, roles.choices, roles.required) == ("roles", "select_multiple", ("leader",), True)
    assert roles.labels == ("Roles", None)


def test_xlsform_with_unknown_choice_list_names_row_and_field(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["select_one missing_list", "q1", "Q1"])
    workbook.save(tmp_path / "bad.xlsx")
    with pytest.raises(FormSpecError, match=r"bad\.xlsx.*row 2.*q1.*missing_list"):
        FormSpec.from_xlsform(tmp_path / "bad.xlsx")


def test_unclosed_group_is_an_error():
    content = {"survey": [{"type": "begin_group", "name": "g"}, {"type": "text", "name": "q"}], "choices": []}
    with pytest.raises(FormSpecError, match="never closed"):
        FormSpec.from_asset_content(content)


def test_nested_groups_join_names_into_the_xpath():
    content = {"survey": [{"type": "begin_group", "name": "a"}, {"type": "begin_repeat", "name": "b"},
                          {"type": "integer", "name": "q"}, {"type": "end_repeat"}, {"type": "end_group"}],
               "choices": []}
    question = FormSpec.from_asset_content(content).by_name("q")
    assert (question.xpath, question.repeat, question.groups) == ("a/b/q", "a/b", ("a", "a/b"))

"""forms/build_form.py and the committed Kobo form forms/ct_site_assessment.xlsx."""
from __future__ import annotations

import copy
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml
from pyxform.xls2xform import convert

from crisis_ct.scoring.catalogue import load_catalogue

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
COMMITTED_FORM = FORMS_DIR / "ct_site_assessment.xlsx"
LANGUAGE_COLUMNS = ("English (en)", "Français (fr)")
IDENTITY_WORDS = re.compile(
    r"(^|_)(name|names|phone|tel|mobile|email|contact|passport|id_number|national_id|address|photo)($|_)"
)


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_form", FORMS_DIR / "build_form.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build_form = _load_builder()


def as_dicts(rows: list[list]) -> list[dict]:
    header = rows[0]
    return [dict(zip(header, row + [None] * (len(header) - len(row)))) for row in rows[1:]]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def sheets():
    return build_form.read_sheets(COMMITTED_FORM)


@pytest.fixture(scope="module")
def survey(sheets):
    return as_dicts(sheets["survey"])


def top_level_rows(survey: list[dict]) -> list[dict]:
    """Rows not nested in a group (begin_group rows themselves are top level)."""
    depth, rows = 0, []
    for row in survey:
        if row["type"] == "end_group":
            depth -= 1
            continue
        if depth == 0:
            rows.append(row)
        if row["type"] == "begin_group":
            depth += 1
    return rows


def group_members(survey: list[dict], group: str) -> list[dict]:
    start = next(i for i, r in enumerate(survey) if r["type"] == "begin_group" and r["name"] == group)
    members, depth = [], 0
    for row in survey[start + 1:]:
        if row["type"] == "end_group" and depth == 0:
            return members
        depth += {"begin_group": 1, "end_group": -1}.get(row["type"], 0)
        members.append(row)
    raise AssertionError(f"group {group} is not closed")


def test_committed_form_matches_a_fresh_build(tmp_path):
    fresh = build_form.build(tmp_path / "fresh.xlsx")
    assert build_form.read_sheets(fresh) == build_form.read_sheets(COMMITTED_FORM)


def test_check_mode_accepts_the_committed_form():
    assert build_form.main(["--check", "--out", str(COMMITTED_FORM)]) == 0


def test_check_mode_rejects_a_stale_form(tmp_path):
    sheets = build_form.read_sheets(COMMITTED_FORM)
    sheets["settings"][1][2] = "1999.1"
    stale = tmp_path / "stale.xlsx"
    stale.write_bytes(build_form.workbook_bytes(sheets))
    assert build_form.main(["--check", "--out", str(stale)]) == 1


def test_committed_form_compiles_with_pyxform(catalogue):
    xform = convert(str(COMMITTED_FORM), warnings=[]).xform
    assert 'lang="Français (fr)"' in xform and 'lang="English (en)"' in xform
    for indicator in catalogue.indicators:
        assert f"<{indicator.name}/>" in xform, indicator.name


def test_settings_sheet(sheets, catalogue):
    settings = as_dicts(sheets["settings"])
    assert settings == [{"form_title": settings[0]["form_title"], "form_id": "ct_site_assessment",
                         "version": catalogue.version, "default_language": "English (en)"}]
    assert settings[0]["form_title"]


def test_indicator_questions_are_named_by_lowercase_id(survey, catalogue):
    frame_names = {row["name"] for row in build_form.load_frame().body if "name" in row}
    frame_names |= {q["name"] for el in build_form.load_frame().body for q in el.get("questions", [])}
    detail_names = {d.name for ind in catalogue.indicators for d in ind.details}
    asked = [r["name"] for r in survey if r["name"] and r["type"] != "begin_group"
             and r["name"] not in frame_names | detail_names]
    assert sorted(asked) == sorted(ind.id.lower() for ind in catalogue.indicators)


def test_indicator_questions_use_catalogue_lists(survey, catalogue):
    types = {r["name"]: r["type"] for r in survey}
    for ind in catalogue.indicators:
        expected = "integer" if ind.answer_type == "integer" else f"{ind.answer_type} {ind.list_name}"
        assert types[ind.name] == expected


def test_every_labelled_survey_row_has_english_and_french(survey):
    for row in survey:
        for field in ("label", "hint", "constraint_message"):
            texts = [row[f"{field}::{lang}"] for lang in LANGUAGE_COLUMNS]
            assert all(texts) or not any(texts), (row["name"], field)
    unlabelled = {r["type"] for r in survey if not r["label::English (en)"]}
    assert unlabelled <= {"start", "end", "end_group"}


def test_every_choice_has_english_and_french(sheets):
    choices = as_dicts(sheets["choices"])
    assert choices
    assert all(c[f"label::{lang}"] and c[f"label::{lang}"].strip()
               for c in choices for lang in LANGUAGE_COLUMNS)


def test_choice_names_are_language_neutral_codes(sheets):
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c["name"]) for c in as_dicts(sheets["choices"]))


def test_no_question_asks_for_an_identity(survey):
    inputs = [r for r in survey if r["type"] not in {"note", "begin_group", "end_group"}]
    assert not [r["name"] for r in inputs if IDENTITY_WORDS.search(r["name"])]
    assert not [r["name"] for r in survey if r["type"] in {"image", "audio", "video", "file",
                                                               "barcode", "phonenumber", "email"}]
    free_text = {r["name"] for r in survey if r["type"] == "text"}
    assert free_text == {"site_id", "enumerator_team"}
    assert all(r["constraint"] and r["constraint"].startswith("regex(") for r in survey
               if r["type"] == "text")


def test_form_warns_not_to_write_names(survey):
    notes = [r["label::English (en)"].lower() for r in survey if r["type"] == "note"]
    assert any("do not write names" in note for note in notes)


def test_consent_is_required_and_gates_everything_after_it(survey):
    top = top_level_rows(survey)
    consent_at = next(i for i, r in enumerate(top) if r["name"] == "consent")
    consent = top[consent_at]
    assert (consent["type"], consent["required"]) == ("select_one yn", "yes")
    after = top[consent_at + 1:]
    assert after
    assert all("${consent} = 'yes'" in (r["relevant"] or "") for r in after), \
        [r["name"] for r in after if "${consent}" not in (r["relevant"] or "")]


def test_only_metadata_and_the_introduction_come_before_consent(survey):
    top = top_level_rows(survey)
    before = [r["type"] for r in top[:next(i for i, r in enumerate(top) if r["name"] == "consent")]]
    assert set(before) <= {"start", "end", "note"}


def test_site_group_records_roles_not_people(survey):
    site = {r["name"]: r for r in group_members(survey, "site")}
    assert {"site_id", "site_type", "assessment_date", "ki_role", "ki_sex", "location"} <= set(site)
    assert site["site_id"]["required"] == site["assessment_date"]["required"] == "yes"
    assert site["assessment_date"]["default"] == "today()"
    assert site["location"]["type"] == "geopoint"


def test_sensitive_questions_sit_behind_the_sensitive_gate(survey, catalogue):
    top = top_level_rows(survey)
    names = [r["name"] for r in top]
    assert names.index("sensitive_ok") < names.index("exp")
    gate = top[names.index("sensitive_ok")]
    assert gate["type"] == "select_one yn"
    assert "${sensitive_ok} = 'yes'" in top[names.index("exp")]["relevant"]
    inside = {r["name"] for r in group_members(survey, "exp")}
    assert inside == {i.name for i in catalogue.indicators if i.sensitive}


def test_transit_questions_only_at_transit_and_border_points(survey, catalogue):
    trn = next(r for r in survey if r["type"] == "begin_group" and r["name"] == "trn")
    assert "${site_type} = 'transit_centre'" in trn["relevant"]
    assert "${site_type} = 'border_point'" in trn["relevant"]
    inside = {r["name"] for r in group_members(survey, "trn")}
    assert inside == {i.name for i in catalogue.indicators if i.transit_only}


def test_select_multiple_forbids_combining_none_or_dont_know(survey):
    multiples = [r for r in survey if r["type"].startswith("select_multiple")]
    assert multiples
    for row in multiples:
        assert "count-selected(.) > 1" in row["constraint"] and "selected(., 'dnk')" in row["constraint"]
        assert row["constraint_message::Français (fr)"]


def test_counts_must_not_be_negative(survey, catalogue):
    counts = [r for r in survey if r["type"] == "integer"]
    assert [r["name"] for r in counts] == [i.name for i in catalogue.indicators
                                           if i.answer_type == "integer"]
    assert all(r["constraint"] == ". >= 0" for r in counts)


def test_details_are_asked_only_after_yes(survey, catalogue):
    relevant = {r["name"]: r["relevant"] for r in survey}
    for ind in catalogue.indicators:
        for detail in ind.details:
            assert f"${{{ind.name}}} = 'yes'" in relevant[detail.name]
    assert relevant["rec_red_flags"] == "${rec_offers} = 'yes'"


# --------------------------------------------------------------- frame errors

def write_frame(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((FORMS_DIR / "form_frame.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    change(data)
    path = tmp_path / "form_frame.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_frame_row_without_french_label_is_named(tmp_path):
    def drop_french(data):
        consent = next(r for r in data["body"] if r.get("name") == "consent")
        del consent["label"]["fr"]

    with pytest.raises(build_form.FrameError, match=r"form_frame.yaml: body\[4\]: field 'label'"):
        build_form.load_frame(write_frame(tmp_path, drop_french))


def test_frame_without_a_place_for_a_section_cannot_build(tmp_path, catalogue):
    path = write_frame(tmp_path, lambda d: d["body"].remove(
        next(r for r in d["body"] if r.get("section") == "trn")))
    with pytest.raises(build_form.FrameError, match="trn"):
        build_form.form_sheets(catalogue, build_form.load_frame(path))


def test_rebuilding_gives_identical_bytes(tmp_path):
    first = build_form.build(tmp_path / "first.xlsx").read_bytes()
    second = build_form.build(tmp_path / "second.xlsx").read_bytes()
    assert first == second

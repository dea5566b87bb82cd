"""The project's own form (forms/ct_site_assessment.xlsx) through FormSpec, synthetic, normalise."""
from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

import pytest
from pyxform.xls2xform import convert

from crisis_ct.kobo.formspec import FormSpec
from crisis_ct.kobo.normalise import normalise
from crisis_ct.kobo.synthetic import make_submission

FORM_PATH = Path(__file__).resolve().parents[2] / "forms" / "ct_site_assessment.xlsx"
SECTIONS = ("pop", "doc", "liv", "rec", "env", "svc", "trn", "exp")


@pytest.fixture(scope="module")
def real_form() -> FormSpec:
    if not FORM_PATH.exists():
        pytest.skip("forms/ct_site_assessment.xlsx not built yet")
    return FormSpec.from_xlsform(FORM_PATH)


def submission(form: FormSpec, kobo_id: int, site_type: str, **kwargs) -> dict:
    return make_submission(form, site_code=f"S-{kobo_id}", site_type=site_type,
                           assessment_date=date(2026, 3, 1), submitted_at=datetime(2026, 3, 2, 9),
                           kobo_id=kobo_id, asset_uid="aReal", version=form.version,
                           rng=random.Random(kobo_id), **kwargs)


def test_real_form_compiles_with_pyxform(real_form):
    assert "/site/site_id" in convert(xlsform=str(FORM_PATH)).xform


def test_real_form_has_the_agreed_site_fields(real_form):
    xpaths = {name: real_form.by_name(name).xpath for name in
              ("site_id", "site_type", "assessment_date", "ki_role", "ki_sex", "location")}
    assert xpaths == {"site_id": "site/site_id", "site_type": "site/site_type",
                      "assessment_date": "site/assessment_date", "ki_role": "site/ki_role",
                      "ki_sex": "site/ki_sex", "location": "site/location"}
    assert real_form.by_name("consent").list_name == "yn"


def test_indicator_questions_sit_in_section_groups(real_form):
    indicator_groups = {q.groups[0] for q in real_form.questions
                        if q.groups and q.name.split("_")[0] in SECTIONS}
    assert indicator_groups <= set(SECTIONS)
    assert real_form.by_name("pop_uasc").xpath == "pop/pop_uasc"


def test_real_form_asset_content_round_trip(real_form):
    assert FormSpec.from_asset_content(real_form.to_asset_content(), real_form.version) == real_form


@pytest.mark.parametrize("site_type", ["planned_camp", "transit_centre", "border_point", "host_community"])
def test_synthetic_records_for_real_form_have_no_problems(real_form, site_type):
    for kobo_id in range(1, 80):
        result = normalise(submission(real_form, kobo_id, site_type), real_form)
        assert (result.problems, result.unknown_keys, result.unknown_version) == ((), (), False)


def test_transit_section_only_at_transit_sites(real_form):
    transit = [q.xpath for q in real_form.questions if q.xpath.startswith("trn/")]
    assert transit
    assert not any(k in submission(real_form, i, "planned_camp") for i in range(1, 30) for k in transit)
    assert all(set(transit) <= set(submission(real_form, i, "transit_centre")) for i in range(1, 30))


def test_sensitive_module_follows_its_gate(real_form):
    closed = submission(real_form, 3, "planned_camp", answers_override={"sensitive_ok": "no"})
    opened = submission(real_form, 3, "planned_camp", answers_override={"sensitive_ok": "yes"})
    assert not any(k.startswith("exp/") for k in closed)
    assert any(k.startswith("exp/") for k in opened)


def test_follow_up_questions_only_after_yes(real_form):
    for kobo_id in range(1, 40):
        record = submission(real_form, kobo_id, "planned_camp")
        assert ("rec/rec_red_flags" in record) == (record.get("rec/rec_offers") == "yes")


def test_risky_answers_mapping_steers_the_answers(real_form):
    risky = {"svc_school": {"most"}}
    answers = [submission(real_form, i, "planned_camp", risk=1.0, risky_answers=risky).get("svc/svc_school")
               for i in range(1, 40)]
    assert {a for a in answers if a not in ("dnk", "pnta")} == {"most"}

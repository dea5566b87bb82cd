"""Synthetic submissions: Kobo-shaped, valid for the form, relevance respected, edits chained."""
from __future__ import annotations

import random

import pytest

from crisis_ct.kobo.normalise import normalise
from crisis_ct.kobo.synthetic import make_edit, relevant

METADATA_KEYS = {"_id", "_uuid", "meta/instanceID", "_xform_id_string", "formhub/uuid", "__version__",
                 "_submission_time", "_submitted_by", "_geolocation", "_status", "_validation_status",
                 "_attachments", "_tags", "_notes", "start", "end"}


def test_record_has_all_metadata_keys(make_record):
    assert METADATA_KEYS <= set(make_record(7))


def test_answer_values_are_strings(make_record):
    record = make_record(7)
    answers = [v for k, v in record.items() if not k.startswith(("_", "meta/", "formhub/")) and k != "actors"]
    assert answers and all(isinstance(v, str) for v in answers)


@pytest.mark.parametrize("site_type", ["planned_camp", "collective_centre", "transit_centre", "border_point"])
def test_records_normalise_without_problems(sample_form, make_record, site_type):
    for kobo_id in range(1, 60):
        result = normalise(make_record(kobo_id, site_type=site_type), sample_form)
        assert result.problems == (), (kobo_id, result.problems)
        assert result.unknown_keys == ()


def test_transit_questions_only_at_transit_sites(make_record):
    assert not any("trn/trn_smugglers" in make_record(i, site_type="planned_camp") for i in range(1, 40))
    assert all("trn/trn_smugglers" in make_record(i, site_type="border_point") for i in range(1, 40))


def test_sensitive_module_skipped_when_gate_closed(make_record):
    record = make_record(3, answers_override={"sensitive_ok": "no"})
    assert record["site/sensitive_ok"] == "no"
    assert "exp/exp_confinement" not in record


def test_geolocation_matches_location_answer(make_record):
    record = make_record(5, location=(9.5, 13.25))
    assert record["_geolocation"] == [9.5, 13.25]
    assert record["site/location"].startswith("9.5 13.25 ")


def test_same_seed_gives_same_record(make_record):
    assert make_record(11) == make_record(11)


def test_higher_risk_gives_more_risky_answers(make_record):
    def risky_share(risk: float) -> float:
        records = [make_record(i, seed=i, risk=risk) for i in range(1, 200)]
        values = [r.get("pop/pop_uasc") for r in records]
        return sum(v in ("many", "most") for v in values) / len(values)
    assert risky_share(0.9) > risky_share(0.1) + 0.4


def test_dnk_and_pnta_occur_sometimes(make_record):
    values = {make_record(i).get("pop/pop_uasc") for i in range(1, 300)}
    assert {"dnk", "pnta"} <= values


def test_override_none_leaves_question_unanswered(make_record):
    assert "pop/pop_new_arrivals" not in make_record(4, answers_override={"pop_new_arrivals": None})


def test_edit_keeps_id_and_chains_instance_ids(make_record):
    original = make_record(9)
    edited = make_edit(original, {"pop/pop_uasc": "most"}, rng=random.Random(1))
    assert edited["_id"] == original["_id"]
    assert edited["meta/instanceID"] != original["meta/instanceID"]
    assert edited["meta/deprecatedID"] == original["meta/instanceID"]
    assert edited["meta/rootUuid"] == original["meta/instanceID"]
    assert edited["meta/instanceID"] == "uuid:" + edited["_uuid"]
    assert edited["pop/pop_uasc"] == "most"


def test_second_edit_keeps_the_first_instance_as_root(make_record):
    original = make_record(9)
    first = make_edit(original, {}, rng=random.Random(1))
    second = make_edit(first, {}, rng=random.Random(2))
    assert second["meta/rootUuid"] == original["meta/instanceID"]
    assert second["meta/deprecatedID"] == first["meta/instanceID"]


def test_edit_does_not_touch_the_original(make_record):
    original = make_record(9)
    before = dict(original)
    make_edit(original, {"pop/pop_uasc": "most"}, rng=random.Random(1))
    assert original == before


def test_edited_record_normalises_with_edit_identity(sample_form, make_record):
    original = make_record(9)
    result = normalise(make_edit(original, {}, rng=random.Random(1)), sample_form)
    assert result.deprecated_id == original["meta/instanceID"]
    assert result.kobo_id == 9


@pytest.mark.parametrize("expression, values, expected", [
    ("${a} = 'yes'", {"a": "yes"}, True),
    ("${a} = 'yes'", {}, False),
    ("${a} != 'yes' and ${b} = 'x'", {"a": "no", "b": "x"}, True),
    ("${t} = 'transit_centre' or ${t} = 'border_point'", {"t": "border_point"}, True),
    ("selected(${m}, 'begging')", {"m": "children_work begging"}, True),
    ("not(selected(${m}, 'none'))", {"m": "none"}, False),
    ("${n} > 10", {"n": "12"}, True),
    ("count-selected(${m}) >= 2", {"m": "a"}, False),
    ("(${a} = 'yes')", {"a": "yes"}, True),
])
def test_relevance_subset(expression, values, expected):
    assert relevant(expression, values) is expected


def test_unsupported_relevance_counts_as_relevant():
    assert relevant("jr:choice-name(${a}, '${a}') = 'x' div 2", {}) is True

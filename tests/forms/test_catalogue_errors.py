"""A broken catalogue file gives a CatalogueError naming the file, the entry and the field."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import pytest
import yaml

from crisis_ct.scoring.catalogue import DEFAULT_CATALOGUE_PATH, CatalogueError, load_catalogue

ORIGINAL = yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))


def indicator(data: dict, indicator_id: str) -> dict:
    return next(entry for entry in data["indicators"] if entry["id"] == indicator_id)


def write(tmp_path: Path, change: Callable[[dict], None]) -> Path:
    data = copy.deepcopy(ORIGINAL)
    change(data)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    return str(caught.value)


def set_field(indicator_id: str, key: str, value) -> Callable[[dict], None]:
    return lambda data: indicator(data, indicator_id).__setitem__(key, value)


CASES = [
    # (change, entry, field, words expected in the message)
    (set_field("POP_UASC", "phases", {"none": 1, "few": 2, "many": 3, "most": 4, "sometimes": 2}),
     "indicator POP_UASC", "phases", "'sometimes' is not a choice of answer type freq4"),
    (set_field("POP_UASC", "phases", {"none": 1, "few": 2, "many": 6, "most": 4}),
     "indicator POP_UASC", "phases.many", "1..5"),
    (set_field("POP_CHH", "phases", {"none": 1, "few": 2, "many": 3}),
     "indicator POP_CHH", "phases", "'most' has no phase"),
    (set_field("DOC_LACK", "weight", 2), "indicator DOC_LACK", "weight", "unknown key"),
    (lambda d: indicator(d, "LIV_DEBT").pop("domain"), "indicator LIV_DEBT", "domain", "missing"),
    (set_field("LIV_DEBT", "domain", "X"), "indicator LIV_DEBT", "domain", "'X'"),
    (set_field("SVC_INFO", "combine", "median"), "indicator SVC_INFO", "combine", "'median'"),
    (set_field("SVC_SCHOOL", "combine", "yes_prevails"), "indicator SVC_SCHOOL", "combine", "'yes'"),
    (set_field("POP_UASC", "type", "freq5"), "indicator POP_UASC", "type", "'freq5'"),
    (set_field("POP_UASC", "critical", "no"), "indicator POP_UASC", "critical", "true or false"),
    (set_field("EXP_CONFINEMENT", "question", {"en": "Held?", "fr": ""}),
     "indicator EXP_CONFINEMENT", "question", "'fr'"),
    (set_field("EXP_CONFINEMENT", "name", {"en": "Held"}), "indicator EXP_CONFINEMENT", "name", "'fr'"),
    (set_field("EXP_CONFINEMENT", "name", {"en": "Held", "fr": "Retenus", "de": "Festgehalten"}),
     "indicator EXP_CONFINEMENT", "name", "'de'"),
    (lambda d: indicator(d, "LIV_NEG_COPING")["choices"]["begging"].pop("phase"),
     "indicator LIV_NEG_COPING", "choices.begging.phase", "missing"),
    (lambda d: indicator(d, "POP_NEW_ARRIVALS")["thresholds"][0].update(min=10),
     "indicator POP_NEW_ARRIVALS", "thresholds[1].min", "must be 0"),
    (lambda d: indicator(d, "POP_NEW_ARRIVALS")["thresholds"][2].update(min=50),
     "indicator POP_NEW_ARRIVALS", "thresholds[3].min", "increase"),
    (set_field("REC_RED_FLAGS", "asked_if", {"indicator": "REC_NOPE", "answer": "yes"}),
     "indicator REC_RED_FLAGS", "asked_if.indicator", "REC_NOPE"),
    (lambda d: d["indicators"].append(copy.deepcopy(indicator(d, "POP_CHH"))),
     "indicator POP_CHH", "id", "already used"),
    (set_field("POP_CHH", "id", "pop chh"), "indicator pop chh", "id", "POP_UASC"),
    (set_field("POP_CHH", "id", 12), "indicator #2", "id", "POP_UASC"),
    (lambda d: d["settings"].update(expired_days=30), "settings", "expired_days", "current_days"),
    (lambda d: d["settings"].update(area_threshold_share=1.5), "settings", "area_threshold_share", "outside"),
    (lambda d: d["settings"].update(min_kis=2.5), "settings", "min_kis", "whole number"),
    (lambda d: d["settings"].pop("round_window_days"), "settings", "round_window_days", "missing"),
    (lambda d: d.update(version=2026.1), "top level", "version", "text"),
    (lambda d: d["answer_types"]["yn"]["choices"]["dnk"].update(fr=""), "answer_types",
     "yn.choices.dnk", "'fr'"),
]


@pytest.mark.parametrize("change, entry, field, words", CASES,
                         ids=[f"{c[1]}:{c[2]}" for c in CASES])
def test_error_names_file_entry_and_field(tmp_path, change, entry, field, words):
    path = write(tmp_path, change)
    message = load_error(path)
    line = next((l for l in message.splitlines() if f"{entry}: field '{field}'" in l), None)
    assert line is not None, message
    assert line.startswith(f"{path}: ")
    assert words in line


def test_the_unchanged_copy_loads(tmp_path):
    # guards the cases above: only their change can be the cause of the error
    assert len(load_catalogue(write(tmp_path, lambda data: None)).indicators) == len(ORIGINAL["indicators"])


def test_every_broken_entry_is_reported_at_once(tmp_path):
    def two_problems(data):
        indicator(data, "POP_UASC")["domain"] = "X"
        indicator(data, "SVC_INFO")["combine"] = "median"

    error = pytest.raises(CatalogueError, load_catalogue, write(tmp_path, two_problems)).value
    assert len(error.problems) == 2
    assert "POP_UASC" in error.problems[0] and "SVC_INFO" in error.problems[1]


def test_unquoted_yes_and_no_codes_are_read_as_codes(tmp_path):
    text = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8").replace('"yes": 4, "no": 1', "yes: 4, no: 1")
    assert "yes: 4, no: 1" in text
    path = tmp_path / "indicators.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_catalogue(path).get("EXP_CONFINEMENT").phase_of("yes") == 4


def test_unquoted_yes_label_is_an_error_naming_the_field(tmp_path):
    text = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8").replace('en: "Yes"', "en: Yes", 1)
    path = tmp_path / "indicators.yaml"
    path.write_text(text, encoding="utf-8")
    message = load_error(path)
    assert "answer_types: field 'yn.choices.yes': label 'en'" in message


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "indicators.yaml"
    path.write_text("indicators: [\n", encoding="utf-8")
    assert load_error(path).startswith(f"{path}: not valid YAML")


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "absent.yaml"
    assert load_error(path).startswith(f"{path}: cannot read the file")


def test_default_file_is_named_relative_to_the_repository():
    assert load_catalogue().source == "forms/indicators.yaml"

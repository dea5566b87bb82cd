"""Build the Kobo XLSForm forms/ct_site_assessment.xlsx.

    python forms/build_form.py            # rebuild the form
    python forms/build_form.py --check    # exit 1 if the committed form is out of date

The indicator catalogue (forms/indicators.yaml) is the single source of truth for
indicator questions; forms/form_frame.yaml holds everything else. Every form is
compiled with pyxform (the library Kobo uses) before it is written, so a form that
Kobo would reject is never saved.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime
from typing import Any

import openpyxl
import yaml

FORMS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FORMS_DIR.parent))  # run as a script from any directory

from crisis_ct.scoring.catalogue import LANGUAGES, Catalogue, Choice, Indicator, load_catalogue  # noqa: E402

DEFAULT_FRAME_PATH = FORMS_DIR / "form_frame.yaml"
DEFAULT_FORM_PATH = FORMS_DIR / "ct_site_assessment.xlsx"

FIXED_TIMESTAMP = datetime(2026, 1, 1)
LANGUAGE_COLUMNS = {"en": "English (en)", "fr": "Français (fr)"}
TRANSLATED = ("label", "hint", "constraint_message")
SURVEY_COLUMNS = [
    "type", "name", "label::English (en)", "label::Français (fr)",
    "hint::English (en)", "hint::Français (fr)", "required", "relevant", "constraint",
    "constraint_message::English (en)", "constraint_message::Français (fr)",
    "default", "appearance",
]
CHOICES_COLUMNS = ["list_name", "name", "label::English (en)", "label::Français (fr)"]
SETTINGS_COLUMNS = ["form_title", "form_id", "version", "default_language"]

# Choices that describe the whole answer, so they cannot be ticked with others (§2.5).
EXCLUSIVE_CODES = ("none", "dnk", "pnta")
EXCLUSIVE_MESSAGE = {
    "en": "'None', 'Don't know' and 'Prefer not to answer' cannot be combined with other answers.",
    "fr": "« Aucun », « Ne sait pas » et « Préfère ne pas répondre » ne peuvent pas être combinés avec d'autres réponses.",
}
COUNT_MESSAGE = {"en": "Enter a number of 0 or more.", "fr": "Saisissez un nombre égal ou supérieur à 0."}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ROW_KEYS = {"type", "name", "label", "hint", "required", "relevant", "constraint",
             "constraint_message", "default", "appearance"}
_UNLABELLED_TYPES = {"start", "end", "today", "deviceid", "username"}
_FRAME_KEYS = {"form_title", "form_id", "default_language", "consent_question", "sensitive_gate",
               "sensitive_section", "transit_site_types", "choice_lists", "body"}


class FrameError(ValueError):
    """form_frame.yaml or its combination with the catalogue cannot make a form."""


@dataclass(frozen=True)
class FormFrame:
    form_title: str
    form_id: str
    default_language: str
    consent_question: str
    sensitive_gate: str
    sensitive_section: str
    transit_site_types: tuple[str, ...]
    choice_lists: dict[str, dict[str, dict[str, str]]]
    body: list[dict[str, Any]]
    source: str


# ---------------------------------------------------------------------- frame

def load_frame(path: Path | str = DEFAULT_FRAME_PATH) -> FormFrame:
    path = Path(path)
    source = path.name if path.parent == FORMS_DIR else str(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def fail(entry: str, field_name: str, message: str) -> FrameError:
        return FrameError(f"{source}: {entry}: field {field_name!r}: {message}")

    if not isinstance(data, dict):
        raise fail("top level", "(file)", "expected a mapping")
    for key in _FRAME_KEYS:
        if key not in data:
            raise fail("top level", key, "missing")
    for key in data:
        if key not in _FRAME_KEYS:
            raise fail("top level", key, "unknown key")
    for list_name, choices in data["choice_lists"].items():
        for code, labels in choices.items():
            _check_labels(labels, lambda f, m: fail(f"choice_lists.{list_name}.{code}", f, m))
    for position, element in enumerate(data["body"], start=1):
        entry = f"body[{position}]"
        if "group" in element or "section" in element:
            kind = "group" if "group" in element else "section"
            _check_labels(element.get("label"), lambda f, m: fail(f"{entry} ({kind})", f, m))
            for inner, row in enumerate(element.get("questions", []), start=1):
                _check_row(row, lambda f, m: fail(f"{entry}.questions[{inner}]", f, m))
        else:
            _check_row(element, lambda f, m: fail(entry, f, m))
    return FormFrame(**{k: data[k] for k in _FRAME_KEYS - {"transit_site_types"}},
                     transit_site_types=tuple(data["transit_site_types"]), source=source)


def _check_labels(labels: Any, fail, field_name: str = "label") -> None:
    if not isinstance(labels, dict) or set(labels) != set(LANGUAGES):
        raise fail(field_name, f"expected labels for exactly {LANGUAGES}")
    for lang in LANGUAGES:
        if not isinstance(labels[lang], str) or not labels[lang].strip():
            raise fail(field_name, f"label '{lang}' is empty (quote it in YAML)")


def _check_row(row: Any, fail) -> None:
    if not isinstance(row, dict):
        raise fail("(row)", "expected a mapping")
    for key in row:
        if key not in _ROW_KEYS:
            raise fail(key, "unknown key")
    if not isinstance(row.get("name"), str) or not _NAME.match(row["name"]):
        raise fail("name", "lower-case letters, digits and _ only")
    if row.get("type") not in _UNLABELLED_TYPES:
        _check_labels(row.get("label"), fail)
    for key in ("hint", "constraint_message"):
        if key in row:
            _check_labels(row[key], fail, key)


# --------------------------------------------------------------------- sheets

def form_sheets(catalogue: Catalogue, frame: FormFrame) -> dict[str, list[list[Any]]]:
    """The XLSForm as {sheet name: rows}, header row first; cells are str or None."""
    sections = _indicators_by_section(catalogue, frame)
    consent = f"${{{frame.consent_question}}} = 'yes'"
    survey: list[dict[str, Any]] = []
    after_consent = False
    for element in frame.body:
        gate = consent if after_consent else None
        if "group" in element:
            survey.append({"type": "begin_group", "name": element["group"],
                           "label": element["label"], "relevant": gate})
            survey.extend(element["questions"])
            survey.append({"type": "end_group"})
        elif "section" in element:
            survey.extend(_section_rows(element, sections.pop(element["section"], []), frame, gate))
        else:
            survey.append({**element, "relevant": _all(gate, element.get("relevant"))})
            after_consent = after_consent or element["name"] == frame.consent_question
    if sections:
        raise FrameError(f"{frame.source}: body: field 'section': no place for sections "
                         f"{sorted(sections)} used by {catalogue.source or 'the catalogue'}")
    return {
        "survey": [SURVEY_COLUMNS] + [_survey_cells(row) for row in survey],
        "choices": [CHOICES_COLUMNS] + _choice_rows(catalogue, frame),
        "settings": [SETTINGS_COLUMNS, [frame.form_title, frame.form_id, catalogue.version,
                                        frame.default_language]],
    }


def section_of(indicator: Indicator, frame: FormFrame) -> str:
    """Form group of an indicator: its id prefix, or the sensitive module."""
    if indicator.sensitive:
        return frame.sensitive_section
    return indicator.id.split("_", 1)[0].lower()


def _indicators_by_section(catalogue: Catalogue, frame: FormFrame) -> dict[str, list[Indicator]]:
    sections: dict[str, list[Indicator]] = {}
    for indicator in catalogue.indicators:
        sections.setdefault(section_of(indicator, frame), []).append(indicator)
    return sections


def _section_rows(element: dict, indicators: list[Indicator], frame: FormFrame,
                  gate: str | None) -> list[dict[str, Any]]:
    name = element["section"]
    if not indicators:
        raise FrameError(f"{frame.source}: section {name}: field 'section': "
                         "no catalogue indicator belongs to it")
    transit = " or ".join(f"${{site_type}} = '{code}'" for code in frame.transit_site_types)
    # When the whole section is transit-only the group carries the condition once.
    all_transit = all(ind.transit_only for ind in indicators)
    sensitive = f"${{{frame.sensitive_gate}}} = 'yes'" if name == frame.sensitive_section else None
    rows = [{"type": "begin_group", "name": name, "label": element["label"],
             "relevant": _all(gate, sensitive, transit if all_transit else None)}]
    for ind in indicators:
        own = _all(transit if ind.transit_only and not all_transit else None,
                   f"${{{ind.asked_if[0].lower()}}} = '{ind.asked_if[1]}'" if ind.asked_if else None)
        rows.append(_indicator_row(ind, own))
        for detail in ind.details:
            rows.append({
                "type": f"select_multiple {detail.list_name}", "name": detail.name,
                "label": detail.question, "required": True,
                "relevant": _all(own, f"${{{ind.name}}} = 'yes'"),
                **_exclusive_constraint(detail.choices),
            })
    rows.append({"type": "end_group"})
    return rows


def _indicator_row(ind: Indicator, relevant: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"name": ind.name, "label": ind.question, "hint": ind.hint,
                           "relevant": relevant}
    if ind.answer_type == "integer":
        # Not required: "don't know" is an empty answer for a count.
        return {**row, "type": "integer", "constraint": ". >= 0", "constraint_message": COUNT_MESSAGE}
    row.update(type=f"{ind.answer_type} {ind.list_name}", required=True)
    if ind.answer_type == "select_multiple":
        row.update(_exclusive_constraint(ind.choices))
    return row


def _exclusive_constraint(choices: tuple[Choice, ...]) -> dict[str, Any]:
    exclusive = [c.code for c in choices if c.code in EXCLUSIVE_CODES]
    if not exclusive:
        return {}
    picked = " or ".join(f"selected(., '{code}')" for code in exclusive)
    return {"constraint": f"not(({picked}) and count-selected(.) > 1)",
            "constraint_message": EXCLUSIVE_MESSAGE}


def _all(*conditions: str | None) -> str | None:
    present = [c for c in conditions if c]
    if len(present) <= 1:
        return present[0] if present else None
    return " and ".join(f"({c})" for c in present)


def _survey_cells(row: dict[str, Any]) -> list[Any]:
    cells: dict[str, Any] = {}
    for key, value in row.items():
        if key in TRANSLATED:
            for lang, text in (value or {}).items():
                cells[f"{key}::{LANGUAGE_COLUMNS[lang]}"] = text
        elif key == "required":
            cells[key] = "yes" if value else None
        else:
            cells[key] = value
    return [cells.get(column) or None for column in SURVEY_COLUMNS]


def _choice_rows(catalogue: Catalogue, frame: FormFrame) -> list[list[Any]]:
    lists: dict[str, list[tuple[str, dict[str, str]]]] = {}

    def add(list_name: str, items: list[tuple[str, dict[str, str]]], owner: str) -> None:
        if list_name in lists and lists[list_name] != items:
            raise FrameError(f"{owner}: choice list {list_name!r} is defined twice differently")
        lists[list_name] = items

    for name, choices in catalogue.answer_types:
        add(name, [(c.code, c.label) for c in choices], catalogue.source)
    for ind in catalogue.indicators:
        if ind.answer_type == "select_multiple":
            add(ind.list_name, [(c.code, c.label) for c in ind.choices], f"indicator {ind.id}")
        for detail in ind.details:
            add(detail.list_name, [(c.code, c.label) for c in detail.choices], f"indicator {ind.id}")
    for name, choices in frame.choice_lists.items():
        add(name, list(choices.items()), frame.source)
    return [[name, code] + [labels[lang] for lang in LANGUAGES]
            for name, items in lists.items() for code, labels in items]


# ---------------------------------------------------------------- xlsx in/out

def workbook_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.properties.created = FIXED_TIMESTAMP
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _reproducible(buffer.getvalue())


def _reproducible(xlsx: bytes) -> bytes:
    """Same sheets, same bytes: pin the zip and document timestamps so rebuilding
    an unchanged form leaves the committed file untouched in git."""
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIMESTAMP.timetuple()[:6]), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read_sheets(path: Path | str) -> dict[str, list[list[Any]]]:
    """Sheet contents of an xlsx, trailing empty cells dropped, for comparisons."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    sheets = {}
    for sheet in workbook.worksheets:
        rows = []
        for row in sheet.iter_rows(values_only=True):
            cells = list(row)
            while cells and cells[-1] is None:
                cells.pop()
            rows.append(cells)
        sheets[sheet.title] = rows
    workbook.close()
    return sheets


def compile_xform(xlsx: bytes) -> str:
    """XForm XML of the workbook; raises pyxform's error when Kobo would reject it."""
    from pyxform.xls2xform import convert

    return convert(io.BytesIO(xlsx), file_type=".xlsx", warnings=[]).xform


def build(out_path: Path | str = DEFAULT_FORM_PATH, catalogue_path: Path | str | None = None,
          frame_path: Path | str = DEFAULT_FRAME_PATH) -> Path:
    catalogue = load_catalogue(catalogue_path) if catalogue_path else load_catalogue()
    data = workbook_bytes(form_sheets(catalogue, load_frame(frame_path)))
    compile_xform(data)
    out_path = Path(out_path)
    out_path.write_bytes(data)
    return out_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_FORM_PATH)
    parser.add_argument("--check", action="store_true",
                        help="only compare --out with a fresh build; exit 1 if they differ")
    args = parser.parse_args(argv)
    if args.check:
        fresh = form_sheets(load_catalogue(), load_frame())
        fresh_rows = read_sheets(io.BytesIO(workbook_bytes(fresh)))
        if not args.out.exists() or read_sheets(args.out) != fresh_rows:
            print(f"{args.out} is out of date: run python forms/build_form.py", file=sys.stderr)
            return 1
        return 0
    print(f"wrote {build(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

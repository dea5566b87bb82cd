"""The questions of one form version, read from Kobo's asset JSON or from an XLSForm file.

Both sources describe the same thing (pyxform compiles the XLSForm; kpi stores it as JSON), so
both builders end in the same `FormSpec`: a record's XPath keys can be typed and checked against
the form without guessing question types from the values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

__all__ = ["Choice", "FormSpec", "FormSpecError", "Group", "Question"]

# kpi writes "begin_group", XLSForm authors write "begin group"; aliases collapse to one spelling.
_TYPE_ALIASES = {
    "begin group": "begin_group", "end group": "end_group",
    "begin repeat": "begin_repeat", "end repeat": "end_repeat",
    "int": "integer", "datetime": "datetime", "dateTime": "datetime",
    "select one": "select_one", "select multiple": "select_multiple",
    "select all that apply": "select_multiple",
}
_SELECT_TYPES = ("select_one", "select_multiple")
_TRUE_WORDS = {"yes", "true", "true()", "1"}
T = TypeVar("T")


class FormSpecError(ValueError):
    """The form cannot be read; the message names the source, the row and the field."""


@dataclass(frozen=True)
class Choice:
    name: str
    labels: tuple[str | None, ...]  # aligned with FormSpec.translations


@dataclass(frozen=True)
class Group:
    name: str
    xpath: str
    kind: str  # "group" or "repeat"
    relevant: str | None
    labels: tuple[str | None, ...]


@dataclass(frozen=True)
class Question:
    name: str
    xpath: str
    type: str  # select_one, select_multiple, integer, decimal, date, datetime, geopoint, text, note, ...
    list_name: str | None
    choices: tuple[str, ...]  # allowed choice names ("other" added for `or_other`)
    required: bool
    relevant: str | None
    repeat: str | None  # xpath of the innermost enclosing repeat, None outside repeats
    groups: tuple[str, ...]  # xpaths of enclosing groups and repeats, outermost first
    labels: tuple[str | None, ...]

    @property
    def is_select(self) -> bool:
        return self.type in _SELECT_TYPES


@dataclass(frozen=True)
class FormSpec:
    questions: tuple[Question, ...]
    groups: tuple[Group, ...]
    choices: Mapping[str, tuple[Choice, ...]] = field(compare=True)
    translations: tuple[str | None, ...]
    version: str | None
    form_id: str | None = None
    title: str | None = None
    default_language: str | None = None

    # -- lookups -----------------------------------------------------------------------------
    def by_xpath(self, xpath: str) -> Question | None:
        return self._index()[0].get(xpath)

    def by_name(self, name: str) -> Question | None:
        return self._index()[1].get(name)

    def group(self, xpath: str) -> Group | None:
        return self._index()[2].get(xpath)

    @property
    def repeats(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if g.kind == "repeat")

    def questions_in(self, repeat: str | None) -> tuple[Question, ...]:
        """Questions whose innermost repeat is `repeat` (None: the main record)."""
        return tuple(q for q in self.questions if q.repeat == repeat)

    def derived(self, key: str, build: Callable[["FormSpec"], T]) -> T:
        """`build(self)`, worked out once per spec and kept on it: a spec never changes, and
        callers such as normalise need lookup tables that are costly to rebuild per record."""
        cache = self.__dict__.get("_derived")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_derived", cache)
        value = cache.get(key)
        if value is None:
            # Two threads may both build it; either result is the same, so no lock.
            value = cache[key] = build(self)
        return value

    def _index(self) -> tuple[dict[str, Question], dict[str, Question], dict[str, Group]]:
        cached = self.__dict__.get("_cached_index")
        if cached is None:
            by_name: dict[str, Question] = {}
            for q in self.questions:
                by_name.setdefault(q.name, q)  # first wins; pyxform warns on duplicate names
            cached = ({q.xpath: q for q in self.questions}, by_name,
                      {g.xpath: g for g in self.groups})
            object.__setattr__(self, "_cached_index", cached)
        return cached

    # -- builders ------------------------------------------------------------------------------
    @classmethod
    def from_asset_content(cls, content: Mapping[str, Any], version: str | None = None) -> "FormSpec":
        """Build from kpi's asset `content` (survey/choices/settings/translations).

        `version` is the asset's deployed version id, which is what submissions carry in
        `__version__`; the settings' own `version` is only the fallback.
        """
        if not isinstance(content, Mapping):
            raise FormSpecError("asset content: expected a JSON object")
        translations = tuple(content.get("translations") or [None])
        settings = content.get("settings") or {}
        if isinstance(settings, list):  # older kpi stored settings as a one-row list
            settings = settings[0] if settings else {}
        rows = [_content_row(row, translations) for row in content.get("survey") or []]
        choice_rows = [_content_choice(row, translations) for row in content.get("choices") or []]
        return _build(
            source="asset content", rows=rows, choice_rows=choice_rows,
            translations=translations,
            version=version or _text(settings.get("version")),
            form_id=_text(settings.get("id_string") or settings.get("form_id")),
            title=_text(settings.get("form_title")),
            default_language=_text(settings.get("default_language")),
        )

    @classmethod
    def from_xlsform(cls, path: str | Path) -> "FormSpec":
        """Build from an XLSForm workbook (sheets survey, choices, settings)."""
        from openpyxl import load_workbook

        path = Path(path)
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for bad files
            raise FormSpecError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
        try:
            sheets = {ws.title.strip().lower(): _sheet_dicts(ws) for ws in workbook.worksheets}
        finally:
            workbook.close()
        if "survey" not in sheets:
            raise FormSpecError(f"{path.name}: no 'survey' sheet")
        survey_rows, choices_rows = sheets["survey"], sheets.get("choices", [])
        settings = (sheets.get("settings") or [{}])[0]
        translations = _xlsform_translations(survey_rows + choices_rows, settings)
        rows = [_xlsform_row(row, translations) for row in survey_rows]
        choice_rows = [_xlsform_choice(row, translations) for row in choices_rows]
        return _build(
            source=path.name, rows=rows, choice_rows=choice_rows, translations=translations,
            version=_text(settings.get("version")), form_id=_text(settings.get("form_id")),
            title=_text(settings.get("form_title")),
            default_language=_text(settings.get("default_language")),
        )

    def to_asset_content(self) -> dict[str, Any]:
        """The form in kpi's asset `content` shape (what the fake Kobo server serves)."""
        groups = {g.xpath: g for g in self.groups}
        survey: list[dict[str, Any]] = []
        open_groups: list[str] = []

        def close_until(parents: tuple[str, ...]) -> None:
            while open_groups and open_groups[-1] not in parents:
                kind = groups[open_groups.pop()].kind
                survey.append({"type": f"end_{kind}"})

        for entry in self.entries():
            parents = _parents(entry.xpath)
            close_until(parents)
            if isinstance(entry, Group):
                row = {"type": f"begin_{entry.kind}", "name": entry.name, "$xpath": entry.xpath,
                       "$autoname": entry.name, "label": list(entry.labels)}
                if entry.relevant:
                    row["relevant"] = entry.relevant
                survey.append(row)
                open_groups.append(entry.xpath)
                continue
            row = {"type": entry.type, "name": entry.name, "$xpath": entry.xpath,
                   "$autoname": entry.name, "required": entry.required}
            if any(label is not None for label in entry.labels):
                row["label"] = list(entry.labels)
            if entry.list_name:
                row["select_from_list_name"] = entry.list_name
            if entry.relevant:
                row["relevant"] = entry.relevant
            survey.append(row)
        close_until(())
        choices = [{"list_name": list_name, "name": c.name, "$autovalue": c.name, "label": list(c.labels)}
                   for list_name, items in self.choices.items() for c in items]
        settings = {k: v for k, v in {"form_title": self.title, "id_string": self.form_id,
                                      "version": self.version,
                                      "default_language": self.default_language}.items() if v}
        return {"schema": "1", "survey": survey, "choices": choices, "settings": settings,
                "translations": list(self.translations), "translated": ["label"]}

    def entries(self) -> tuple[Group | Question, ...]:
        """Groups and questions in form order (a group right before its first child)."""
        order = self.__dict__.get("_entry_order")
        if order:
            return order
        return tuple(sorted([*self.groups, *self.questions], key=lambda e: e.xpath.split("/")))

    def enclosing_repeat(self, xpath: str) -> str | None:
        """The innermost repeat strictly above `xpath`, None at the main level."""
        for parent in reversed(_parents(xpath)):
            group = self.group(parent)
            if group is not None and group.kind == "repeat":
                return parent
        return None

    def referenced_names(self) -> frozenset[str]:
        """Question names used in some relevance condition (gates such as `consent`)."""
        found: set[str] = set()
        for entry in self.entries():
            found.update(re.findall(r"\$\{([^}]+)\}", entry.relevant or ""))
        return frozenset(found)


# -- shared builder ----------------------------------------------------------------------------
@dataclass
class _Row:
    number: int
    type: str
    name: str
    list_name: str | None
    or_other: bool
    required: bool
    relevant: str | None
    labels: tuple[str | None, ...]


def _build(*, source: str, rows: list[_Row], choice_rows: list[tuple[str, Choice]],
           translations: tuple[str | None, ...], version: str | None, form_id: str | None,
           title: str | None, default_language: str | None) -> FormSpec:
    choices: dict[str, list[Choice]] = {}
    for list_name, choice in choice_rows:
        if list_name and choice.name:
            choices.setdefault(list_name, []).append(choice)
    stack: list[Group] = []
    questions: list[Question] = []
    groups: list[Group] = []
    entries: list[Group | Question] = []
    for row in rows:
        if not row.type:
            continue
        if row.type in ("end_group", "end_repeat"):
            if not stack:
                raise FormSpecError(f"{source}: survey row {row.number}: '{row.type}' without a begin")
            stack.pop()
            continue
        if not row.name:
            raise FormSpecError(f"{source}: survey row {row.number}: field 'name' is empty")
        xpath = "/".join([*(g.name for g in stack), row.name])
        if row.type in ("begin_group", "begin_repeat"):
            group = Group(row.name, xpath, row.type.removeprefix("begin_"), row.relevant, row.labels)
            stack.append(group)
            groups.append(group)
            entries.append(group)
            continue
        allowed: tuple[str, ...] = ()
        if row.type in _SELECT_TYPES:
            if not row.list_name:
                raise FormSpecError(f"{source}: survey row {row.number} ({row.name}): "
                                    f"field 'type' names no choice list")
            if row.list_name not in choices:
                raise FormSpecError(f"{source}: survey row {row.number} ({row.name}): "
                                    f"choice list '{row.list_name}' is not on the choices sheet")
            allowed = tuple(c.name for c in choices[row.list_name]) + (("other",) if row.or_other else ())
        repeat = next((g.xpath for g in reversed(stack) if g.kind == "repeat"), None)
        question = Question(row.name, xpath, row.type, row.list_name, allowed, row.required,
                            row.relevant, repeat, tuple(g.xpath for g in stack), row.labels)
        questions.append(question)
        entries.append(question)
    if stack:
        raise FormSpecError(f"{source}: group '{stack[-1].xpath}' is never closed")
    spec = FormSpec(tuple(questions), tuple(groups),
                    {name: tuple(items) for name, items in choices.items()}, translations,
                    version, form_id, title, default_language)
    object.__setattr__(spec, "_entry_order", tuple(entries))
    return spec


def _parents(xpath: str) -> tuple[str, ...]:
    parts = xpath.split("/")[:-1]
    return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _text(value) is not None and str(value).strip().lower() in _TRUE_WORDS


def _split_type(raw: str) -> tuple[str, str | None, bool]:
    """'select_one yn or_other' -> ('select_one', 'yn', True)."""
    raw = " ".join(str(raw).split())
    if raw in _TYPE_ALIASES:
        return _TYPE_ALIASES[raw], None, False
    words = raw.split(" ")
    head = _TYPE_ALIASES.get(words[0], words[0])
    if head in _SELECT_TYPES and len(words) > 1:
        return head, words[1], words[-1] == "or_other"
    return head, None, False


# -- kpi asset content ---------------------------------------------------------------------------
def _aligned(value: Any, translations: tuple[str | None, ...]) -> tuple[str | None, ...]:
    if isinstance(value, list):
        padded = list(value) + [None] * (len(translations) - len(value))
        return tuple(_text(v) for v in padded[: len(translations)])
    return (_text(value),) + (None,) * (len(translations) - 1)


def _content_row(row: Mapping[str, Any], translations: tuple[str | None, ...]) -> _Row:
    kind, list_name, or_other = _split_type(row.get("type", ""))
    list_name = _text(row.get("select_from_list_name")) or list_name
    return _Row(0, kind, _text(row.get("name") or row.get("$autoname")) or "", list_name, or_other,
                _flag(row.get("required")), _text(row.get("relevant")),
                _aligned(row.get("label"), translations))


def _content_choice(row: Mapping[str, Any], translations: tuple[str | None, ...]) -> tuple[str, Choice]:
    name = _text(row.get("name") or row.get("$autovalue")) or ""
    return _text(row.get("list_name")) or "", Choice(name, _aligned(row.get("label"), translations))


# -- XLSForm -----------------------------------------------------------------------------------
def _sheet_dicts(ws) -> list[dict[str, Any]]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        return []
    names = [_text(h) for h in header]
    out = []
    for number, values in enumerate(rows, start=2):
        row = {n: v for n, v in zip(names, values) if n is not None and v not in (None, "")}
        if row:
            row["__row__"] = number
            out.append(row)
    return out


def _xlsform_translations(rows: Iterable[Mapping[str, Any]], settings: Mapping[str, Any]) -> tuple[str | None, ...]:
    found: list[str | None] = []
    for row in rows:
        for key in row:
            if key == "label" and None not in found:
                found.append(None)
            elif key.startswith("label::"):
                lang = key.split("::", 1)[1].strip()
                if lang not in found:
                    found.append(lang)
    default = _text(settings.get("default_language"))
    if default in found:  # the default language first, as kpi lists it
        found.remove(default)
        found.insert(0, default)
    return tuple(found) or (None,)


def _xlsform_labels(row: Mapping[str, Any], translations: tuple[str | None, ...]) -> tuple[str | None, ...]:
    return tuple(_text(row.get("label" if lang is None else f"label::{lang}")) for lang in translations)


def _xlsform_row(row: Mapping[str, Any], translations: tuple[str | None, ...]) -> _Row:
    kind, list_name, or_other = _split_type(row.get("type", ""))
    return _Row(row["__row__"], kind, _text(row.get("name")) or "", list_name, or_other,
                _flag(row.get("required")), _text(row.get("relevant")), _xlsform_labels(row, translations))


def _xlsform_choice(row: Mapping[str, Any], translations: tuple[str | None, ...]) -> tuple[str, Choice]:
    list_name = _text(row.get("list_name") or row.get("list name")) or ""
    return list_name, Choice(_text(row.get("name")) or "", _xlsform_labels(row, translations))

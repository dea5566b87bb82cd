"""One Kobo submission record (XPath keys, string values) -> typed answers keyed by question name.

Pure: no database, no Flask. The webhook, the pull sync and the export import all end here,
so the same submission gives the same result whichever way it arrived. Bad answers never
raise; they become `problems`, which the ingestion uses to quarantine the submission.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from crisis_ct.kobo.answer_values import CONVERTERS, Problem, as_text, not_a_choice, parse_geopoint
from crisis_ct.kobo.formspec import FormSpec, Question

__all__ = ["NormalisedSubmission", "NotASubmission", "Problem", "normalise",
           "parse_geopoint", "parse_submission_time", "with_uuid_prefix"]

# Types whose value is kept as the string the device sent.
_NO_VALUE_TYPES = {"note"}


class NotASubmission(ValueError):
    """The payload is not a submission at all (not an object, or no identity)."""


@dataclass(frozen=True)
class NormalisedSubmission:
    kobo_id: int | None
    instance_id: str
    deprecated_id: str | None
    root_id: str | None
    asset_uid: str | None
    form_version: str | None
    submitted_at: datetime | None
    site_code: str | None
    site_type: str | None
    assessment_date: date | None
    ki_role: str | None
    ki_sex: str | None
    geopoint: tuple[float, float] | None
    answers: dict[str, object] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    # The record's `__version__` is not the spec's version. Not a problem by itself (answers that
    # do not fit the form show up as problems anyway); the caller decides whether to quarantine.
    unknown_version: bool = False
    unknown_keys: tuple[str, ...] = ()

    @property
    def edit_chain_id(self) -> str:
        """The identity shared by every version of this submission, when the server says it."""
        return self.root_id or self.instance_id


def with_uuid_prefix(value: Any) -> str | None:
    """Instance ids compare as 'uuid:<hex>' whether or not the source wrote the prefix."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text if text.startswith("uuid:") else f"uuid:{text}"


def parse_submission_time(value: Any) -> datetime | None:
    """Kobo's `_submission_time` is UTC without a zone; return an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def normalise(record: Mapping, form: FormSpec) -> NormalisedSubmission:
    if not isinstance(record, Mapping):
        raise NotASubmission(f"expected a JSON object, got {type(record).__name__}")
    instance_id = with_uuid_prefix(record.get("meta/instanceID"))
    if instance_id is None and _present(record.get("_uuid")):
        instance_id = with_uuid_prefix(record.get("_uuid"))
    if instance_id is None:
        raise NotASubmission("no meta/instanceID and no _uuid: cannot identify the submission")

    plan = _plan(form)
    problems: list[Problem] = []
    answers, unknown = _read_level(record, plan, repeat=None, problems=problems)
    submitted_at = parse_submission_time(record.get("_submission_time"))
    if _present(record.get("_submission_time")) and submitted_at is None:
        problems.append(Problem("invalid_submission_time",
                                f"_submission_time: '{record.get('_submission_time')}' is not a date-time",
                                None, str(record.get("_submission_time"))))
    problems.extend(_consent_problems(answers, plan))
    if not any(p.code == "consent_not_given" for p in problems):
        problems.extend(_missing_required(record, plan))

    record_version = _str_or_none(record.get("__version__"))
    location = _main_geopoint(answers, plan)
    assessment_date = answers.get("assessment_date")
    return NormalisedSubmission(
        kobo_id=_int_or_none(record.get("_id")),
        instance_id=instance_id,
        deprecated_id=with_uuid_prefix(record.get("meta/deprecatedID")),
        root_id=with_uuid_prefix(record.get("meta/rootUuid")),
        asset_uid=_str_or_none(record.get("_xform_id_string")),
        form_version=record_version,
        submitted_at=submitted_at,
        site_code=_answer_str(answers, "site_id"),
        site_type=_answer_str(answers, "site_type"),
        assessment_date=assessment_date if isinstance(assessment_date, date) else None,
        ki_role=_answer_str(answers, "ki_role"),
        ki_sex=_answer_str(answers, "ki_sex"),
        geopoint=(location[0], location[1]) if location else None,
        answers=answers,
        problems=tuple(problems),
        unknown_version=bool(form.version and record_version and record_version != form.version),
        unknown_keys=tuple(unknown),
    )


# -- the form's lookups, worked out once per spec ----------------------------------------------
# What a key of a record means at one level (the main record or one repeat's rows). It depends
# on the key and the level only, never on the value, so it is decided once per spec and key.
_SKIP, _REPEAT, _UNKNOWN, _ANSWER, _CHOICE = "skip", "repeat", "unknown", "answer", "choice"
# Keys outside the form (misspelt, from another version) are classified each time beyond
# this many per level, so a stream of made-up keys cannot grow the table without bound.
_MAX_EXTRA_KEYS = 2000


@dataclass(frozen=True)
class _Plan:
    form: FormSpec
    # level (None: main record; else the repeat's xpath) -> record key -> action tuple:
    # (_SKIP,) | (_UNKNOWN,) | (_REPEAT, group xpath, group name)
    # | (_ANSWER, question, converter, choices) | (_CHOICE, question, question name, choices)
    levels: dict[str | None, dict[object, tuple]]
    required: tuple[Question, ...]  # always asked: checked for presence in every record
    has_consent: bool
    geopoint_names: tuple[str, ...]


def _plan(form: FormSpec) -> _Plan:
    return form.derived("normalise_plan", _build_plan)


def _build_plan(form: FormSpec) -> _Plan:
    levels: dict[str | None, dict[object, tuple]] = {}
    known = [q.xpath for q in form.questions] + [g.xpath for g in form.groups]
    for repeat in [None, *(g.xpath for g in form.repeats)]:
        keys = list(known)
        if repeat is not None:  # the relative spelling of a repeat's own keys too
            keys += [k[len(repeat) + 1:] for k in known if k.startswith(repeat + "/")]
        levels[repeat] = {key: _classify(form, key, repeat) for key in keys}
    required = tuple(
        q for q in form.questions
        if q.required and not q.repeat and not q.relevant and q.type not in _NO_VALUE_TYPES
        and not any(form.group(g).relevant for g in q.groups))
    geopoints = ("location", *(q.name for q in form.questions if q.type == "geopoint" and q.repeat is None))
    return _Plan(form, levels, required, form.by_name("consent") is not None, geopoints)


def _classify(form: FormSpec, key: object, repeat: str | None) -> tuple:
    if not isinstance(key, str) or _is_metadata(key):
        return (_SKIP,)
    # Some servers write repeat-row keys relative to the repeat; accept both spellings.
    prefix = "" if repeat is None else repeat + "/"
    xpath = key if repeat is None or key.startswith(prefix) else prefix + key
    group = form.group(xpath)
    if group is not None and group.kind == "repeat":
        return (_REPEAT, group.xpath, group.name)
    question = form.by_xpath(xpath)
    if question is None or question.repeat != repeat:
        return (_UNKNOWN,)
    if question.type in _NO_VALUE_TYPES:
        return (_SKIP,)
    choices = frozenset(question.choices) if question.choices else None
    if question.type == "select_one" and choices is not None:
        # Most answers: checked inline by _read_level, without a converter call.
        return (_CHOICE, question, question.name, choices)
    return (_ANSWER, question, CONVERTERS.get(question.type, as_text), choices)


def _action(plan: _Plan, table: dict[object, tuple], key: object, repeat: str | None) -> tuple:
    action = table.get(key)
    if action is None:
        action = _classify(plan.form, key, repeat)
        if len(table) < _MAX_EXTRA_KEYS:
            table[key] = action
    return action


# -- answers ---------------------------------------------------------------------------------
def _read_level(values: Mapping, plan: _Plan, *, repeat: str | None,
                problems: list[Problem]) -> tuple[dict[str, object], list[str]]:
    """Typed answers of one level: the main record (repeat=None) or one repeat row."""
    answers: dict[str, object] = {}
    unknown: list[str] = []
    table = plan.levels[repeat]
    for key, raw in values.items():
        action = table.get(key) or _action(plan, table, key, repeat)
        kind = action[0]
        if kind is _SKIP:
            continue
        if kind is _CHOICE or kind is _ANSWER:
            if type(raw) is str:
                text = raw.strip()
                if not text:
                    continue
            elif raw is None:
                continue
            else:
                text = str(raw).strip()
            if kind is _CHOICE:
                if text in action[3]:
                    answers[action[2]] = text
                else:
                    problems.append(not_a_choice(action[1], [text]))
                continue
            question = action[1]
            value, problem = action[2](question, text, action[3])
            if problem is not None:
                problems.append(problem)
            else:
                answers[question.name] = value
        elif kind is _REPEAT:
            answers[action[2]] = _read_repeat(raw, plan, action[1], problems)
        elif kind is _UNKNOWN:
            unknown.append(key)
    return answers, unknown


def _read_repeat(raw: Any, plan: _Plan, repeat_xpath: str, problems: list[Problem]) -> list[dict]:
    if not isinstance(raw, list):
        problems.append(Problem("invalid_repeat", f"{repeat_xpath}: expected a list of rows",
                                repeat_xpath, str(raw)[:80]))
        return []
    rows = []
    for item in raw:
        if not isinstance(item, Mapping):
            problems.append(Problem("invalid_repeat", f"{repeat_xpath}: a row is not an object",
                                    repeat_xpath, str(item)[:80]))
            continue
        row, _ = _read_level(item, plan, repeat=repeat_xpath, problems=problems)
        rows.append(row)
    return rows


# -- form-level checks --------------------------------------------------------------------------
def _consent_problems(answers: Mapping[str, object], plan: _Plan) -> list[Problem]:
    if not plan.has_consent:
        return []
    consent = answers.get("consent")
    if consent == "yes":
        return []
    shown = "not answered" if consent is None else f"'{consent}'"
    return [Problem("consent_not_given", f"consent: {shown}; only consented interviews are kept for analysis",
                    "consent", None if consent is None else str(consent))]


def _missing_required(record: Mapping, plan: _Plan) -> list[Problem]:
    """Required questions that are always asked: no relevance on them or their groups.

    Answers behind a relevance condition may be legitimately absent; evaluating XPath
    relevance here would be a second form engine, so those are not checked.
    """
    return [Problem("missing_required", f"{question.xpath}: required answer is missing", question.name)
            for question in plan.required if not _present(record.get(question.xpath))]


# -- small helpers ------------------------------------------------------------------------------
def _is_metadata(key: str) -> bool:
    last = key.rsplit("/", 1)[-1]
    return key.startswith(("_", "meta/", "formhub/")) or last.startswith("_")


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _str_or_none(value: Any) -> str | None:
    return str(value).strip() or None if _present(value) else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _answer_str(answers: Mapping[str, object], name: str) -> str | None:
    value = answers.get(name)
    return value if isinstance(value, str) else None


def _main_geopoint(answers: Mapping[str, object], plan: _Plan) -> tuple | None:
    """The site location: question `location`, else the first geopoint outside repeats."""
    for name in plan.geopoint_names:
        value = answers.get(name)
        if isinstance(value, tuple):
            return value
    return None

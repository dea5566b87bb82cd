"""Realistic fake Kobo submissions for demo data, benchmarks and tests.

Records have the data endpoint's shape (XPath keys, string values, all metadata keys) and
respect the form: choices come from the form's lists, non-relevant groups are left out (the
form's own relevance conditions are evaluated), consent is given. `risk` (0..1) skews answers
toward the codes that signal trafficking risk.
"""
from __future__ import annotations

import copy
import random
import re
import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Collection, Mapping

from crisis_ct.kobo.formspec import FormSpec, Group, Question

__all__ = ["make_edit", "make_submission", "relevant"]

_NOT_ANSWERED = ("dnk", "pnta", "not_observed")
# Lists whose risky codes are known; lists not named here get uniform answers.
_RISKY = {"yn": {"yes"}, "freq4": {"many", "most"}, "obs3": {"none", "partial"}}
# Protective-factor questions (SVC_*): the absence of the service is the risk.
_RISKY_INVERSE = {"yn": {"no"}, "freq4": {"none", "few"}, "obs3": {"none", "partial"}}
_MISSING_RATE = 0.06
_METADATA_TYPES = {"start", "end", "today", "deviceid", "username", "note", "calculate"}


def make_submission(form: FormSpec, *, site_code: str, site_type: str, assessment_date: date,
                    submitted_at: datetime, kobo_id: int, asset_uid: str, version: str | None,
                    rng: random.Random, risk: float = 0.3,
                    answers_override: Mapping[str, str | None] | None = None,
                    location: tuple[float, float] | None = None,
                    risky_answers: Mapping[str, Collection[str]] | None = None) -> dict[str, Any]:
    """One submission record; `answers_override` maps question names to raw answer strings
    (None leaves the question unanswered). `risky_answers` (question name -> codes that signal
    risk, e.g. the catalogue's codes at phase >= 3) replaces the built-in guess per list."""
    fixed: dict[str, str | None] = {"consent": "yes", "site_id": site_code, "site_type": site_type,
                                    "assessment_date": assessment_date.isoformat()}
    fixed.update(answers_override or {})
    if location is None:
        location = (round(rng.uniform(-5.0, 15.0), 6), round(rng.uniform(10.0, 40.0), 6))
    maker = _AnswerMaker(form, rng, max(0.0, min(1.0, risk)), fixed, location, risky_answers or {})
    answers = maker.fill(repeat=None, values={})

    started = datetime.combine(assessment_date, time(8, 0), tzinfo=timezone.utc) + \
        timedelta(minutes=rng.randint(0, 8 * 60))
    ended = started + timedelta(minutes=rng.randint(20, 75))
    instance = _uuid(rng)
    geopoint = maker.first_geopoint(answers)
    record: dict[str, Any] = {
        "_id": int(kobo_id),
        "formhub/uuid": uuid.uuid5(uuid.NAMESPACE_URL, f"kobo-form:{asset_uid}").hex,
        "start": started.isoformat(timespec="milliseconds"),
        "end": ended.isoformat(timespec="milliseconds"),
        **answers,
        "__version__": version,
        "meta/instanceID": f"uuid:{instance}",
        "_xform_id_string": asset_uid,
        "_uuid": instance,
        "_attachments": [],
        "_status": "submitted_via_web",
        "_geolocation": list(geopoint) if geopoint else [None, None],
        "_submission_time": _kobo_time(submitted_at),
        "_tags": [],
        "_notes": [],
        "_validation_status": {},
        "_submitted_by": rng.choice(["enumerator_1", "enumerator_2", None]),
    }
    return record


def make_edit(record: Mapping[str, Any], changes: Mapping[str, Any], *, rng: random.Random) -> dict[str, Any]:
    """The record as Kobo sends it after an edit: new instanceID, same `_id`, chain ids set.

    `changes` is keyed by XPath (the record's own keys); None removes an answer.
    """
    edited = copy.deepcopy(dict(record))
    for xpath, value in changes.items():
        if value is None:
            edited.pop(xpath, None)
        else:
            edited[xpath] = value
    old_instance = record.get("meta/instanceID") or f"uuid:{record.get('_uuid')}"
    new_uuid = _uuid(rng)
    edited["meta/deprecatedID"] = old_instance
    edited["meta/rootUuid"] = record.get("meta/rootUuid") or old_instance
    edited["meta/instanceID"] = f"uuid:{new_uuid}"
    edited["_uuid"] = new_uuid
    return edited


# -- answers ---------------------------------------------------------------------------------
class _AnswerMaker:
    def __init__(self, form: FormSpec, rng: random.Random, risk: float,
                 fixed: Mapping[str, str | None], location: tuple[float, float],
                 risky_answers: Mapping[str, Collection[str]]):
        self.form, self.rng, self.risk, self.fixed, self.location = form, rng, risk, fixed, location
        self.risky_answers = risky_answers
        # Gates open whole sections (consent, the sensitive module); a yes/no that only
        # reveals its own follow-up question (rec_offers -> rec_offers_types) is an answer
        # like any other and must follow `risk`.
        self.gates = frozenset(name for group in form.groups
                               for name in re.findall(r"\$\{([^}]+)\}", group.relevant or ""))

    def fill(self, repeat: str | None, values: dict[str, str]) -> dict[str, Any]:
        """Answers of one level (main record or one repeat row), keyed by full XPath."""
        out: dict[str, Any] = {}
        skipped: set[str] = set()
        for entry in self.form.entries():
            inner_repeat = entry.repeat if isinstance(entry, Question) else self.form.enclosing_repeat(entry.xpath)
            if inner_repeat != repeat or any(p in skipped for p in _parents(entry.xpath)):
                continue
            if entry.relevant and not relevant(entry.relevant, values):
                skipped.add(entry.xpath)
                continue
            if isinstance(entry, Group):
                if entry.kind == "repeat":
                    out[entry.xpath] = [self.fill(entry.xpath, dict(values))
                                        for _ in range(self.rng.randint(1, 3))]
                continue
            value = self.answer(entry)
            if value is not None:
                out[entry.xpath] = value
                values[entry.name] = value
        return out

    def answer(self, question: Question) -> str | None:
        if question.name in self.fixed:
            return self.fixed[question.name]
        kind = question.type
        if kind in _METADATA_TYPES:
            return None  # start/end are set with the metadata; the rest has no answer to invent
        if kind == "select_one":
            return self._select_one(question)
        if kind == "select_multiple":
            return self._select_multiple(question)
        if kind == "integer":
            return str(self.rng.randint(0, int(20 + 480 * self.risk)))
        if kind == "decimal":
            return str(round(self.rng.uniform(0, 100), 2))
        if kind == "date":
            return self.fixed.get("assessment_date")
        if kind == "geopoint":
            lat, lon = self.location
            return f"{lat} {lon} {round(self.rng.uniform(100, 900), 1)} {round(self.rng.uniform(3, 25), 1)}"
        if kind == "text":
            return f"{question.name}-{self.rng.randint(1, 999)}"
        return None

    def _select_one(self, question: Question) -> str | None:
        choices = [c for c in question.choices if c != "other"]
        if not choices:
            return None
        answerable = [c for c in choices if c not in _NOT_ANSWERED] or choices
        if question.name in self.gates:
            # Gates (consent, "may the sensitive module be asked") open most of the time.
            return "yes" if "yes" in answerable and self.rng.random() < 0.9 else self.rng.choice(answerable)
        missing = [c for c in choices if c in _NOT_ANSWERED]
        if missing and self.rng.random() < _MISSING_RATE:
            return self.rng.choice(missing)
        risky = [c for c in answerable if c in self._risky_codes(question)]
        safe = [c for c in answerable if c not in risky]
        if not risky or not safe:
            return self.rng.choice(answerable)
        return self.rng.choice(risky if self.rng.random() < self.risk else safe)

    def _risky_codes(self, question: Question) -> Collection[str]:
        if question.name in self.risky_answers:
            return self.risky_answers[question.name]
        table = _RISKY_INVERSE if question.name.startswith("svc_") else _RISKY
        return table.get(question.list_name or "", set())

    def _select_multiple(self, question: Question) -> str | None:
        options = [c for c in question.choices if c not in _NOT_ANSWERED and c not in ("none", "other")]
        if "none" in question.choices and (not options or self.rng.random() > self.risk):
            return "none"
        risky = [c for c in options if c in self.risky_answers.get(question.name, ())]
        if risky:
            options = risky  # only reached with probability `risk`
        if not options:
            return None
        picked = set(self.rng.sample(options, self.rng.randint(1, min(3, len(options)))))
        return " ".join(c for c in question.choices if c in picked)  # form order, like Collect

    def first_geopoint(self, answers: Mapping[str, Any]) -> tuple[float, float] | None:
        for question in self.form.questions:
            if question.type == "geopoint" and question.repeat is None and question.xpath in answers:
                lat, lon = answers[question.xpath].split()[:2]
                return float(lat), float(lon)
        return None


def _parents(xpath: str) -> list[str]:
    parts = xpath.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _kobo_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# -- relevance: the small XPath subset XLSForms use in `relevant` -------------------------------------
_TOKEN = re.compile(r"\s*(?:(\$\{[^}]+\})|('[^']*'|\"[^\"]*\")|(-?\d+(?:\.\d+)?)|(!=|<=|>=|=|<|>)"
                    r"|([(),])|([A-Za-z][\w-]*))")


class _Unsupported(Exception):
    pass


def relevant(expression: str, values: Mapping[str, str]) -> bool:
    """Evaluate a relevance condition against answers so far (name -> raw string).

    Supports ${name}, literals, = != < <= > >=, and, or, not(), selected(), count-selected(),
    string-length(), true(), false(). Anything else counts as relevant: a generator that asks
    one question too many is safer than one that silently drops a whole section.
    """
    try:
        parser = _Parser(_tokens(expression), values)
        result = parser.expression()
        if parser.pos != len(parser.tokens):
            raise _Unsupported(expression)
        return _truthy(result)
    except _Unsupported:
        return True


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    kinds = ("ref", "str", "num", "op", "punct", "word")
    while pos < len(expression.rstrip()):
        match = _TOKEN.match(expression, pos)
        if not match or match.end() == pos:
            raise _Unsupported(expression)
        kind = kinds[match.lastindex - 1]
        tokens.append((kind, match.group(match.lastindex)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], values: Mapping[str, str]):
        self.tokens, self.values, self.pos = tokens, values, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Unsupported("unexpected end")
        self.pos += 1
        return token

    def expression(self) -> Any:
        left = self.conjunction()
        while self.peek() == ("word", "or"):
            self.take()
            right = self.conjunction()
            left = _truthy(left) or _truthy(right)
        return left

    def conjunction(self) -> Any:
        left = self.comparison()
        while self.peek() == ("word", "and"):
            self.take()
            right = self.comparison()
            left = _truthy(left) and _truthy(right)
        return left

    def comparison(self) -> Any:
        left = self.primary()
        token = self.peek()
        if token and token[0] == "op":
            self.take()
            return _compare(left, token[1], self.primary())
        return left

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "ref":
            return self.values.get(text[2:-1], "")
        if kind == "str":
            return text[1:-1]
        if kind == "num":
            return float(text)
        if (kind, text) == ("punct", "("):
            value = self.expression()
            self.expect(")")
            return value
        if kind == "word":
            return self.call(text)
        raise _Unsupported(text)

    def expect(self, char: str) -> None:
        if self.take() != ("punct", char):
            raise _Unsupported(char)

    def call(self, name: str) -> Any:
        self.expect("(")
        args: list[Any] = []
        while self.peek() != ("punct", ")"):
            args.append(self.expression())
            if self.peek() == ("punct", ","):
                self.take()
        self.take()
        if name == "not" and len(args) == 1:
            return not _truthy(args[0])
        if name == "selected" and len(args) == 2:
            return str(args[1]) in str(args[0]).split()
        if name == "count-selected" and len(args) == 1:
            return float(len(str(args[0]).split()))
        if name == "string-length" and len(args) == 1:
            return float(len(str(args[0])))
        if name in ("true", "false") and not args:
            return name == "true"
        raise _Unsupported(name)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        try:
            left, right = float(left), float(right)
        except (TypeError, ValueError):
            return op == "!="  # a missing number compares unequal to anything
    else:
        left, right = str(left), str(right)
    return {"=": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}[op]

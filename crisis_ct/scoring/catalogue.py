"""The indicator catalogue: forms/indicators.yaml loaded into frozen dataclasses.

Reading and checking the file (every problem named by file, entry and field, all
listed at once) is catalogue_file.py's job. Nothing here knows about Flask or
the database; scoring rules and the form builder both read the same objects.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable

from crisis_ct.languages import LANGUAGES

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CATALOGUE_PATH = REPO_ROOT / "forms" / "indicators.yaml"

DOMAINS = ("V", "R", "E", "S", "C")
COMBINES = ("mode", "yes_prevails", "mean_1sd", "max", "confirmed_max")
MIN_PHASE, MAX_PHASE = 1, 5

_ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]$")
_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; `problems` lists each one."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _EntryError(Exception):
    """One problem in one entry; collected into a CatalogueError."""

    def __init__(self, field_name: str, message: str):
        self.field_name = field_name
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Choice:
    code: str
    label: dict[str, str]
    phase: int | None  # None: not scored (missing)


@dataclass(frozen=True)
class Detail:
    """A non-scored follow-up select_multiple, asked only when its indicator is "yes"."""

    name: str
    list_name: str
    question: dict[str, str]
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str  # id.lower(): the Kobo question name
    domain: str
    critical: bool
    answer_type: str  # 'select_one' | 'select_multiple' | 'integer'
    list_name: str | None
    choices: tuple[Choice, ...]
    combine: str
    missing: frozenset[str]
    thresholds: tuple[tuple[int, int], ...]  # (min, phase), ascending; integer only
    sensitive: bool
    transit_only: bool
    label: dict[str, str]
    question: dict[str, str]
    hint: dict[str, str] | None = None
    details: tuple[Detail, ...] = ()
    asked_if: tuple[str, str] | None = None  # (indicator id, answer code)

    # Lookups the scoring rules use for every KI answer; computed once per indicator
    # (cached_property writes the instance __dict__ directly, so frozen dataclasses allow it).
    @cached_property
    def code_phases(self) -> dict[str, int | None]:
        """Answer code -> phase for the choices that are not missing codes (first choice wins,
        as in phase_of)."""
        phases: dict[str, int | None] = {}
        for choice in self.choices:
            if choice.code not in self.missing:
                phases.setdefault(choice.code, choice.phase)
        return phases

    @cached_property
    def choice_rank(self) -> dict[str, int]:
        """Answer code -> its position among the choices (the last of duplicate codes wins)."""
        return {choice.code: index for index, choice in enumerate(self.choices)}

    @cached_property
    def sorted_thresholds(self) -> tuple[tuple[int, int], ...]:
        return tuple(sorted(self.thresholds))

    def phase_of(self, code: str) -> int | None:
        """Phase of one answer code (or of a count, for integer indicators).

        None for codes in `missing`; KeyError for a code that is not a choice,
        ValueError for a count that is not a non-negative number.
        """
        if self.answer_type == "integer":
            return self.phase_of_count(_parse_count(code))
        for choice in self.choices:
            if choice.code == code:
                return choice.phase
        raise KeyError(f"{self.id}: {code!r} is not a choice")

    def phase_of_count(self, value: float) -> int:
        if not self.thresholds:
            raise ValueError(f"{self.id} is not an integer indicator")
        if isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{self.id}: count {value!r} is not a non-negative number")
        return [phase for minimum, phase in self.thresholds if minimum <= value][-1]

    def phase_of_selection(self, codes: Iterable[str]) -> int | None:
        """A select_multiple answer's phase: the highest phase among the chosen codes.

        Accepts Kobo's space-separated string or any iterable of codes; None when
        nothing scored was chosen.
        """
        if isinstance(codes, str):
            codes = codes.split()
        phases = [p for p in (self.phase_of(code) for code in codes) if p is not None]
        return max(phases) if phases else None


@dataclass(frozen=True)
class Settings:
    area_threshold_share: float
    area_min_sites: int
    area_min_population_coverage: float
    current_days: int
    expired_days: int
    min_kis: int
    round_window_days: int


@dataclass(frozen=True)
class Catalogue:
    version: str
    settings: Settings
    indicators: tuple[Indicator, ...]
    # answer type name -> its choices with labels; phase is None here because
    # phases belong to each indicator, not to the shared scale
    answer_types: tuple[tuple[str, tuple[Choice, ...]], ...] = ()
    source: str = field(default="", compare=False)

    @cached_property
    def indicator_by_id(self) -> dict[str, Indicator]:
        by_id: dict[str, Indicator] = {}
        for indicator in self.indicators:
            by_id.setdefault(indicator.id, indicator)
        return by_id

    @cached_property
    def indicator_id_by_name(self) -> dict[str, str]:
        """Kobo question name -> indicator id (the last of duplicate names wins, as the
        submission reader always did)."""
        return {indicator.name: indicator.id for indicator in self.indicators}

    @cached_property
    def follow_up_id_by_name(self) -> dict[str, str]:
        """Kobo question name of each non-scored follow-up (an indicator's `details`) -> the id
        mitigation rules give it: the name upper-cased (rec_offers_types -> REC_OFFERS_TYPES)."""
        return {detail.name: detail.name.upper() for indicator in self.indicators for detail in indicator.details}

    def get(self, indicator_id: str) -> Indicator:
        indicator = self.indicator_by_id.get(indicator_id)
        if indicator is not None:
            return indicator
        raise KeyError(f"no indicator {indicator_id!r} in catalogue {self.version}")

    def by_name(self, question_name: str) -> Indicator:
        """Indicator by Kobo question name; a group path ('exp/rec_organs') is accepted."""
        name = question_name.rsplit("/", 1)[-1]
        for indicator in self.indicators:
            if indicator.name == name:
                return indicator
        raise KeyError(f"no indicator question {question_name!r} in catalogue {self.version}")

    def answer_type_choices(self, name: str) -> tuple[Choice, ...]:
        for type_name, choices in self.answer_types:
            if type_name == name:
                return choices
        raise KeyError(f"no answer type {name!r}")

    def to_dict(self, lang: str | None = None) -> dict:
        """JSON-able view; with `lang`, labels are plain strings in that language."""
        if lang is not None and lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")

        def text(labels: dict[str, str] | None) -> Any:
            if labels is None:
                return None
            return dict(labels) if lang is None else labels[lang]

        def choices(items: tuple[Choice, ...]) -> list[dict]:
            return [{"code": c.code, "label": text(c.label), "phase": c.phase} for c in items]

        return {
            "version": self.version,
            "settings": dict(vars(self.settings)),
            "indicators": [
                {
                    "id": ind.id,
                    "name": ind.name,
                    "domain": ind.domain,
                    "critical": ind.critical,
                    "answer_type": ind.answer_type,
                    "list_name": ind.list_name,
                    "combine": ind.combine,
                    "missing": sorted(ind.missing),
                    "thresholds": [{"min": m, "phase": p} for m, p in ind.thresholds],
                    "sensitive": ind.sensitive,
                    "transit_only": ind.transit_only,
                    "label": text(ind.label),
                    "question": text(ind.question),
                    "hint": text(ind.hint),
                    "choices": choices(ind.choices),
                    "details": [
                        {"name": d.name, "question": text(d.question), "choices": choices(d.choices)}
                        for d in ind.details
                    ],
                    "asked_if": (
                        {"indicator": ind.asked_if[0], "answer": ind.asked_if[1]}
                        if ind.asked_if else None
                    ),
                }
                for ind in self.indicators
            ],
        }


def _parse_count(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a count") from None
    return number


# Reading and checking the file lives beside this module; its entry points stay importable here.
from crisis_ct.scoring.catalogue_file import load_catalogue, parse_catalogue  # noqa: E402,F401

"""Small hand-built catalogues and interviews for scoring tests.

The indicators mirror shared/domain.md §1.3/§2.2 (ids, answer scales, phases) but only
a few per domain, so each test states exactly what it feeds the rules.
"""
from __future__ import annotations

from datetime import date

from crisis_ct.scoring.catalogue import Catalogue, Choice, Indicator, Settings
from crisis_ct.scoring.rules import KiInterview

MISSING = frozenset({"dnk", "pnta"})
ROUND_DAY = date(2025, 3, 1)
AS_OF = date(2025, 3, 10)


def _choices(phases: dict[str, int | None]) -> tuple[Choice, ...]:
    scored = tuple(Choice(code, {"en": code, "fr": code}, phase) for code, phase in phases.items())
    return scored + tuple(Choice(code, {"en": code, "fr": code}, None) for code in sorted(MISSING))


def indicator(indicator_id: str, domain: str, answer_type: str, phases: dict[str, int | None],
              *, combine: str, critical: bool = False, thresholds=(), transit_only=False,
              asked_if=None) -> Indicator:
    return Indicator(
        id=indicator_id, name=indicator_id.lower(), domain=domain, critical=critical,
        answer_type=answer_type, list_name=None if answer_type == "integer" else f"l_{indicator_id.lower()}",
        choices=() if answer_type == "integer" else _choices(phases), combine=combine,
        missing=MISSING, thresholds=tuple(thresholds), sensitive=domain == "E",
        transit_only=transit_only, label={"en": indicator_id, "fr": indicator_id},
        question={"en": indicator_id, "fr": indicator_id}, asked_if=asked_if,
    )


def yes_no(indicator_id: str, domain: str, *, critical: bool = False, combine: str = "yes_prevails",
           inverse: bool = False, **kwargs) -> Indicator:
    """yn item: yes -> 3 (4 when critical); SVC items are inverse (no -> 3)."""
    risk = 4 if critical else 3
    phases = {"yes": 1, "no": risk} if inverse else {"yes": risk, "no": 1}
    return indicator(indicator_id, domain, "select_one", phases, combine=combine,
                     critical=critical, **kwargs)


def freq4(indicator_id: str, domain: str, *, combine: str = "mode") -> Indicator:
    return indicator(indicator_id, domain, "select_one",
                     {"none": 1, "few": 2, "many": 3, "most": 4}, combine=combine)


def count(indicator_id: str, domain: str, *, combine: str = "mean_1sd") -> Indicator:
    return indicator(indicator_id, domain, "integer", {}, combine=combine,
                     thresholds=((0, 1), (50, 2), (200, 3), (1000, 4)))


def multi(indicator_id: str, domain: str, phases: dict[str, int]) -> Indicator:
    return indicator(indicator_id, domain, "select_multiple", phases, combine="max")


def settings(**overrides) -> Settings:
    values = dict(area_threshold_share=0.25, area_min_sites=3, area_min_population_coverage=0.5,
                  current_days=90, expired_days=180, min_kis=3, round_window_days=30)
    values.update(overrides)
    return Settings(**values)


SMALL_INDICATORS = (
    freq4("POP_UASC", "V"),
    freq4("LIV_DEBT", "V"),
    count("POP_NEW_ARRIVALS", "V"),
    multi("LIV_NEG_COPING", "V", {"none": 1, "selling_assets": 2, "begging": 3, "children_work": 3}),
    yes_no("REC_OFFERS", "R"),
    yes_no("REC_LEFT_NO_NEWS", "R", critical=True),
    yes_no("TRN_SMUGGLERS", "R", transit_only=True),
    freq4("EXP_CHILD_LABOUR", "E", combine="yes_prevails"),
    yes_no("EXP_FORCED_WORK", "E"),
    yes_no("EXP_CONFINEMENT", "E", critical=True),
    yes_no("EXP_SEX_EXCHANGE", "E", critical=True),
    yes_no("DOC_HELD_BY_OTHERS", "E", critical=True),
    indicator("ENV_LIGHTING", "S", "select_one", {"none": 3, "partial": 2, "adequate": 1}, combine="mode"),
    multi("ENV_ARMED_ACTORS", "S", {"none": 1, "nearby": 3, "at_entrance": 4, "inside": 4}),
    yes_no("SVC_REFERRAL", "C", combine="mode", inverse=True),
    yes_no("SVC_CP_GBV", "C", combine="mode", inverse=True),
    yes_no("SVC_INFO", "C", combine="mode", inverse=True),
)


def catalogue(indicators=SMALL_INDICATORS, **setting_overrides) -> Catalogue:
    return Catalogue(version="test-1", settings=settings(**setting_overrides),
                     indicators=tuple(indicators))


def interview(submission_id: int, answers: dict, *, day: date = ROUND_DAY,
              sex: str | None = "female") -> KiInterview:
    return KiInterview(submission_id=submission_id, assessment_date=day, ki_sex=sex, answers=answers)


# Answers describing a calm site: nothing above phase 1, referral pathway present.
CALM_ANSWERS = {
    "POP_UASC": "none", "LIV_DEBT": "none", "POP_NEW_ARRIVALS": 10, "LIV_NEG_COPING": ("none",),
    "REC_OFFERS": "no", "REC_LEFT_NO_NEWS": "no", "EXP_CHILD_LABOUR": "none",
    "EXP_FORCED_WORK": "no", "EXP_CONFINEMENT": "no", "EXP_SEX_EXCHANGE": "no",
    "DOC_HELD_BY_OTHERS": "no", "ENV_LIGHTING": "adequate", "ENV_ARMED_ACTORS": ("none",),
    "SVC_REFERRAL": "yes", "SVC_CP_GBV": "yes", "SVC_INFO": "yes",
}


def calm(submission_id: int, *, sex: str | None = "female", day: date = ROUND_DAY, **changes) -> KiInterview:
    """A calm-site interview with some answers changed (None removes an answer)."""
    answers = {**CALM_ANSWERS, **changes}
    return interview(submission_id, {k: v for k, v in answers.items() if v is not None}, day=day, sex=sex)

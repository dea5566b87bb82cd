"""Assessment rounds: which of a site's key-informant interviews count today
(shared/domain.md §2.5, §2.6; issue 12). Pure functions, used by crisis_ct.scoring.rules.

- A round is the interviews within `round_window_days` before its latest one; the next
  older round starts below it (split_rounds).
- A newer round replaces what counted so far only when it can stand alone: at least
  `min_kis` interviews with answers, and answers in every domain the interviews it would
  replace covered (stand_alone_problems). Otherwise its interviews are added to the
  earlier ones, which keep counting and keep ageing from their own date: the site's
  assessment date is that of the oldest round still counting (current_picture). Before,
  the round was simply the 30 days before the latest interview, so one late interview
  with a single benign answer turned a phase-5 site into phase 1 — a false all-clear.
- Expired rounds (older than `expired_days`) no longer count; when every round has
  expired the latest round alone is scored, and shown expired.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Sequence

from crisis_ct.languages import LANGUAGES
from crisis_ct.scoring.combine import ki_reading

if TYPE_CHECKING:
    from crisis_ct.scoring.catalogue import Catalogue
    from crisis_ct.scoring.rules import KiInterview


def recency_of(assessment_date: date, as_of: date, current_days: int, expired_days: int) -> str:
    age = (day_of(as_of) - day_of(assessment_date)).days
    if age <= current_days:
        return "current"
    return "ageing" if age <= expired_days else "expired"


def day_of(value: date) -> date:
    """A date, from a date or a datetime."""
    return value.date() if isinstance(value, datetime) else value


def select_round(interviews: Sequence[KiInterview], window_days: int) -> list[KiInterview]:
    """The latest assessment round: interviews within window_days of the latest one."""
    rounds = split_rounds(interviews, window_days)
    return rounds[-1] if rounds else []


def split_rounds(interviews: Sequence[KiInterview], window_days: int) -> list[list[KiInterview]]:
    """Interviews grouped into rounds, oldest round first: a round is the interviews within
    window_days before its latest one; the next older round starts below it."""
    ordered = sorted(interviews, key=lambda i: (day_of(i.assessment_date), i.submission_id))
    rounds = []
    end = len(ordered)
    while end:
        start_day = day_of(ordered[end - 1].assessment_date) - timedelta(days=window_days)
        start = end
        while start and day_of(ordered[start - 1].assessment_date) >= start_day:
            start -= 1
        rounds.append(ordered[start:end])
        end = start
    rounds.reverse()
    return rounds


def round_day(round_: Sequence[KiInterview]) -> date:
    return max(day_of(i.assessment_date) for i in round_)


@dataclass(frozen=True)
class Picture:
    """The interviews that count now and the round whose date they carry."""
    interviews: list[KiInterview]
    base: list[KiInterview]  # the oldest round still counting: its date is the site's
    newer: list[KiInterview]  # interviews of later rounds that could not stand alone
    problems: tuple[dict, ...]  # why the newest of them could not: {en, fr} fragments


def _domains_answered(catalogue: Catalogue, interviews: Sequence[KiInterview]) -> set[str]:
    by_id = catalogue.indicator_by_id
    covered: set[str] = set()
    for interview in interviews:
        for indicator_id, answer in interview.answers.items():
            indicator = by_id.get(indicator_id)
            if indicator is not None and indicator.domain not in covered and ki_reading(indicator, answer) is not None:
                covered.add(indicator.domain)
    return covered


def stand_alone_problems(catalogue: Catalogue, newer: Sequence[KiInterview],
                         counting: Sequence[KiInterview]) -> tuple[dict, ...]:
    """Why a newer round cannot replace the interviews counting so far (empty: it can).
    It must have at least min_kis interviews with answers, and answers in every domain
    the counting interviews covered (a round without the sensitive module says nothing
    about exploitation, so earlier exploitation signals must not vanish with it)."""
    problems = []
    min_kis = catalogue.settings.min_kis
    if len(newer) < min_kis:
        n = len(newer)
        problems.append({"en": f"{n} KI{'' if n == 1 else 's'} (at least {min_kis} needed)",
                         "fr": f"{n} IC (au moins {min_kis} requis)"})
    lost = _domains_answered(catalogue, counting) - _domains_answered(catalogue, newer)
    missing = [d for d in dict.fromkeys(i.domain for i in catalogue.indicators) if d in lost]
    if missing:
        names = ", ".join(missing)
        problems.append({"en": f"no answers in domain {names}, covered before",
                         "fr": f"aucune réponse dans le domaine {names}, couvert auparavant"})
    return tuple(problems)


def current_picture(catalogue: Catalogue, evidence: Sequence[KiInterview], as_of: date) -> Picture:
    """The interviews that make the site's picture today.

    Rounds are taken oldest first; a newer round replaces what counted so far only when
    it can stand alone (stand_alone_problems); otherwise its interviews are added to the
    earlier ones, which keep counting and keep ageing from their own date. Expired rounds
    no longer count; when every round has expired, the latest round alone is scored (and
    shown expired). One late interview therefore never wipes a complete round."""
    settings = catalogue.settings
    rounds = split_rounds(evidence, settings.round_window_days)
    live = [r for r in rounds
            if recency_of(round_day(r), as_of, settings.current_days, settings.expired_days) != "expired"]
    if len(live) <= 1:
        latest = live[0] if live else (rounds[-1] if rounds else [])
        return Picture(list(latest), list(latest), [], ())
    base, newer, problems = live[0], [], ()
    for round_ in live[1:]:
        found = stand_alone_problems(catalogue, round_, base + newer)
        if found:
            newer, problems = newer + round_, found
        else:
            base, newer, problems = round_, [], ()
    return Picture(base + newer, base, newer, problems)


def previous_round_note(picture: Picture) -> dict | None:
    """What the site's explanation says when newer interviews could not replace the
    previous round (None when nothing was carried over)."""
    if not picture.newer:
        return None
    newer_day, base_day = round_day(picture.newer).isoformat(), round_day(picture.base).isoformat()
    why = {lang: "; ".join(p[lang] for p in picture.problems) for lang in LANGUAGES}
    return {
        "submission_ids": [i.submission_id for i in picture.base],
        "assessment_date": base_day,
        "newer_submission_ids": [i.submission_id for i in picture.newer],
        "reason": {
            "en": (f"The newer interviews (up to {newer_day}) cannot stand alone as a round: {why['en']}. "
                   f"The answers of the round of {base_day} still count, ageing from that date."),
            "fr": (f"Les entretiens plus récents (jusqu'au {newer_day}) ne suffisent pas seuls : {why['fr']}. "
                   f"Les réponses de la série du {base_day} restent prises en compte et vieillissent "
                   f"à partir de cette date."),
        },
    }

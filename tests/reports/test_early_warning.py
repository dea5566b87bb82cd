"""Early warning as plain functions over hand-built histories (no database, no server)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from crisis_ct.reports.early_warning import (AssessedSite, area_rises, expires_on, expiring_areas, rises,
                                             site_rises)
from crisis_ct.reports.history import ScorePoint, as_of, baseline
from crisis_ct.scoring.catalogue import Settings
from crisis_ct.scoring.rules import recency_of

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
SETTINGS = Settings(area_threshold_share=0.25, area_min_sites=3, area_min_population_coverage=0.5,
                    current_days=90, expired_days=180, min_kis=3, round_window_days=14)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def point(days: float, phase: int | None, **detail) -> ScorePoint:
    return ScorePoint(days_ago(days), phase, detail)


def test_the_phase_then_is_the_last_score_computed_at_or_before_that_instant():
    history = [point(100, 1), point(31, 2), point(30, 3), point(2, 4)]
    assert as_of(history, days_ago(30)).phase == 3  # computed exactly at the instant: known then
    assert as_of(history, days_ago(30.5)).phase == 2
    assert as_of(history, days_ago(200)) is None
    # Naive datetimes (as SQLite hands them back) read as UTC.
    naive = [ScorePoint(days_ago(40).replace(tzinfo=None), 2)]
    assert as_of(naive, days_ago(30)).phase == 2


def test_an_area_that_rose_since_30_days_ago_is_reported_and_one_that_fell_or_held_is_not():
    histories = {"rose": [point(60, 2), point(10, 3)], "fell": [point(60, 4), point(10, 3)],
                 "held": [point(60, 3), point(5, 3)], "went_up_and_back": [point(60, 2), point(20, 4), point(1, 2)]}
    found = area_rises(histories, NOW)
    assert [(r.place, r.phase_before, r.phase_after) for r in found] == [("rose", 2, 3)]


def test_a_site_must_rise_by_two_within_30_days():
    histories = {"by_one": [point(45, 2), point(3, 3)], "by_two": [point(45, 1), point(3, 3)],
                 "by_two_before_the_window": [point(90, 1), point(40, 3), point(3, 3)]}
    assert [(r.place, r.rise) for r in site_rises(histories, NOW)] == [("by_two", 2)]


def test_a_site_first_assessed_within_the_window_is_measured_from_its_first_score():
    histories = {"new": [point(20, 1), point(2, 4)], "scored_once": [point(5, 4)]}
    assert [(r.place, r.phase_before, r.phase_after) for r in site_rises(histories, NOW)] == [("new", 1, 4)]
    assert baseline(histories["scored_once"], days_ago(30)) is histories["scored_once"][0]


def test_a_late_interview_warns_when_it_arrives_not_when_it_was_held():
    """Assessed 40 days ago, received and scored 3 days ago: 30 days ago the site stood at
    phase 1 as far as anyone knew, so the jump to 3 is news of this window."""
    history = [ScorePoint(days_ago(45), 1, {"assessment_date": TODAY - timedelta(days=50)}),
               ScorePoint(days_ago(3), 3, {"assessment_date": TODAY - timedelta(days=40)})]
    assert [(r.phase_before, r.phase_after) for r in site_rises({"late": history}, NOW)] == [(1, 3)]
    # Read 10 days ago, before the late interview was scored, nothing had changed.
    assert site_rises({"late": history}, NOW - timedelta(days=10)) == []


def test_no_phase_is_not_a_rise_from_zero():
    histories = {"insufficient_then": [point(60, None), point(2, 3)],
                 "insufficient_now": [point(60, 2), point(2, None)]}
    assert area_rises(histories, NOW) == []


def test_the_reader_decides_which_phase_counts():
    """A viewer's phase is the projected one: a rise from an area the viewer saw as
    insufficient data is no rise for the viewer."""
    histories = {"a": [point(60, 2, sites=2), point(2, 3, sites=4)], "b": [point(60, 2, sites=5), point(2, 3, sites=5)]}
    shown = lambda p: p.phase if p.detail["sites"] >= 3 else None  # noqa: E731
    assert [r.place for r in rises(histories, NOW, phase_of=shown)] == ["b"]


def site(site_id: int, days_old: int | None, *, phase: int | None = 3, population: int | None = 100,
         pcodes=("XZ01",)) -> AssessedSite:
    assessed = TODAY - timedelta(days=days_old) if days_old is not None else None
    return AssessedSite(site_id, tuple(pcodes), population, phase, "medium", assessed)


def test_a_site_expires_the_first_day_scoring_calls_it_expired():
    assessed = date(2026, 1, 1)
    first = expires_on(assessed, 180)
    assert first == date(2026, 7, 1)
    assert recency_of(assessed, first - timedelta(days=1), 90, 180) == "ageing"
    assert recency_of(assessed, first, 90, 180) == "expired"


def test_areas_with_sites_leaving_the_recency_window_within_the_horizon():
    sites = [site(1, 175), site(2, 100), site(3, 20), site(4, 20),  # XZ01: site 1 expires in 6 days
             site(5, 181, pcodes=("XZ02",)), site(6, 140, pcodes=("XZ02",)),  # 5: already expired
             site(7, 179, phase=None, pcodes=("XZ03",))]  # never scored: nothing to expire
    found = expiring_areas(SETTINGS, sites, TODAY)
    assert [(a.pcode, a.sites_expiring, a.first_expiry) for a in found] == [("XZ01", 1, TODAY + timedelta(days=6))]
    assert found[0].now.sites_assessed == 4 and found[0].after.sites_assessed == 3
    assert not found[0].loses_classification


def test_an_area_that_falls_to_insufficient_data_when_its_sites_expire():
    sites = [site(1, 170), site(2, 165), site(3, 10)]
    [area] = expiring_areas(SETTINGS, sites, TODAY)
    assert area.now.status == "classified" and area.after.status == "insufficient_data"
    assert area.loses_classification


def test_missing_population_weighs_by_sites_and_still_warns():
    """No site has a population figure: coverage falls back to sites (scoring.area), and an
    area of four sites losing two to expiry drops below the minimum of three."""
    sites = [site(i, age, population=None) for i, age in ((1, 178), (2, 160), (3, 30), (4, 10))]
    [area] = expiring_areas(SETTINGS, sites, TODAY)
    assert area.sites_expiring == 2
    assert area.now.population_coverage == 1.0 and area.now.status == "classified"
    assert area.after.sites_assessed == 2 and area.after.status == "insufficient_data"


def test_a_late_interview_expires_from_the_day_it_was_held():
    """Received yesterday but held 170 days ago: it expires in 11 days, not in 181."""
    [area] = expiring_areas(SETTINGS, [site(1, 170), site(2, 10), site(3, 10), site(4, 10)], TODAY)
    assert area.first_expiry == TODAY + timedelta(days=11)

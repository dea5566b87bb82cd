"""The pages' plain helpers: board filters and buttons, the history chart, the indicator rows."""
from datetime import datetime, timedelta, timezone

import pytest

from crisis_ct.scoring.service import catalogue
from crisis_ct.web.history_chart import HEIGHT, history_chart, phase_y
from crisis_ct.web.site_view import answer_text, indicator_names, indicator_rows
from crisis_ct.web.task_board import BoardFilters, Capacity, acting_role, available_actions, parse_lon_lat

PRIORITIES = ("P1", "P2", "P3", "P4")
EXPERTISE = ("CT", "CP")


def _filters(**args):
    return BoardFilters.from_args(args, priorities=PRIORITIES, expertise=EXPERTISE)


def test_unknown_board_filter_values_are_dropped():
    assert _filters(status="lost", priority="P9", expertise="%", language="de", near="x,y", within_km="-3") == \
        BoardFilters()


def test_known_board_filter_values_become_task_filters():
    filters = _filters(status="open", priority="P1", expertise="CP", language="fr", pcode="XZ01", near="20.5,4.25",
                       within_km="12")
    query = filters.task_filters(user_languages=("en",), site_location=None)
    assert (query.status, query.priority, query.expertise, query.languages, query.pcode) == \
        ("open", "P1", "CP", ("fr",), "XZ01")
    assert query.near == (20.5, 4.25) and query.within_km == 12.0


def test_my_languages_are_the_users_own():
    query = _filters(language="mine").task_filters(user_languages=("fr", "en"), site_location=None)
    assert query.languages == ("fr", "en")


def test_a_chosen_site_gives_the_location_and_the_browser_location_wins():
    assert _filters(near_site="S1").task_filters(user_languages=(), site_location=(1.0, 2.0)).near == (1.0, 2.0)
    assert _filters(near="3,4").task_filters(user_languages=(), site_location=(1.0, 2.0)).near == (3.0, 4.0)


def test_within_km_without_a_location_is_not_used():
    assert _filters(within_km="5").task_filters(user_languages=(), site_location=None).within_km is None


@pytest.mark.parametrize("text", ["", "1", "a,b", "200,0", "0,95", "nan,1"])
def test_bad_locations_are_no_location(text):
    assert parse_lon_lat(text) is None


def _task(status, holder=None):
    return {"status": status, "claim": {"holder": {"id": holder}} if holder else None}


EXPERT = Capacity(expert=True, coordinator=False, user_id=7)
COORDINATOR = Capacity(expert=True, coordinator=True, user_id=9)
VIEWER = Capacity(expert=False, coordinator=False, user_id=3)


def test_an_expert_may_claim_an_open_task_and_a_viewer_nothing():
    assert available_actions(_task("open"), EXPERT) == ("claim",)
    assert available_actions(_task("open"), VIEWER) == ()


def test_only_the_holder_sees_progress_and_release():
    assert set(available_actions(_task("claimed", holder=7), EXPERT)) == {"renew", "progress", "release"}
    assert available_actions(_task("claimed", holder=8), EXPERT) == ()


def test_a_coordinator_sees_verify_on_done_work_and_may_release_anyones_claim():
    assert set(available_actions(_task("done"), COORDINATOR)) == {"verify", "reject", "cancel"}
    assert "release" in available_actions(_task("claimed", holder=8), COORDINATOR)


def test_the_acting_role_follows_the_action():
    assert acting_role("verify", is_holder=False, expert=True, coordinator=False) is None
    assert acting_role("release", is_holder=False, expert=True, coordinator=True) == "coordinator"
    assert acting_role("release", is_holder=True, expert=True, coordinator=True) == "expert"
    assert acting_role("claim", is_holder=False, expert=False, coordinator=False) is None


def _history(*phases):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    return [{"computed_at": (start + timedelta(days=i)).isoformat(), "phase": p, "current": i == len(phases) - 1}
            for i, p in enumerate(phases)]


def test_higher_phases_are_drawn_higher():
    assert phase_y(5) < phase_y(1) <= HEIGHT


def test_the_chart_steps_through_each_phase_and_marks_the_current_one():
    chart = history_chart(_history(2, 4, 3))
    assert [p.phase for p in chart.points] == [2, 4, 3]
    assert [p.current for p in chart.points] == [False, False, True]
    assert chart.path.startswith("M") and chart.path.count("H") == 2
    assert chart.points[0].x < chart.points[1].x < chart.points[2].x


def test_a_computation_without_a_phase_breaks_the_line():
    chart = history_chart(_history(3, None, 3))
    assert chart.points[1].y is None
    assert chart.path.count("M") == 2


def test_no_history_no_line():
    assert not history_chart([]).has_line


def _explanation():
    return {"drivers": ["REC_OFFERS"], "indicators": [
        {"indicator_id": "POP_UASC", "domain": "V", "value": "few", "phase": 2, "n_yes": 1, "n_answered": 3,
         "consensus": True, "unconfirmed": False, "critical": False, "name": {"en": "UASC", "fr": "ENAS"}},
        {"indicator_id": "REC_OFFERS", "domain": "R", "value": "yes", "phase": 3, "n_yes": 2, "n_answered": 3,
         "consensus": True, "unconfirmed": False, "critical": False, "name": {"en": "Offers", "fr": "Offres"}},
        {"indicator_id": "EXP_CONFINEMENT", "domain": "E", "suppressed": True, "name": {"en": "Confinement"}},
    ]}


def test_drivers_come_first_and_suppressed_rows_show_no_answer():
    rows = indicator_rows(_explanation(), catalogue(), "fr")
    assert [row.indicator_id for row in rows] == ["REC_OFFERS", "POP_UASC", "EXP_CONFINEMENT"]
    assert rows[0].driver and rows[0].name == "Offres" and (rows[0].n_yes, rows[0].n_answered) == (2, 3)
    assert rows[2].suppressed and rows[2].answer == "" and rows[2].n_yes is None


def test_answers_are_in_the_page_language():
    assert answer_text(catalogue(), "REC_OFFERS", "yes", "fr") == "Oui"
    assert answer_text(catalogue(), "POP_NEW_ARRIVALS", 51.5, "en") == "51.5"
    assert answer_text(catalogue(), "POP_UASC", None, "en") == "—"


def test_suppressed_indicators_are_not_named_as_signals():
    assert indicator_names(_explanation(), ["EXP_CONFINEMENT", "REC_OFFERS"], "en") == ["Offers"]

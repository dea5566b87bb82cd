"""The list view's filters and paging as plain functions (no database)."""
import pytest

from crisis_ct.web.risk_view import RiskFilters, as_phase, filter_areas, filter_sites, paginate, phase_matches

SITE_TYPES = ("planned_camp", "border_point")


def test_unknown_filter_values_are_ignored_not_refused():
    filters = RiskFilters.from_args({"phase": "9", "domain": "X", "site_type": "palace", "recency": "old",
                                     "level": "7"}, SITE_TYPES)
    assert filters == RiskFilters()


def test_known_filter_values_are_kept():
    args = {"phase": "4plus", "domain": "E", "site_type": "border_point", "recency": "ageing", "level": "3"}
    assert RiskFilters.from_args(args, SITE_TYPES) == RiskFilters("4plus", "E", "border_point", "ageing", 3)


@pytest.mark.parametrize("phase,wanted,expected", [
    (3, "3plus", True), (2, "3plus", False), (None, "3plus", False), (None, "none", True),
    (4, "none", False), (5, "5", True), (4, "5", False), (None, "", True),
])
def test_phase_matches(phase, wanted, expected):
    assert phase_matches(phase, wanted) is expected


@pytest.mark.parametrize("value", [0, 6, "3", None, True, 2.5])
def test_odd_phase_values_count_as_not_assessed(value):
    assert as_phase(value) is None


def test_sites_sort_worst_first_and_unassessed_last():
    sites = [{"name": "b", "phase": None}, {"name": "a", "phase": 2}, {"name": "c", "phase": 5}]
    assert [s["name"] for s in filter_sites(sites, RiskFilters())] == ["c", "a", "b"]


def test_recency_none_means_never_assessed():
    sites = [{"name": "old", "recency": "expired"}, {"name": "new"}]
    assert [s["name"] for s in filter_sites(sites, RiskFilters(recency="none"))] == ["new"]


def test_an_area_with_insufficient_data_never_counts_as_a_phase():
    areas = [{"pcode": "A", "phase": 3, "status": "insufficient_data"}, {"pcode": "B", "phase": 3}]
    assert [a["pcode"] for a in filter_areas(areas, RiskFilters(phase="3"))] == ["B"]


def test_paginate_clamps_to_existing_pages():
    items = list(range(7))
    assert paginate(items, "2", size=3).items == [3, 4, 5]
    assert paginate(items, 99, size=3).items == [6]
    assert paginate(items, "x", size=3).number == 1
    assert paginate([], 1, size=3).pages == 1

"""Small-count suppression (crisis_ct.projection.counts, areas): what partners see of an
area's counts, checked against an attacker who knows the rule and adds things up."""
from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from crisis_ct.projection import areas, counts

PHASES = ("1", "2", "3", "4", "5")


def _consistent_values(shown: dict, total: int) -> dict[str, set[int]]:
    """Every value each hidden cell can take, by brute force over all tables that read the same."""
    hidden = [key for key, value in shown.items() if counts.is_hidden(value)]
    rest = total - sum(value for value in shown.values() if isinstance(value, int))
    ranges = [range(1, 3) if shown[key] == counts.SMALL else range(3, max(3, rest) + 1) for key in hidden]
    values: dict[str, set[int]] = {key: set() for key in hidden}
    for combination in itertools.product(*ranges):
        if sum(combination) == rest:
            for key, value in zip(hidden, combination):
                values[key].add(value)
    return values


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=7), min_size=5, max_size=5))
def test_no_hidden_cell_can_be_worked_out_from_the_total(values):
    cells = dict(zip(PHASES, values))
    total = sum(values)
    shown = counts.suppress_cells(cells, total)
    if shown is None:
        return  # nothing shown at all
    assert all(value not in (1, 2) for value in shown.values())
    for key, possible in _consistent_values(shown, total).items():
        assert cells[key] in possible and len(possible) >= 2, (cells, shown, key)
    assert {key: value for key, value in shown.items() if isinstance(value, int)} == {
        key: cells[key] for key, value in shown.items() if isinstance(value, int)}


def test_one_small_cell_beside_a_total_is_not_enough_to_hide():
    # The old rule hid one more cell, "suppressed", so 1 (<3) + 3 (suppressed) = 4 gave both away.
    shown = counts.suppress_cells({"1": 0, "2": 0, "3": 1, "4": 3, "5": 6}, 10)
    assert shown["3"] == counts.SMALL
    assert all(len(v) >= 2 for v in _consistent_values(shown, 10).values())


def test_two_small_cells_that_must_both_be_one_are_protected():
    shown = counts.suppress_cells({"1": 5, "2": 1, "3": 1, "4": 0, "5": 0}, 7)
    assert all(len(v) >= 2 for v in _consistent_values(shown, 7).values())


def _alone(summary: dict) -> dict:
    """An area as partners see it when it is the operation's only area."""
    pcode = summary.get("pcode", "XZ01")
    return areas.for_partners(summary, site_counts=areas.site_counts([(pcode, None, summary)])[pcode])


SUMMARY = {"phase": 3, "status": "classified", "hotspot": True, "confidence": "medium", "sites_known": 6,
           "sites_assessed": 4, "population_known": 3004, "population_assessed": 2466, "population_coverage": 0.821,
           "pct_sites_3plus": 50.0, "pct_sites_4plus": 25.0,
           "sites_by_phase": {"1": 0, "2": 2, "3": 1, "4": 1, "5": 0},
           "population_by_phase": {"1": 0, "2": 1203, "3": 800, "4": 463, "5": 0},
           "sites_without_population": 1, "explanation": {"sites": ["S1"]}}


def test_partners_see_rounded_people_no_percentages_and_no_unlisted_field():
    shown = _alone({**SUMMARY, "pcode": "XZ01"})
    assert shown["pcode"] == "XZ01" and shown["phase"] == 3 and shown["sites_assessed"] == 4
    assert shown["pct_sites_3plus"] is None and shown["pct_sites_4plus"] is None  # fewer than 5 sites
    assert shown["population_known"] == 3000
    assert all(value in (0, counts.SMALL, counts.COMPLEMENT) for value in shown["sites_by_phase"].values())
    assert shown["population_by_phase"]["4"] == counts.COMPLEMENT  # one site's population
    assert "explanation" not in shown  # a field not listed in projection.areas stays out
    # Issue 12's counts beside the phase: small ones as "<3" too.
    assert shown["sites_without_population"] == counts.SMALL and "coverage_basis" not in shown


def test_expired_and_unknown_population_counts_are_suppressed_and_the_median_rounded():
    summary = {**SUMMARY, "level": 1, "sites_expired": 2, "sites_without_population": 3,
               "population_imputed_per_site": 463, "coverage_basis": "sites"}
    shown = _alone(summary)
    assert shown["sites_expired"] == counts.SMALL and shown["sites_without_population"] == 3
    assert shown["population_imputed_per_site"] == 460 and shown["coverage_basis"] == "sites"
    below = _alone({**summary, "level": 2})
    assert below["population_imputed_per_site"] is None  # only beside the population figures (admin 1)


def test_an_area_with_one_or_two_assessed_sites_shows_no_result_of_theirs():
    one = {**SUMMARY, "sites_assessed": 1, "sites_known": 2, "status": "insufficient_data", "phase": None,
           "sites_by_phase": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}, "hotspot": True, "confidence": "low"}
    shown = _alone(one)
    assert shown["sites_assessed"] == counts.SMALL and shown["sites_known"] == counts.SMALL
    assert shown["hotspot"] is None and shown["confidence"] is None and shown["sites_by_phase"] is None
    assert shown["population_by_phase"] is None and shown["population_assessed"] is None


def test_a_total_row_hides_a_phase_hidden_in_any_row():
    row_a = {**SUMMARY, "sites_by_phase": {"1": 3, "2": 1, "3": 4, "4": 0, "5": 0}, "sites_assessed": 8}
    row_b = {**SUMMARY, "sites_by_phase": {"1": 5, "2": 3, "3": 0, "4": 4, "5": 0}, "sites_assessed": 12}
    shown_rows = [_alone(row_a), _alone(row_b)]
    total = {**SUMMARY, "sites_by_phase": {"1": 8, "2": 4, "3": 4, "4": 4, "5": 0}, "sites_assessed": 20}
    shown_total = areas.total_for_partners(shown_rows, total, {"sites_assessed": 20})
    # Row b shows phase 2 = 3: a shown total of 4 would give row a's hidden 1 away.
    assert counts.is_hidden(shown_total["sites_by_phase"]["2"])


def test_a_total_of_site_counts_is_the_operation_s_as_the_hierarchy_decided_it():
    row_a = {**SUMMARY, "pcode": "A", "sites_expired": 1}
    row_b = {**SUMMARY, "pcode": "B", "sites_expired": 5}
    decided = areas.site_counts([("A", None, row_a), ("B", None, row_b)])
    # 6 - 5 would give row a's 1 away: one of the two is hidden beside it.
    assert decided["A"]["sites_expired"] == counts.SMALL and decided["B"]["sites_expired"] == counts.COMPLEMENT
    assert decided[None]["sites_expired"] == 6
    shown_total = areas.total_for_partners([], {**SUMMARY, "sites_expired": 6}, decided[None])
    assert shown_total["sites_expired"] == 6
    # Several operations: added up only where each operation's total is shown.
    assert areas.total_site_counts([decided[None], {"sites_expired": 4}])["sites_expired"] == 10
    assert areas.total_site_counts([decided[None], {"sites_expired": counts.SMALL}])["sites_expired"] is None

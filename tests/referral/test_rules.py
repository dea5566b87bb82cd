"""The directory's rules as plain functions: entry checks, coverage, gaps, awareness, staleness,
the service-type catalogue and the rules' service_types (no database, no server)."""
from __future__ import annotations

from datetime import date

import pytest

from crisis_ct.referral import coverage
from crisis_ct.referral.coverage import Coverage, Need
from crisis_ct.referral.entries import EntryInvalid, check_entry
from crisis_ct.referral.service_types import (ServiceTypesError, check_rule_service_types, load_service_types,
                                              parse_service_types)
from crisis_ct.tasks.service import catalogues

TODAY = date(2026, 12, 3)
PCODES = {"XZ01", "XZ0101", "XZ010101", "XZ02"}
TYPES = load_service_types()


def entry(**fields):
    raw = {"organisation": "Org A", "service_types": ["legal_aid"], "area_pcodes": ["XZ01"], **fields}
    return check_entry(raw, types=TYPES, known_pcodes=PCODES, today=TODAY)


def errors_of(**fields) -> dict:
    with pytest.raises(EntryInvalid) as caught:
        entry(**fields)
    return caught.value.errors


def test_safe_accommodation_with_coordinates_is_refused_with_a_clear_message():
    errors = errors_of(service_types=["safe_accommodation"], longitude=1.0, latitude=1.0)
    assert "never located" in errors["service_point"] and "§4.3" in errors["service_point"]


def test_safe_accommodation_with_a_service_point_name_is_refused_too():
    assert "service_point" in errors_of(service_types="safe_accommodation;legal_aid", service_point_name="House 3")


def test_safe_accommodation_without_a_place_is_accepted():
    assert entry(service_types=["safe_accommodation"], focal_point_role="Shelter focal point").lon is None


def test_a_personal_mailbox_and_a_phone_number_in_the_role_are_refused():
    errors = errors_of(office_email="jane.doe@gmail.com", focal_point_role="Jane +33 6 12 34 56 78")
    assert "office address" in errors["office_email"]
    assert "never a person" in errors["focal_point_role"]


def test_unknown_types_unknown_pcodes_half_coordinates_and_future_dates_are_named():
    errors = errors_of(service_types=["magic"], area_pcodes=["XZ99"], longitude=2.0, last_verified_on="2027-01-01")
    assert set(errors) == {"service_types", "area_pcodes", "latitude", "last_verified_on"}


def test_an_entry_without_a_code_gets_a_stable_one():
    assert entry(service_point_name="Help desk Nord").code == entry(service_point_name="Help desk Nord").code
    assert entry(service_point_name="Help desk Nord").code == "org-a-help-desk-nord"


def provider(pid, types, pcodes, lon=None, lat=None, verified=None):
    return Coverage(pid, frozenset(types), frozenset(pcodes), lon, lat, verified)


def test_a_provider_of_a_province_covers_its_districts_sites():
    province = provider(1, ["child_protection"], ["XZ01"])
    assert coverage.covers(province, coverage.place_chain("XZ01", "XZ0101", "XZ010101"), "child_protection")
    assert not coverage.covers(province, coverage.place_chain("XZ02", "XZ0201"), "child_protection")
    assert not coverage.covers(province, coverage.place_chain("XZ01"), "gbv_case_management")


def test_nearest_service_point_first_and_pointless_providers_last():
    far, near, none = provider(1, [], [], 10.0, 0.0), provider(2, [], [], 1.0, 0.0), provider(3, [], [])
    ordered = coverage.nearest_first([none, far, near], 0.0, 0.0)
    assert [p.id for p, _ in ordered] == [2, 1, 3]
    assert 110 < ordered[0][1] < 112


def test_a_gap_is_an_area_whose_open_tasks_need_a_type_nobody_covers():
    needs = [Need(7, "M07", "XZ0101", coverage.place_chain("XZ01", "XZ0101"), ("gbv_case_management",)),
             Need(8, "M04", "XZ0101", coverage.place_chain("XZ01", "XZ0101"), ("child_protection",)),
             Need(9, "M04", "XZ0201", coverage.place_chain("XZ02", "XZ0201"), ("child_protection",))]
    gaps = coverage.coverage_gaps(needs, [provider(1, ["child_protection"], ["XZ01"])])
    assert [(g.pcode, g.service_type, g.task_ids) for g in gaps] == [
        ("XZ0101", "gbv_case_management", (7,)), ("XZ0201", "child_protection", (9,))]


def test_awareness_flag_needs_a_no_and_case_management_covering_the_site():
    chain = coverage.place_chain("XZ01", "XZ0101")
    case_management = provider(1, ["ct_case_management"], ["XZ0101"])
    assert coverage.awareness_mismatch("no", chain, [case_management])
    assert not coverage.awareness_mismatch("yes", chain, [case_management])
    assert not coverage.awareness_mismatch("no", chain, [provider(2, ["health"], ["XZ0101"])])


def test_stale_after_90_days_or_never_verified():
    assert coverage.is_stale(None, TODAY, 90)
    assert coverage.is_stale(date(2026, 9, 3), TODAY, 90)
    assert not coverage.is_stale(date(2026, 9, 4), TODAY, 90)


def test_the_service_type_file_names_file_entry_and_field_on_a_mistake():
    with pytest.raises(ServiceTypesError) as caught:
        parse_service_types({"version": "1", "stale_after_days": 90,
                             "service_types": {"legal_aid": {"label": {"en": "Legal"}, "hxl": "legal"}}}, "x.yaml")
    assert str(caught.value) == "x.yaml: entry legal_aid: field label.fr: missing FR text"


def test_every_rule_names_known_service_types_and_m04_m07_m01_map_as_the_issue_says():
    mitigation, _ = catalogues()
    check_rule_service_types(mitigation, TYPES)
    assert mitigation.rule("M04").service_types == ("child_protection",)
    assert mitigation.rule("M07").service_types == ("gbv_case_management",)
    assert "ct_case_management" in mitigation.rule("M01").service_types


def test_an_unknown_service_type_in_a_rule_is_an_error_naming_the_rule():
    from dataclasses import replace

    mitigation, _ = catalogues()
    broken = replace(mitigation, rules=(replace(mitigation.rules[0], service_types=("teleportation",)),))
    with pytest.raises(ServiceTypesError, match=r"rule M01: field service_types\[0\]"):
        check_rule_service_types(broken, TYPES)

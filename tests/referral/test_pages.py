"""The referral pages (test client, both databases): the directory for experts, its forms for
coordinators, viewers refused; providers on the site and task pages, nearest first; the
awareness flag; coverage gaps and providers to verify on the dashboard; the printable card."""
from __future__ import annotations

import re

import sqlalchemy as sa

from crisis_ct.referral.models import ServiceProvider
from crisis_ct.tasks.models import MitigationTask
from tests.referral.conftest import CASE_MANAGER, NEAR_CLINIC, OTHER_PROVINCE, add_providers
from tests.web.conftest import HOSTILE_NAME, csrf_token


def _task_id(database, rule_id: str) -> int:
    with database.session() as session:
        return session.scalar(sa.select(MitigationTask.id).where(MitigationTask.rule_id == rule_id,
                                                                 MitigationTask.status == "open"))


def test_viewers_get_the_403_page_on_every_referral_page(signed_in_as, referral_world, database):
    [provider_id] = add_providers(database, referral_world.operation_id, CASE_MANAGER)
    viewer = signed_in_as("viewer@example.org")
    for path in ("/service-providers", "/service-providers/new", f"/service-providers/{provider_id}/edit",
                 "/service-providers/import", "/referral-card/XZ01"):
        assert viewer.get(path).status_code == 403, path
    # …and what they can open shows none of it.
    for path in ("/dashboard", f"/tasks/{_task_id(database, 'M01')}"):
        page = viewer.get(path).get_data(as_text=True)
        assert "Alliance CT" not in page and "ct@alliance.example.org" not in page and "Referral coverage" not in page


def test_an_expert_reads_the_directory_but_cannot_change_it(signed_in_as, referral_world, database):
    [provider_id] = add_providers(database, referral_world.operation_id, CASE_MANAGER)
    expert = signed_in_as("a@example.org")
    page = expert.get("/service-providers").get_data(as_text=True)
    assert "Alliance CT" in page and "Bureau Alpha" in page and "Add a provider" not in page
    assert expert.get(f"/service-providers/{provider_id}/edit").status_code == 403
    assert expert.get("/service-providers/new").status_code == 403


def test_a_coordinator_adds_a_provider_and_the_form_refuses_a_located_shelter(signed_in_as, database):
    coordinator = signed_in_as("coord@example.org")
    token = csrf_token(coordinator, "/service-providers/new")
    refused = coordinator.post("/service-providers/new", data={
        "csrf_token": token, "operation": "op1", "organisation": "Safe House", "service_types": "safe_accommodation",
        "area_pcodes": "XZ01", "service_point_name": "The house", "latitude": "0.5", "longitude": "0.5"})
    assert refused.status_code == 422
    assert "never located" in refused.get_data(as_text=True)
    saved = coordinator.post("/service-providers/new", data={
        "csrf_token": token, "operation": "op1", "organisation": HOSTILE_NAME, "service_types": ["legal_aid", "hotline"],
        "area_pcodes": "XZ01; XZ0201", "office_email": "desk@legal.example.org"})
    assert saved.status_code == 303
    page = coordinator.get("/service-providers").get_data(as_text=True)
    assert HOSTILE_NAME not in page and "&lt;script&gt;" in page
    with database.session() as session:
        assert session.scalars(sa.select(ServiceProvider.organisation)).all() == [HOSTILE_NAME]


def test_the_import_page_names_rows_and_fields(signed_in_as):
    import io

    coordinator = signed_in_as("coord@example.org")
    token = csrf_token(coordinator, "/service-providers/import")
    sheet = b"organisation,service_types,adm1_pcodes\nGood,legal_aid,XZ01\nBad,legal_aid,XZ77\n"
    response = coordinator.post("/service-providers/import", data={
        "csrf_token": token, "operation": "op1", "file": (io.BytesIO(sheet), "mapping.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<td class="number">3</td><td>adm1_pcodes/adm2_pcodes/adm3_pcodes</td>', page)


def test_the_site_page_lists_providers_nearest_first_and_flags_awareness(signed_in_as, referral_world, database):
    add_providers(database, referral_world.operation_id, CASE_MANAGER, NEAR_CLINIC, OTHER_PROVINCE)
    page = signed_in_as("a@example.org").get("/sites/S1").get_data(as_text=True)
    section = page[page.index('class="site-referral"'):]
    assert section.index("Near Clinic") < section.index("Alliance CT")  # 0.55,0.55 is nearer S1 (0.5,0.5)
    assert "Far Away" not in section  # another province
    assert "Providers exist — check awareness and access" in page
    assert "/referral-card/XZ0101" in section


def test_no_awareness_flag_without_case_management_covering_the_site(signed_in_as, referral_world, database):
    add_providers(database, referral_world.operation_id, NEAR_CLINIC)
    assert "check awareness and access" not in signed_in_as("a@example.org").get("/sites/S1").get_data(as_text=True)


def test_the_m01_task_carries_the_flag_and_the_m04_task_lists_child_protection(signed_in_as, referral_world,
                                                                               database):
    add_providers(database, referral_world.operation_id, CASE_MANAGER, NEAR_CLINIC)
    expert = signed_in_as("a@example.org")
    m01 = expert.get(f"/tasks/{_task_id(database, 'M01')}").get_data(as_text=True)
    assert "Providers exist — check awareness and access" in m01 and "Alliance CT" in m01
    m04 = expert.get(f"/tasks/{_task_id(database, 'M04')}").get_data(as_text=True)
    section = m04[m04.index('class="task-referral"'):]
    assert "Near Clinic" in section and "Alliance CT" in section
    assert "check awareness" not in m04


def test_the_dashboard_lists_coverage_gaps_and_providers_to_verify(signed_in_as, referral_world, database):
    add_providers(database, referral_world.operation_id, CASE_MANAGER, NEAR_CLINIC)
    coordinator = signed_in_as("coord@example.org")
    page = coordinator.get("/dashboard").get_data(as_text=True)
    gaps = page[page.index('class="coverage-gaps"'):page.index('class="stale-providers"')]
    # M01 needs safe accommodation, health and legal aid too: nobody covers them at S1's district.
    assert "Safe accommodation for victims" in gaps and "XZ0101" in gaps
    assert "Child protection and family tracing" not in gaps  # covered by both providers
    stale = page[page.index('class="stale-providers"'):]
    assert "Near Clinic" in stale and "Alliance CT" not in stale
    # The expert sees the gaps, not the coordinator's list.
    expert_page = signed_in_as("a@example.org").get("/dashboard").get_data(as_text=True)
    assert 'class="coverage-gaps"' in expert_page and 'class="stale-providers"' not in expert_page


def test_verifying_from_the_dashboard_takes_the_provider_off_the_list(signed_in_as, referral_world, database):
    [_, clinic_id] = add_providers(database, referral_world.operation_id, CASE_MANAGER, NEAR_CLINIC)
    coordinator = signed_in_as("coord@example.org")
    response = coordinator.post(f"/service-providers/{clinic_id}/verify",
                                data={"csrf_token": csrf_token(coordinator, "/dashboard"), "next": "dashboard"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")
    page = coordinator.get("/dashboard").get_data(as_text=True)
    assert "Every provider was verified recently." in page


def test_the_referral_card_prints_in_french(signed_in_as, referral_world, database):
    add_providers(database, referral_world.operation_id, CASE_MANAGER, OTHER_PROVINCE)
    page = signed_in_as("a@example.org").get("/referral-card/XZ010101?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in page and "Fiche de référencement" in page
    assert "Gestion de cas de lutte contre la traite" in page and "Alliance CT" in page
    assert "Far Away" not in page
    assert "referral-card.css" in page


def test_another_operations_card_and_provider_are_404(signed_in_as, referral_world, database, seed):
    [provider_id] = add_providers(database, referral_world.operation_id, CASE_MANAGER)
    seed.operation("op2")
    seed.member("other@example.org", "coordinator", "op2")
    other = signed_in_as("other@example.org")
    assert other.get(f"/service-providers/{provider_id}/edit").status_code == 404
    assert other.get("/referral-card/XZ01").status_code == 404

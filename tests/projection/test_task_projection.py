"""crisis_ct.projection.tasks without a database: what a partner keeps of a task JSON."""
from crisis_ct.accounts.principal import Principal
from crisis_ct.projection import tasks

VIEWER = Principal(1, "v@example.org", "v", {1: "viewer"}, operation_codes={1: "op1"})
EXPERT = Principal(2, "e@example.org", "e", {1: "expert"}, operation_codes={1: "op1"})
ITEM = {"id": 7, "rule_id": "M03", "title": {"en": "Escalate"}, "operation": "op1", "scope": "admin_area",
        "pcode": "XZ01", "status": "claimed", "priority": "P1",
        "claim": {"holder": {"id": 2, "display_name": "e"}, "claimed_at": "t0", "expires_at": "t1",
                  "seconds_left": 60},
        "evidence": [{"kind": "indicator", "id": "EXP_SEX_EXCHANGE", "value": "yes"}],
        "sites": ["S1"],  # a field added later (e.g. the sites behind an area task)
        "history": [{"at": "t0", "actor": "e@example.org", "action": "claimed", "from_status": "open",
                     "to_status": "claimed", "comment": "e goes on Monday"}]}


def test_a_partner_keeps_only_the_listed_fields():
    shown = tasks.task(VIEWER, ITEM)
    assert "evidence" not in shown and "sites" not in shown
    assert shown["claim"] == {"holder": None, "claimed_at": "t0", "expires_at": "t1", "seconds_left": 60}
    assert shown["history"] == [{"at": "t0", "action": "claimed", "from_status": "open", "to_status": "claimed",
                                 "actor": None, "comment": None}]


def test_an_expert_keeps_everything():
    assert tasks.task(EXPERT, ITEM) == ITEM


def test_partners_see_area_tasks_of_areas_with_three_assessed_sites_only():
    assert tasks.partner_may_see("admin_area", 3)
    assert not tasks.partner_may_see("admin_area", 2) and not tasks.partner_may_see("site", 10)


def test_small_site_evidence_keeps_domain_phases_and_drops_hidden_answers():
    evidence = [{"kind": "domain", "id": "E", "value": 4}, {"kind": "indicator", "id": "EXP_X", "value": "yes"},
                {"kind": "indicator", "id": "DOC_LACK", "value": "many"}, {"kind": "follow_up", "id": "q", "value": 1}]
    domains = {"EXP_X": "E", "DOC_LACK": "R"}.get
    small = tasks.evidence(evidence, households=12, site_scope=True, domain_of=domains)
    large = tasks.evidence(evidence, households=200, site_scope=True, domain_of=domains)
    assert [item["id"] for item in small] == ["E", "DOC_LACK"]
    assert large == evidence

"""The rules file: the shipped one loads, and each kind of mistake names the file, the rule
and the field (no database)."""
from __future__ import annotations

import pytest
import yaml

from crisis_ct.catalogues import check_notification_rules
from crisis_ct.notifications.rules import DEFAULT, NotificationRulesError, load_notification_rules


def test_the_shipped_rules_cover_every_event_of_the_issue():
    rules = load_notification_rules()
    assert set(rules.rules) == {"task_new_match", "task_assigned", "claim_expiring", "claim_expired",
                                "task_verified", "task_rejected", "site_high_phase", "area_hotspot",
                                "quarantine_growing", "kobo_sync_failing", "kobo_hook_failing"}
    assert rules.get("claim_expiring").settings["hours_before"] == 2
    assert rules.get("site_high_phase").roles == {"coordinator", "admin", "expert"}
    assert rules.get("task_new_match").subject_in("fr", {"title": {"en": "T", "fr": "Tâche"}, "area": "A",
                                                          "priority": "P1"}) == \
        "Nouvelle tâche P1 près de vous : Tâche (A)"
    check_notification_rules(("P1", "P2", "P3"))


def _write(tmp_path, change):
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "notification_rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "names"), [
    (lambda d: d["rules"][0].update(kind="task_new"), ["rule #1", "field kind"]),
    (lambda d: d["rules"][1].update(roles=["expert", "donor"]), ["rule task_assigned", "field roles"]),
    (lambda d: d["rules"][1].update(channels=["sms"]), ["rule task_assigned", "field channels"]),
    (lambda d: d["rules"][2].update(priority="high"), ["rule claim_expiring", "field priority"]),
    (lambda d: d["rules"][2]["settings"].update(hours_before=-1), ["rule claim_expiring", "settings.hours_before"]),
    (lambda d: d["rules"][3]["subject"].pop("fr"), ["rule claim_expired", "field subject"]),
    (lambda d: d["rules"][6]["subject"].update(en="Site {site_name} is at {phase}"),
     ["rule site_high_phase", "subject.en", "{site_name}"]),
    (lambda d: d["rules"].append(dict(d["rules"][0])), ["rule task_new_match", "appears twice"]),
    (lambda d: d.update(lookback_hours=0), ["field lookback_hours"]),
])
def test_a_mistake_names_the_file_the_rule_and_the_field(tmp_path, change, names):
    path = _write(tmp_path, change)
    with pytest.raises(NotificationRulesError) as error:
        load_notification_rules(path)
    message = str(error.value)
    assert message.startswith(str(path))
    for name in names:
        assert name in message


def test_a_switched_off_rule_is_absent(tmp_path):
    def switch_off(data):
        data["rules"][-1]["enabled"] = False
    rules = load_notification_rules(_write(tmp_path, switch_off))
    assert rules.get("kobo_hook_failing") is None and rules.get("kobo_sync_failing") is not None


def test_task_priorities_must_exist_in_the_mitigation_catalogue():
    with pytest.raises(NotificationRulesError, match="unknown task priorities P2"):
        check_notification_rules(("P1", "P3"))

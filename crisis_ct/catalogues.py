"""The data files coordinators tune (forms/indicators.yaml, forms/mitigation_rules.yaml,
forms/notification_rules.yaml),
loaded once and checked together when the app starts: a mistake stops the service with
a message naming the file, the entry and the field, instead of surfacing mid-request."""
from __future__ import annotations


def validate_all() -> None:
    from crisis_ct.scoring.service import catalogue
    from crisis_ct.tasks.service import catalogues

    catalogue()
    mitigation, _ = catalogues()
    check_notification_rules(mitigation.priorities)


def check_notification_rules(priorities) -> None:
    """The notification rules, and that the task priorities they name exist."""
    from crisis_ct.notifications.rules import DEFAULT, NotificationRulesError, notification_rules

    rules = notification_rules()
    new_tasks = rules.get("task_new_match")
    unknown = sorted(set(new_tasks.settings["priorities"]) - set(priorities)) if new_tasks else []
    if unknown:
        raise NotificationRulesError(DEFAULT, f"names unknown task priorities {', '.join(unknown)} "
                                              f"(forms/mitigation_rules.yaml has {', '.join(priorities)})",
                                     rule="task_new_match", field="settings.priorities")

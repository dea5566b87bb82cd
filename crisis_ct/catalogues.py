"""The data files coordinators tune (forms/indicators.yaml, forms/mitigation_rules.yaml and
the theory-of-change areas its rules name, forms/theory_of_change.yaml, forms/notification_rules.yaml,
forms/service_types.yaml),
loaded once and checked together when the app starts: a mistake stops the service with
a message naming the file, the entry and the field, instead of surfacing mid-request."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import yaml


def validate_all() -> None:
    from crisis_ct.scoring.service import catalogue
    from crisis_ct.referral.service_types import validate_with_rules
    from crisis_ct.tasks.service import catalogues

    catalogue()
    mitigation, _ = catalogues()
    check_notification_rules(mitigation.priorities)
    validate_with_rules()  # forms/service_types.yaml, and the rules' service_types against it


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


def read_yaml(path: Path, error: Callable[[str], Exception]) -> object:
    """A data file's YAML; an unreadable file or broken YAML raises `error(message)`, which
    names the file the way its loader names everything else."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {exc}") from exc

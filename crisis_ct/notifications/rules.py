"""The notification rules (forms/notification_rules.yaml): loaded, checked, frozen.

Coordinators read and tune the file, so every check names the file, the rule and the field
that is wrong; the app refuses to start on a mistake rather than stay silent later."""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from crisis_ct.catalogues import read_yaml

DEFAULT = Path(__file__).resolve().parents[2] / "forms" / "notification_rules.yaml"
LANGUAGES = ("en", "fr")
CHANNELS = ("in_app", "email")
PRIORITIES = ("urgent", "normal")
RECIPIENT_ROLES = ("expert", "coordinator", "admin")

# Every kind the detector knows, with the settings it needs (and their defaults) and the
# placeholders its subject may use. Only these fields ever enter a notification's payload.
KINDS: dict[str, dict[str, Any]] = {
    "task_new_match": {"settings": {"priorities": ["P1", "P2"]}, "fields": ("title", "area", "priority")},
    "task_assigned": {"settings": {}, "fields": ("title", "area")},
    "claim_expiring": {"settings": {"hours_before": 2}, "fields": ("title", "area", "hours")},
    "claim_expired": {"settings": {}, "fields": ("title", "area")},
    "task_verified": {"settings": {}, "fields": ("title", "area")},
    "task_rejected": {"settings": {}, "fields": ("title", "area")},
    "site_high_phase": {"settings": {"min_phase": 4}, "fields": ("area", "phase")},
    "area_hotspot": {"settings": {}, "fields": ("area",)},
    "quarantine_growing": {"settings": {"threshold": 20}, "fields": ("count",)},
    "kobo_sync_failing": {"settings": {"after_hours": 24}, "fields": ("project",)},
    "kobo_hook_failing": {"settings": {"after_hours": 24}, "fields": ("project",)},
}
_RULE_KEYS = ("kind", "roles", "channels", "priority", "subject", "settings", "enabled")


class NotificationRulesError(ValueError):
    def __init__(self, path: Path | str, message: str, *, rule: str | None = None, field: str | None = None):
        where = [str(path)] + ([f"rule {rule}"] if rule else []) + ([f"field {field}"] if field else [])
        super().__init__(f"{': '.join(where)}: {message}")


@dataclass(frozen=True)
class NotificationRule:
    kind: str
    roles: frozenset[str]
    channels: frozenset[str]
    priority: str
    subject: Mapping[str, str]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def subject_in(self, language: str, payload: Mapping[str, Any]) -> str:
        text = self.subject.get(language) or self.subject["en"]
        values = {name: _as_text(payload.get(name), language) for name in KINDS[self.kind]["fields"]}
        return text.format(**values)


@dataclass(frozen=True)
class NotificationRules:
    version: str
    lookback_hours: float
    rules: Mapping[str, NotificationRule]

    def get(self, kind: str) -> NotificationRule | None:
        """The rule of this kind, None when it is switched off or absent."""
        return self.rules.get(kind)


def _as_text(value: Any, language: str) -> str:
    if isinstance(value, Mapping):  # a title kept in both languages
        return str(value.get(language) or value.get("en") or "")
    return "" if value is None else str(value)


def load_notification_rules(path: Path | str = DEFAULT) -> NotificationRules:
    data = read_yaml(path, lambda message: NotificationRulesError(path, message))
    if not isinstance(data, dict):
        raise NotificationRulesError(path, "must be a mapping with version, lookback_hours and rules")
    unknown = sorted(set(data) - {"version", "lookback_hours", "rules"})
    if unknown:
        raise NotificationRulesError(path, f"unknown key(s) {', '.join(unknown)}")
    lookback = data.get("lookback_hours", 24)
    if not isinstance(lookback, (int, float)) or isinstance(lookback, bool) or not 1 <= lookback <= 24 * 14:
        raise NotificationRulesError(path, "must be a number of hours between 1 and 336", field="lookback_hours")
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise NotificationRulesError(path, "must be a non-empty list", field="rules")
    rules: dict[str, NotificationRule] = {}
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        rule = _rule(path, index, entry)
        if rule is None:
            seen.add(entry["kind"])
            continue
        if rule.kind in seen:
            raise NotificationRulesError(path, "appears twice", rule=rule.kind, field="kind")
        seen.add(rule.kind)
        rules[rule.kind] = rule
    return NotificationRules(version=str(data.get("version", "")), lookback_hours=float(lookback), rules=rules)


def _rule(path: Path | str, index: int, entry: Any) -> NotificationRule | None:
    if not isinstance(entry, dict):
        raise NotificationRulesError(path, "must be a mapping", rule=f"#{index}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise NotificationRulesError(path, f"must be one of {', '.join(KINDS)}", rule=f"#{index}", field="kind")
    unknown = sorted(set(entry) - set(_RULE_KEYS))
    if unknown:
        raise NotificationRulesError(path, f"unknown key(s) {', '.join(unknown)}", rule=kind)
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise NotificationRulesError(path, "must be true or false", rule=kind, field="enabled")
    roles = _subset(path, kind, "roles", entry.get("roles"), RECIPIENT_ROLES)
    channels = _subset(path, kind, "channels", entry.get("channels"), CHANNELS)
    priority = entry.get("priority", "normal")
    if priority not in PRIORITIES:
        raise NotificationRulesError(path, f"must be one of {', '.join(PRIORITIES)}", rule=kind, field="priority")
    subject = _subject(path, kind, entry.get("subject"))
    settings = _settings(path, kind, entry.get("settings"))
    if not enabled:
        return None
    return NotificationRule(kind=kind, roles=roles, channels=channels, priority=priority, subject=subject,
                            settings=settings)


def _subset(path, kind: str, name: str, value: Any, allowed: tuple[str, ...]) -> frozenset[str]:
    if not isinstance(value, list) or not value or any(item not in allowed for item in value):
        raise NotificationRulesError(path, f"must be a non-empty list of {', '.join(allowed)}", rule=kind, field=name)
    return frozenset(value)


def _subject(path, kind: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or not value[lang].strip()
                                          for lang in LANGUAGES):
        raise NotificationRulesError(path, "needs a text in en and fr", rule=kind, field="subject")
    allowed = set(KINDS[kind]["fields"])
    for lang in LANGUAGES:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value[lang]) if name is not None}
        except ValueError as exc:
            raise NotificationRulesError(path, f"is not a valid text with placeholders: {exc}", rule=kind,
                                         field=f"subject.{lang}") from exc
        if names - allowed:
            raise NotificationRulesError(
                path, f"uses {', '.join('{' + n + '}' for n in sorted(names - allowed))}; this kind offers only "
                      f"{', '.join('{' + n + '}' for n in KINDS[kind]['fields'])}", rule=kind, field=f"subject.{lang}")
    return {lang: value[lang] for lang in LANGUAGES}


def _settings(path, kind: str, value: Any) -> dict[str, Any]:
    defaults = KINDS[kind]["settings"]
    value = value if value is not None else {}
    if not isinstance(value, dict):
        raise NotificationRulesError(path, "must be a mapping", rule=kind, field="settings")
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise NotificationRulesError(path, f"unknown setting(s) {', '.join(unknown)}; this kind has "
                                           f"{', '.join(defaults) or 'none'}", rule=kind, field="settings")
    settings = {**defaults, **value}
    for name, default in defaults.items():
        current = settings[name]
        if isinstance(default, list):
            if not isinstance(current, list) or not current or not all(isinstance(item, str) for item in current):
                raise NotificationRulesError(path, "must be a non-empty list", rule=kind, field=f"settings.{name}")
        elif not isinstance(current, (int, float)) or isinstance(current, bool) or current <= 0:
            raise NotificationRulesError(path, "must be a positive number", rule=kind, field=f"settings.{name}")
    return settings


@lru_cache(maxsize=1)
def notification_rules() -> NotificationRules:
    """The rules file, read once per process."""
    return load_notification_rules()

"""The service-type catalogue (forms/service_types.yaml): loaded, checked, frozen.

Coordinators edit the file by hand, so every check names the file, the entry and the field
that is wrong. `check_rule_service_types` checks the `service_types:` of every mitigation rule
against it when the app starts (crisis_ct.catalogues).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


from crisis_ct.catalogues import read_yaml
from crisis_ct.tasks.catalogue import Text

DEFAULT = Path(__file__).resolve().parents[2] / "forms" / "service_types.yaml"
LANGUAGES = ("en", "fr")
_TOP_KEYS = ("version", "stale_after_days", "service_types", "personal_email_domains")
_TYPE_KEYS = ("label", "hxl", "never_located")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class ServiceTypesError(ValueError):
    def __init__(self, path: Path | str, message: str, *, entry: str | None = None, field: str | None = None):
        where = [str(path)] + ([f"entry {entry}"] if entry else []) + ([f"field {field}"] if field else [])
        super().__init__(f"{': '.join(where)}: {message}")
        self.path, self.entry, self.field = str(path), entry, field


@dataclass(frozen=True)
class ServiceType:
    code: str
    label: Text
    hxl: str
    never_located: bool = False


@dataclass(frozen=True)
class ServiceTypeCatalogue:
    version: str
    stale_after_days: int
    types: Mapping[str, ServiceType]  # in file order
    personal_email_domains: frozenset[str]

    def label(self, code: str, language: str = "en") -> str:
        service_type = self.types.get(code)
        return service_type.label.get(language) if service_type else code

    def never_located(self, codes) -> list[str]:
        return [code for code in codes if code in self.types and self.types[code].never_located]


def load_service_types(path: Path | str = DEFAULT) -> ServiceTypeCatalogue:
    path = Path(path)
    return parse_service_types(read_yaml(path, lambda message: ServiceTypesError(path, message)), path)


def parse_service_types(raw: object, path: Path | str = "<data>") -> ServiceTypeCatalogue:
    if not isinstance(raw, dict):
        raise ServiceTypesError(path, "expected a mapping with " + ", ".join(_TOP_KEYS))
    for key in raw:
        if key not in _TOP_KEYS:
            raise ServiceTypesError(path, f"unknown top-level key (allowed: {', '.join(_TOP_KEYS)})", field=str(key))
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise ServiceTypesError(path, 'must be a quoted string such as "2026.1"', field="version")
    stale = raw.get("stale_after_days")
    if isinstance(stale, bool) or not isinstance(stale, int) or stale <= 0:
        raise ServiceTypesError(path, f"expected a positive whole number of days, got {stale!r}",
                                field="stale_after_days")
    entries = raw.get("service_types")
    if not isinstance(entries, dict) or not entries:
        raise ServiceTypesError(path, "expected a mapping of service type codes", field="service_types")
    types = {str(code): _service_type(str(code), entry, path) for code, entry in entries.items()}
    hxl_seen: dict[str, str] = {}
    for service_type in types.values():
        if service_type.hxl in hxl_seen:
            raise ServiceTypesError(path, f"the same hxl attribute as {hxl_seen[service_type.hxl]}",
                                    entry=service_type.code, field="hxl")
        hxl_seen[service_type.hxl] = service_type.code
    domains = raw.get("personal_email_domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) and "." in d for d in domains):
        raise ServiceTypesError(path, "expected a list of mail domains such as gmail.com",
                                field="personal_email_domains")
    return ServiceTypeCatalogue(version, stale, types, frozenset(d.lower() for d in domains))


def _service_type(code: str, entry: object, path) -> ServiceType:
    if not _CODE.match(code):
        raise ServiceTypesError(path, "a code is lower case letters, digits and underscores", entry=code)
    if not isinstance(entry, dict):
        raise ServiceTypesError(path, "expected label, hxl and optionally never_located", entry=code)
    for key in entry:
        if key not in _TYPE_KEYS:
            raise ServiceTypesError(path, f"unknown key (allowed: {', '.join(_TYPE_KEYS)})", entry=code,
                                    field=str(key))
    label = entry.get("label")
    if not isinstance(label, dict):
        raise ServiceTypesError(path, "expected a mapping with en and fr", entry=code, field="label")
    for language in LANGUAGES:
        if not isinstance(label.get(language), str) or not label[language].strip():
            raise ServiceTypesError(path, f"missing {language.upper()} text", entry=code, field=f"label.{language}")
    hxl = entry.get("hxl")
    if not isinstance(hxl, str) or not _CODE.match(hxl):
        raise ServiceTypesError(path, "an HXL attribute is lower case letters, digits and underscores",
                                entry=code, field="hxl")
    never_located = entry.get("never_located", False)
    if not isinstance(never_located, bool):
        raise ServiceTypesError(path, "expected true or false", entry=code, field="never_located")
    return ServiceType(code, Text(label["en"].strip(), label["fr"].strip()), hxl, never_located)


def check_rule_service_types(mitigation_catalogue, service_types: ServiceTypeCatalogue,
                             rules_path: Path | str = "forms/mitigation_rules.yaml") -> None:
    """Every `service_types:` code of a mitigation rule names a type of the catalogue."""
    for rule in mitigation_catalogue.rules:
        for index, code in enumerate(rule.service_types):
            if code not in service_types.types:
                raise ServiceTypesError(
                    rules_path, f"unknown service type {code!r} (add it to forms/service_types.yaml)",
                    entry=f"rule {rule.id}", field=f"service_types[{index}]")


@lru_cache(maxsize=1)
def service_types() -> ServiceTypeCatalogue:
    """The catalogue, loaded once per process."""
    return load_service_types()


def validate_with_rules() -> None:
    from crisis_ct.tasks.service import catalogues

    check_rule_service_types(catalogues()[0], service_types())

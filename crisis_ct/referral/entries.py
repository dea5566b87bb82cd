"""What a directory entry may hold, checked field by field: plain functions shared by the
API, the web form and the sheet import, so all three refuse the same things the same way.

Do no harm (domain.md §4.3): the place of a `never_located` service (safe accommodation for
victims) is refused, coordinates and service-point name alike; contacts are institutional (a
focal point named by role, an office phone and email), never a private person's.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from crisis_ct.referral.service_types import ServiceTypeCatalogue

MAX_LENGTHS = {"code": 64, "organisation": 200, "service_point_name": 200, "opening_hours": 200,
               "focal_point_role": 200, "office_phone": 40, "office_email": 254, "referral_requirements": 1000}
_EMAIL = re.compile(r"^[^@\s<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,40}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PHONE_LIKE = re.compile(r"\d[\d ()./-]{5,}\d")
NEVER_LOCATED_MESSAGE = (
    "{types} is never located in crisis-ct (domain.md §4.3: the place of safe accommodation for "
    "victims is never stored): leave the service point and its coordinates empty; people reach it "
    "through the focal point.")


class EntryInvalid(ValueError):
    """One or more fields are wrong: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ProviderEntry:
    """A checked directory entry, ready to store."""
    code: str
    organisation: str
    service_types: tuple[str, ...]
    area_pcodes: tuple[str, ...]
    service_point_name: str | None = None
    lon: float | None = None
    lat: float | None = None
    languages: tuple[str, ...] = ()
    opening_hours: str | None = None
    focal_point_role: str | None = None
    office_phone: str | None = None
    office_email: str | None = None
    referral_requirements: str | None = None
    last_verified_on: date | None = None


@dataclass
class _Checker:
    raw: Mapping[str, object]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        value = "" if value is None else str(value).strip()
        if not value:
            if required:
                self.errors[name] = "required"
            return None
        if len(value) > MAX_LENGTHS[name]:
            self.errors[name] = f"at most {MAX_LENGTHS[name]} characters"
        return value

    def codes(self, name: str) -> tuple[str, ...]:
        """A list, or one text with the codes separated by ';' or ',' (the sheet's cells)."""
        value = self.raw.get(name)
        if value is None or value == "":
            return ()
        items = value if isinstance(value, (list, tuple)) else re.split(r"[;,]", str(value))
        return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = float(str(value).strip().replace(",", ".")) if not isinstance(value, (int, float)) else value
        except ValueError:
            self.errors[name] = "a number in decimal degrees"
            return None
        if isinstance(number, bool) or not (low <= number <= high):
            self.errors[name] = f"between {low:g} and {high:g} degrees"
            return None
        return float(number)

    def day(self, name: str, today: date) -> date | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, date):
            parsed = value
        else:
            try:
                parsed = date.fromisoformat(str(value).strip()[:10])
            except ValueError:
                self.errors[name] = "a date as YYYY-MM-DD"
                return None
        if parsed > today:
            self.errors[name] = "may not be in the future"
        return parsed


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def derived_code(organisation: str, service_point_name: str | None, pcodes: tuple[str, ...]) -> str:
    """The key of an entry sent without one: the same sheet row gets the same code each time."""
    return f"{slug(organisation) or 'provider'}-{slug(service_point_name or (pcodes[0] if pcodes else ''))}"[:64]


def check_entry(raw: Mapping[str, object], *, types: ServiceTypeCatalogue, known_pcodes: Collection[str],
                today: date) -> ProviderEntry:
    """The entry, or EntryInvalid naming every wrong field. `known_pcodes`: the operation's
    admin areas; `raw` uses the field names of ProviderEntry, with `longitude`/`latitude`."""
    check = _Checker(raw)
    organisation = check.text("organisation", required=True)
    service_types = check.codes("service_types")
    unknown = [code for code in service_types if code not in types.types]
    if not service_types:
        check.errors["service_types"] = "at least one service type"
    elif unknown:
        check.errors["service_types"] = f"unknown service type {unknown[0]!r} (known: {', '.join(types.types)})"
    pcodes = check.codes("area_pcodes")
    missing = [pcode for pcode in pcodes if pcode not in known_pcodes]
    if not pcodes:
        check.errors["area_pcodes"] = "at least one admin area P-code the provider covers"
    elif missing:
        check.errors["area_pcodes"] = f"no admin area {missing[0]!r} in this operation"
    point_name = check.text("service_point_name")
    lon = check.number("longitude", -180, 180)
    lat = check.number("latitude", -90, 90)
    if (lon is None) != (lat is None) and "longitude" not in check.errors and "latitude" not in check.errors:
        check.errors["latitude" if lat is None else "longitude"] = "give both longitude and latitude, or neither"
    hidden = types.never_located(service_types)
    if hidden and (point_name or raw.get("longitude") not in (None, "") or raw.get("latitude") not in (None, "")):
        labels = ", ".join(types.label(code) for code in hidden)
        check.errors["service_point"] = NEVER_LOCATED_MESSAGE.format(types=labels)
    languages = check.codes("languages")
    if any(not _LANGUAGE.match(code.lower()) for code in languages):
        check.errors["languages"] = "language codes such as en, fr, ar"
    role = check.text("focal_point_role")
    if role and ("@" in role or _PHONE_LIKE.search(role)):
        check.errors["focal_point_role"] = ("a role such as 'CT case-management focal point', never a person's "
                                            "name or private contact: put the office phone and email in their fields")
    phone = check.text("office_phone")
    if phone and not _PHONE.match(phone):
        check.errors["office_phone"] = "an office phone number: digits, spaces and + ( ) - . /"
    email = check.text("office_email")
    if email and not _EMAIL.match(email):
        check.errors["office_email"] = "an email address"
    elif email and email.rsplit("@", 1)[1].lower() in types.personal_email_domains:
        check.errors["office_email"] = ("looks like a personal mailbox: give the organisation's office address "
                                        "(institutional contacts only)")
    code = check.text("code")
    if code and not _CODE.match(code):
        check.errors["code"] = "letters, digits and _ . - (at most 64)"
    verified = check.day("last_verified_on", today)
    requirements = check.text("referral_requirements")
    hours = check.text("opening_hours")
    if check.errors:
        raise EntryInvalid(check.errors)
    return ProviderEntry(
        code=code or derived_code(organisation, point_name, pcodes), organisation=organisation,
        service_types=service_types, area_pcodes=pcodes, service_point_name=point_name, lon=lon, lat=lat,
        languages=tuple(code.lower() for code in languages), opening_hours=hours, focal_point_role=role,
        office_phone=phone, office_email=email, referral_requirements=requirements, last_verified_on=verified)

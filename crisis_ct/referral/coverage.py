"""Who covers a place, and where the directory falls short: plain functions over plain data,
no database, no Flask.

A provider covers a place when one of its P-codes is the place's area or an area above it
(a provider covering province XZ01 covers every district and site in it).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# The directory answers "is there a referral pathway?" when one of these covers the site: a
# site whose key informants say SVC_REFERRAL = no is then flagged "providers exist — check
# awareness and access" (issue 17) rather than "nobody to refer to".
CASE_MANAGEMENT_TYPES = ("ct_case_management",)
REFERRAL_INDICATOR = "SVC_REFERRAL"
# The task that verifies the referral pathway carries the flag too.
AWARENESS_RULES = ("M01",)


@dataclass(frozen=True)
class Coverage:
    """What the rules need of a provider."""
    id: int
    service_types: frozenset[str]
    pcodes: frozenset[str]
    lon: float | None = None
    lat: float | None = None
    last_verified_on: date | None = None


def covers(provider: Coverage, place_pcodes: Iterable[str], service_type: str | None = None) -> bool:
    """`place_pcodes`: the place's area and every area above it."""
    if service_type is not None and service_type not in provider.service_types:
        return False
    return not provider.pcodes.isdisjoint(place_pcodes)


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius): enough to order service points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def nearest_first(providers: Sequence, lon: float | None, lat: float | None) -> list[tuple[object, float | None]]:
    """(provider, km) with the nearest service point first; providers without one (or a place
    without coordinates) keep their order after those with one."""
    if lon is None or lat is None:
        return [(provider, None) for provider in providers]
    located = [(provider, distance_km(lon, lat, provider.lon, provider.lat)) for provider in providers
               if provider.lon is not None and provider.lat is not None]
    others = [(provider, None) for provider in providers if provider.lon is None or provider.lat is None]
    return sorted(located, key=lambda pair: pair[1]) + others


@dataclass(frozen=True)
class Need:
    """An open task needs `service_types` at a place: `report_pcode` is the admin area the gap is
    listed under, `place_pcodes` the place's area and every area above it."""
    task_id: int
    rule_id: str
    report_pcode: str
    place_pcodes: frozenset[str]
    service_types: tuple[str, ...]


@dataclass(frozen=True)
class Gap:
    pcode: str
    service_type: str
    task_ids: tuple[int, ...]
    rule_ids: tuple[str, ...]


def coverage_gaps(needs: Iterable[Need], providers: Sequence[Coverage]) -> list[Gap]:
    """Per admin area and service type: the open tasks there that need a type no provider
    covers. Sorted by area, then type."""
    found: dict[tuple[str, str], tuple[set[int], set[str]]] = {}
    for need in needs:
        for service_type in need.service_types:
            if any(covers(provider, need.place_pcodes, service_type) for provider in providers):
                continue
            tasks, rules = found.setdefault((need.report_pcode, service_type), (set(), set()))
            tasks.add(need.task_id)
            rules.add(need.rule_id)
    return [Gap(pcode, service_type, tuple(sorted(tasks)), tuple(sorted(rules)))
            for (pcode, service_type), (tasks, rules) in sorted(found.items())]


def awareness_mismatch(referral_answer: object, place_pcodes: Iterable[str], providers: Sequence[Coverage]) -> bool:
    """Key informants say there is no working referral pathway (SVC_REFERRAL = no) while the
    directory lists case management covering the place: people may not know of it or reach it."""
    if referral_answer != "no":
        return False
    place = frozenset(place_pcodes)
    return any(covers(provider, place, service_type) for provider in providers
               for service_type in CASE_MANAGEMENT_TYPES)


def is_stale(last_verified_on: date | None, today: date, after_days: int) -> bool:
    """Never verified, or verified more than `after_days` ago."""
    return last_verified_on is None or last_verified_on < today - timedelta(days=after_days)


def place_chain(*pcodes: str | None) -> frozenset[str]:
    """A site's pcodes (adm1, adm2, adm3) as the set `covers` reads."""
    return frozenset(pcode for pcode in pcodes if pcode)


def area_chain(pcode: str, parents: dict[str, str | None]) -> frozenset[str]:
    """An admin area and every area above it, from a P-code -> parent P-code map."""
    chain, current = set(), pcode
    while current and current not in chain:
        chain.add(current)
        current = parents.get(current)
    return frozenset(chain)

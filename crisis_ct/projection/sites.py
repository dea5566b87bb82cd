"""A site as each audience sees it, and the small-site rule (shared/domain.md §4.3).

Partners (viewers) see where sites are — code, name, type, admin areas, the point — never a
site's phase, domain phases, confidence, recency, assessment date or population: site-level
results are for experts and coordinators. Everyone, experts included, sees a site under 20
households (or of unknown size) without its exploitation-domain indicators: the domain's phase
stays, the answers behind it do not."""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

from crisis_ct.accounts.principal import Principal
from crisis_ct.projection.audience import sees_site_level

PLACE_PROPERTIES = frozenset({"site_id", "name", "site_type", "adm1_pcode", "adm2_pcode", "adm3_pcode"})
SMALL_SITE_HOUSEHOLDS = 20
DOMAINS_HIDDEN_AT_SMALL_SITES = frozenset({"E"})

DomainOf = Callable[[str], "str | None"]


def visible_properties(principal: Principal, operation_id: int) -> frozenset[str] | None:
    """The site properties the principal sees for the operation's sites; None = all of them."""
    return None if sees_site_level(principal, operation_id) else PLACE_PROPERTIES


def site(principal: Principal, operation_id: int, properties: Mapping) -> dict:
    """One site's properties (as the sites GeoJSON carries them) as the principal may see them."""
    return only(properties, visible_properties(principal, operation_id))


def only(properties: Mapping, names: frozenset[str] | None) -> dict:
    return dict(properties) if names is None else {k: v for k, v in properties.items() if k in names}


def is_small(households: int | None) -> bool:
    """Under 20 households, or of unknown size (the careful reading)."""
    return (households or 0) < SMALL_SITE_HOUSEHOLDS


def hides_indicator(households: int | None, domain: str | None) -> bool:
    """Whether an indicator of this domain is shown only through its domain's phase here.
    An indicator of unknown domain is hidden at a small site too."""
    return is_small(households) and (domain is None or domain in DOMAINS_HIDDEN_AT_SMALL_SITES)


def explanation(households: int | None, stored: Mapping, domain_of: DomainOf) -> dict:
    """A site's stored explanation with the small-site rule applied: hidden indicators keep
    their id and domain, marked suppressed; their ids leave the driver and signal lists."""
    result = dict(stored)
    indicators = []
    for item in stored.get("indicators", []):
        if hides_indicator(households, item.get("domain")):
            item = {"indicator_id": item["indicator_id"], "domain": item.get("domain"), "suppressed": True}
        indicators.append(item)
    result["indicators"] = indicators
    for key in ("drivers", "critical_signals", "unconfirmed_signals"):
        if key in stored:
            result[key] = shown_indicator_ids(households, stored.get(key) or (), domain_of)
    result["small_site_suppression"] = is_small(households)
    return result


def shown_indicator_ids(households: int | None, ids: Iterable[str], domain_of: DomainOf) -> list[str]:
    return [i for i in ids if not hides_indicator(households, domain_of(i))]


def history_entry(households: int | None, entry: Mapping, domain_of: DomainOf) -> dict:
    """One past computation of the site's risk: its drivers under the small-site rule."""
    result = dict(entry)
    if result.get("drivers") is not None:
        result["drivers"] = shown_indicator_ids(households, result["drivers"], domain_of)
    return result

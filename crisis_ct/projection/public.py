"""The public audience (shared/domain.md §4.3, "Public products"): what crisis-ct hands to the
public — an HXL CSV on the Humanitarian Data Exchange, a map in a public report. Stricter than
partners: admin 1 and admin 2 areas only, each with its phase (where partners would see one),
how many sites were assessed (1–2 as "<3"), people rounded to 10 and the share of sites at 3+
and 4+ only over at least 5 sites; no counts per phase, no hotspot flag, no site, no task, no
submission, and no exploitation-domain (E) count of any kind.

Built on the partners' projection (crisis_ct.projection.areas.for_partners), then narrowed:
whatever partners may not see, the public may not either."""
from __future__ import annotations

from typing import Mapping

from crisis_ct.projection import areas

PUBLIC_LEVELS = (1, 2)
PUBLIC_KEYS = ("pcode", "level", "name", "name_en", "name_fr", "parent_pcode", "valid_on", "computed_at",
               "catalogue_version", "status", "phase", "confidence", "sites_assessed", "population_known",
               "pct_sites_3plus", "pct_sites_4plus")
# Datasets the public gets at all; sites, tasks and submissions are never public.
PUBLIC_DATASETS = frozenset({"admin-areas"})


def shows_area(level: int | None) -> bool:
    return level in PUBLIC_LEVELS


def area(summary: Mapping, site_counts: Mapping) -> dict | None:
    """The area as the public may see it; None for an area below admin 2. `site_counts`: the
    area's counts as partners see them (areas.site_counts, decided over the operation's whole
    hierarchy: the public sees fewer levels, so nothing more can be worked out from them)."""
    if not shows_area(summary.get("level")):
        return None
    partner = areas.for_partners(summary, site_counts=site_counts)
    return {key: partner.get(key) for key in PUBLIC_KEYS if key in partner}

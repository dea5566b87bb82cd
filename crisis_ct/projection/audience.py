"""Which audience a principal is in, operation by operation."""
from __future__ import annotations

from typing import Sequence

from crisis_ct.accounts.principal import Principal

SITE_LEVEL_ROLE = "expert"  # experts, coordinators and admins: site-level results (§4.3)


def sees_site_level(principal: Principal, operation_id: int) -> bool:
    """Site-level scores, indicators and tasks of the operation; else admin-level results only."""
    return principal.has_role(operation_id, SITE_LEVEL_ROLE)


def split_by_audience(principal: Principal, operation_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """(operations seen at site level, operations seen at admin level only)."""
    site_level = [op for op in operation_ids if sees_site_level(principal, op)]
    return site_level, [op for op in operation_ids if op not in site_level]


def sees_site_level_anywhere(principal: Principal) -> bool:
    return bool(principal.operation_ids(SITE_LEVEL_ROLE))

"""What a product covers: one operation, or one of its admin areas and everything below it."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site


@dataclass(frozen=True)
class AreaRef:
    id: int
    pcode: str
    level: int
    parent_pcode: str | None
    name_en: str | None
    name_fr: str | None

    def name(self, language: str = "en") -> str:
        preferred, fallback = (self.name_fr, self.name_en) if language == "fr" else (self.name_en, self.name_fr)
        return preferred or fallback or self.pcode


@dataclass(frozen=True)
class Scope:
    operation_id: int
    area: AreaRef | None  # None: the whole operation
    areas: tuple[AreaRef, ...]  # the area and every area below it (all the operation's when None)

    @property
    def area_ids(self) -> list[int]:
        return [area.id for area in self.areas]

    def by_id(self) -> dict[int, AreaRef]:
        return {area.id: area for area in self.areas}

    def site_condition(self) -> sa.ColumnElement[bool]:
        """Sites of the operation inside the area (P-codes of every level are on the site)."""
        condition = Site.operation_id == self.operation_id
        if self.area is None:
            return condition
        column = {1: Site.adm1_pcode, 2: Site.adm2_pcode, 3: Site.adm3_pcode}[self.area.level]
        return sa.and_(condition, column == self.area.pcode)


def operation_areas(session: Session, operation_id: int) -> list[AreaRef]:
    """Every admin area of the operation, without its polygon."""
    rows = session.execute(sa.select(AdminArea.id, AdminArea.pcode, AdminArea.level, AdminArea.parent_pcode,
                                     AdminArea.name_en, AdminArea.name_fr)
                           .where(AdminArea.operation_id == operation_id)
                           .order_by(AdminArea.level, AdminArea.pcode))
    return [AreaRef(*row) for row in rows]


def below(areas: list[AreaRef], root: AreaRef) -> tuple[AreaRef, ...]:
    """The root and its descendants, by parent P-code (P-codes need not nest by prefix)."""
    children: dict[str | None, list[AreaRef]] = {}
    for area in areas:
        children.setdefault(area.parent_pcode, []).append(area)
    found, stack = [], [root]
    while stack:
        area = stack.pop()
        found.append(area)
        stack.extend(child for child in children.get(area.pcode, []) if child.level > area.level)
    return tuple(sorted(found, key=lambda a: (a.level, a.pcode)))


def resolve(session: Session, operation_id: int, pcode: str | None) -> Scope | None:
    """The scope of the operation (or of its area `pcode`); None when there is no such area."""
    areas = operation_areas(session, operation_id)
    if pcode is None:
        return Scope(operation_id, None, tuple(areas))
    root = next((area for area in areas if area.pcode == pcode), None)
    if root is None:
        return None
    return Scope(operation_id, root, below(areas, root))

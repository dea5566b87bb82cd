"""Who an event is for: the people it names, or its audience by role in the event's
operation. Experts hear of a place only when it lies in their areas or within their
radius (crisis_ct.notifications.preferences); with neither set, anywhere in the operation.
New tasks go to experts whose expertise and working languages match, as the task list's
`expertise` and `language=mine` filters match them."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.models import Membership, User
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.notifications.events import Event, Place
from crisis_ct.notifications.preferences import Preferences
from crisis_ct.notifications.rules import NotificationRule
from crisis_ct.spatial import spatial_sql


@dataclass(frozen=True)
class Member:
    user_id: int
    role: str
    expertise: frozenset[str]
    languages: frozenset[str]


class Audience:
    """The active members of the operations events come from, read once per detection run."""

    def __init__(self, session: Session, preferences_of):
        self.session = session
        self._preferences_of = preferences_of  # user id -> Preferences
        self._members: dict[int, list[Member]] = {}
        self._languages: dict[int, frozenset[str]] = {}

    def members(self, operation_id: int) -> list[Member]:
        if operation_id not in self._members:
            rows = self.session.execute(
                sa.select(Membership.user_id, Membership.role, User.expertise, User.languages)
                .join(User, User.id == Membership.user_id)
                .where(Membership.operation_id == operation_id, User.is_active.is_(True))).all()
            self._members[operation_id] = [Member(row.user_id, row.role, frozenset(row.expertise or ()),
                                                  frozenset(row.languages or ())) for row in rows]
        return self._members[operation_id]

    def operation_languages(self, operation_id: int) -> frozenset[str]:
        if operation_id not in self._languages:
            languages = self.session.scalar(sa.select(Operation.languages).where(Operation.id == operation_id))
            self._languages[operation_id] = frozenset(languages or ())
        return self._languages[operation_id]

    def recipients(self, rule: NotificationRule, event: Event) -> list[int]:
        if event.operation_id is None:
            return list(event.user_ids or ())
        members = {m.user_id: m for m in self.members(event.operation_id)}
        if event.user_ids is not None:
            return [uid for uid in event.user_ids if uid in members and members[uid].role in rule.roles]
        chosen = []
        for member in members.values():
            if member.role not in rule.roles:
                continue
            if member.role == "expert" and not self._expert_wants(member, event):
                continue
            chosen.append(member.user_id)
        return sorted(chosen)

    def _expert_wants(self, member: Member, event: Event) -> bool:
        if event.expertise and not member.expertise & event.expertise:
            return False
        if event.expertise and not member.languages & self.operation_languages(event.operation_id):
            return False
        return event.place is None or in_their_area(self.session, self._preferences_of(member.user_id), event.place)


def in_their_area(session: Session, preferences: Preferences, place: Place) -> bool:
    has_areas, has_radius = bool(preferences.areas), preferences.radius_km is not None
    if not has_areas and not has_radius:
        return True
    if has_areas and place.pcodes & set(preferences.areas):
        return True
    return has_radius and _within(session, place, preferences.near_lon, preferences.near_lat, preferences.radius_km)


def _within(session: Session, place: Place, lon: float, lat: float, km: float) -> bool:
    builder, metres = spatial_sql(session), km * 1000
    if place.site_id is not None:
        table, row_id = Site, place.site_id
    elif place.admin_area_id is not None:
        table, row_id = AdminArea, place.admin_area_id
    else:
        return False
    return bool(session.scalar(sa.select(sa.literal(1)).where(
        table.id == row_id, builder.within_m(table.__table__, table.geom, lon, lat, metres))))

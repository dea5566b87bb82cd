"""The task board's filters and the buttons each person sees on a task. Plain
functions over request arguments and the task JSON of crisis_ct.tasks.queries; the
rules themselves stay in crisis_ct.tasks.states (the buttons only mirror them, the
database enforces them)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

from crisis_ct.tasks import states
from crisis_ct.tasks.queries import TaskFilters

# The board's sections, in the order work flows; cancelled tasks only on request.
BOARD_STATUSES = (states.OPEN, states.CLAIMED, states.IN_PROGRESS, states.DONE, states.VERIFIED)
FILTER_STATUSES = (*BOARD_STATUSES, states.CANCELLED)
LANGUAGE_CHOICES = ("en", "fr", "mine")
MAX_WITHIN_KM = 20000.0

EXPERT_ACTIONS = ("claim", "renew", "progress", "complete", "release")
COORDINATOR_ACTIONS = ("assign", "verify", "reject", "cancel")
ACTIONS = (*EXPERT_ACTIONS, *COORDINATOR_ACTIONS)


def parse_lon_lat(text: str | None) -> tuple[float, float] | None:
    """'LON,LAT' in degrees, as the API takes it; anything else is no location."""
    if not text:
        return None
    try:
        lon, lat = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _positive_km(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    if value is None or not math.isfinite(value) or not 0 < value <= MAX_WITHIN_KM:
        return None
    return value


@dataclass(frozen=True)
class BoardFilters:
    """What the filter form holds. Unknown values are dropped, not refused: an old
    bookmark still opens the board."""
    status: str = ""
    priority: str = ""
    expertise: str = ""
    language: str = ""
    pcode: str = ""
    site: str = ""  # one site's tasks (the site page links here)
    near: str = ""  # 'LON,LAT' from the browser's location
    near_site: str = ""  # or a chosen site's code
    within_km: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, priorities: Sequence[str],
                  expertise: Sequence[str]) -> "BoardFilters":
        status = args.get("status", "")
        priority = args.get("priority", "")
        tag = args.get("expertise", "")
        language = args.get("language", "")
        near = args.get("near", "").strip()
        within = args.get("within_km", "").strip()
        return cls(
            status=status if status in FILTER_STATUSES else "",
            priority=priority if priority in priorities else "",
            expertise=tag if tag in expertise else "",
            language=language if language in LANGUAGE_CHOICES else "",
            pcode=args.get("pcode", "").strip()[:32],
            site=args.get("site", "").strip()[:64],
            near=near if parse_lon_lat(near) else "",
            near_site=args.get("near_site", "").strip()[:64],
            within_km=within if _positive_km(within) is not None else "",
        )

    def as_query(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value}

    def task_filters(self, *, user_languages: Sequence[str], site_location: tuple[float, float] | None,
                     status: str | None = None) -> TaskFilters:
        """The query's filters. `site_location` is where `near_site` lies (looked up by the caller);
        the browser's own location wins when both are given."""
        if self.language == "mine":
            languages = tuple(user_languages)
        else:
            languages = (self.language,) if self.language else ()
        near = parse_lon_lat(self.near) or site_location
        return TaskFilters(
            status=status or self.status or None,
            priority=self.priority or None,
            expertise=self.expertise or None,
            languages=languages,
            pcode=self.pcode or None,
            site_id=self.site or None,
            near=near,
            within_km=_positive_km(self.within_km) if near is not None else None,
        )

    @property
    def shown_statuses(self) -> tuple[str, ...]:
        return (self.status,) if self.status else BOARD_STATUSES


@dataclass(frozen=True)
class Capacity:
    """What the signed-in person may do in the task's operation."""
    expert: bool
    coordinator: bool
    user_id: int | None


def _holder_id(task: Mapping) -> int | None:
    claim = task.get("claim") or {}
    return (claim.get("holder") or {}).get("id")


def available_actions(task: Mapping, capacity: Capacity) -> tuple[str, ...]:
    """The buttons to show: allowed from the task's state for this person's role, and for
    holder-only steps only to the holder. A coordinator claims as an expert, as in the API."""
    status = task["status"]
    is_holder = capacity.user_id is not None and _holder_id(task) == capacity.user_id
    shown = []
    for action in states.allowed_actions(status):
        if action in EXPERT_ACTIONS and capacity.expert and states.may_act("expert", action, is_holder=is_holder):
            shown.append(action)
        elif action in EXPERT_ACTIONS and action == "release" and capacity.coordinator and _holder_id(task):
            shown.append(action)  # a coordinator frees anyone's claim
        elif action in COORDINATOR_ACTIONS and capacity.coordinator:
            shown.append(action)
    return tuple(shown)


def acting_role(action: str, *, is_holder: bool, expert: bool, coordinator: bool) -> str | None:
    """The capacity in which the person takes `action`, or None when they may not."""
    if action in COORDINATOR_ACTIONS:
        return "coordinator" if coordinator else None
    if action == "release" and not is_holder and coordinator:
        return "coordinator"
    return "expert" if expert else None

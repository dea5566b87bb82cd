"""Who is asking, and what they may do where. Plain data, no Flask."""
from __future__ import annotations

from dataclasses import dataclass, field

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import ROLE_RANK


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    display_name: str
    roles: dict[int, str]  # operation id -> role
    expertise: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    via: str = "token"  # token | session
    operation_codes: dict[int, str] = field(default_factory=dict)
    preferred_language: str | None = None  # of the pages; None: the browser's

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.email)

    def role_in(self, operation_id: int) -> str | None:
        return self.roles.get(operation_id)

    def has_role(self, operation_id: int, min_role: str) -> bool:
        role = self.roles.get(operation_id)
        return role is not None and ROLE_RANK.get(role, 0) >= ROLE_RANK[min_role]

    def operation_ids(self, min_role: str = "viewer") -> list[int]:
        return sorted(op for op, role in self.roles.items() if ROLE_RANK.get(role, 0) >= ROLE_RANK[min_role])

    def sees_task_holders(self, operation_code: str) -> bool:
        """Who holds a task is shown to the operation's experts and above; viewers (partners,
        donors, other clusters) see that a task is held and until when, not by whom: deployed
        staff's names are not theirs to know."""
        return any(code == operation_code and self.has_role(op, "expert")
                   for op, code in self.operation_codes.items())

    def can_submit(self, operation_id: int) -> bool:
        role = self.roles.get(operation_id)
        return role == "submitter" or self.has_role(operation_id, "coordinator")

    def grantable_roles(self, operation_id: int) -> tuple[str, ...]:
        """The roles this person may give in the operation: a coordinator's or admin's own and
        those below it, never above it; nothing for anyone else."""
        own = ROLE_RANK.get(self.roles.get(operation_id) or "", 0)
        if own < ROLE_RANK["coordinator"]:
            return ()
        return tuple(role for role, rank in sorted(ROLE_RANK.items(), key=lambda item: -item[1]) if rank <= own)

    def highest_rank(self) -> int:
        return max((ROLE_RANK.get(role, 0) for role in self.roles.values()), default=0)

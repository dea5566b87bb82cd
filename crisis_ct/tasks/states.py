"""The life of a mitigation task as an explicit state machine.

Everything is data: TRANSITIONS says where each (state, action) pair leads, ACTION_ROLES who
may take an action. The persistence layer applies a transition inside the same database
statement that checks the current state, so two experts cannot both claim one task; this
module only decides what is allowed.

    open --claim/assign--> claimed --progress--> in_progress --complete--> done --verify--> verified
    claimed, in_progress --release/expire--> open
    done --reject--> open            (history records "rejected"; it is not a state a task rests in)
    any non-final state --cancel--> cancelled
"""
from __future__ import annotations

from dataclasses import dataclass

OPEN = "open"
CLAIMED = "claimed"
IN_PROGRESS = "in_progress"
DONE = "done"
VERIFIED = "verified"
CANCELLED = "cancelled"

STATES = (OPEN, CLAIMED, IN_PROGRESS, DONE, VERIFIED, CANCELLED)
FINAL_STATES = frozenset({VERIFIED, CANCELLED})
# A task someone holds: the claim has an expiry and a holder.
HELD_STATES = frozenset({CLAIMED, IN_PROGRESS})

ACTIONS = ("claim", "assign", "renew", "progress", "complete", "release", "expire",
           "verify", "reject", "cancel")

TRANSITIONS: dict[tuple[str, str], str] = {
    (OPEN, "claim"): CLAIMED,
    (OPEN, "assign"): CLAIMED,
    # A coordinator may hand a claimed task to someone else; in progress, release it first so
    # the work already reported stays with the person who did it.
    (CLAIMED, "assign"): CLAIMED,
    (CLAIMED, "renew"): CLAIMED,
    (IN_PROGRESS, "renew"): IN_PROGRESS,
    (CLAIMED, "progress"): IN_PROGRESS,
    (IN_PROGRESS, "progress"): IN_PROGRESS,  # further progress notes
    (IN_PROGRESS, "complete"): DONE,
    (CLAIMED, "release"): OPEN,
    (IN_PROGRESS, "release"): OPEN,
    (CLAIMED, "expire"): OPEN,
    (IN_PROGRESS, "expire"): OPEN,
    (DONE, "verify"): VERIFIED,
    (DONE, "reject"): OPEN,
    **{(state, "cancel"): CANCELLED for state in STATES if state not in FINAL_STATES},
}

# What the history row says happened; "rejected" is how a done -> open rejection shows.
RECORDED_AS = {
    "claim": "claimed", "assign": "assigned", "renew": "renewed", "progress": "progressed",
    "complete": "completed", "release": "released", "expire": "expired", "verify": "verified",
    "reject": "rejected", "cancel": "cancelled",
}

# Roles as in crisis_ct.accounts (expert, coordinator, admin) plus "system" for the expiry job.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "claim": frozenset({"expert"}),
    "assign": frozenset({"coordinator", "admin"}),
    "renew": frozenset({"expert"}),
    "progress": frozenset({"expert"}),
    "complete": frozenset({"expert"}),
    "release": frozenset({"expert", "coordinator", "admin"}),
    "expire": frozenset({"system"}),
    "verify": frozenset({"coordinator", "admin"}),
    "reject": frozenset({"coordinator", "admin"}),
    "cancel": frozenset({"coordinator", "admin"}),
}

# (role, action) pairs allowed only on a task the actor holds: an expert renews, reports on,
# completes or releases their own claim, never a colleague's.
HOLDER_ONLY: frozenset[tuple[str, str]] = frozenset({
    ("expert", "renew"), ("expert", "progress"), ("expert", "complete"), ("expert", "release"),
})


class TransitionError(ValueError):
    def __init__(self, state: str, action: str):
        super().__init__(f"cannot {action} a task that is {state}")
        self.state = state
        self.action = action


class ActionNotAllowed(PermissionError):
    def __init__(self, role: str, action: str, reason: str):
        super().__init__(f"a {role} cannot {action} this task: {reason}")
        self.role = role
        self.action = action


@dataclass(frozen=True)
class Transition:
    """One step, ready to be written to the task history."""
    from_state: str
    action: str
    to_state: str
    recorded_as: str


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(state, action) from None


def allowed_actions(state: str) -> tuple[str, ...]:
    return tuple(action for action in ACTIONS if (state, action) in TRANSITIONS)


def may_act(role: str, action: str, *, is_holder: bool) -> bool:
    """Whether `role` may take `action`; `is_holder` says whether the actor holds the task."""
    if role not in ACTION_ROLES.get(action, ()):
        return False
    return is_holder or (role, action) not in HOLDER_ONLY


def apply(state: str, action: str, *, role: str, is_holder: bool = False) -> Transition:
    """Check role and state together; raises ActionNotAllowed or TransitionError."""
    if action not in ACTION_ROLES:
        raise TransitionError(state, action)
    if role not in ACTION_ROLES[action]:
        raise ActionNotAllowed(role, action, f"needs one of {', '.join(sorted(ACTION_ROLES[action]))}")
    if not may_act(role, action, is_holder=is_holder):
        raise ActionNotAllowed(role, action, "only the expert holding the task may do this")
    return Transition(state, action, next_state(state, action), RECORDED_AS[action])


def is_open(state: str) -> bool:
    """Open for generation purposes: not yet closed for good."""
    return state not in FINAL_STATES

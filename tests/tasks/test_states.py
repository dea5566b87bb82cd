from __future__ import annotations

import itertools

import pytest

from crisis_ct.tasks import states
from crisis_ct.tasks.states import (
    ACTION_ROLES, ACTIONS, STATES, TRANSITIONS, ActionNotAllowed, TransitionError, apply, next_state,
)

EXPECTED = {
    ("open", "claim"): "claimed",
    ("open", "assign"): "claimed",
    ("claimed", "assign"): "claimed",
    ("claimed", "renew"): "claimed",
    ("in_progress", "renew"): "in_progress",
    ("claimed", "progress"): "in_progress",
    ("in_progress", "progress"): "in_progress",
    ("in_progress", "complete"): "done",
    ("claimed", "release"): "open",
    ("in_progress", "release"): "open",
    ("claimed", "expire"): "open",
    ("in_progress", "expire"): "open",
    ("done", "verify"): "verified",
    ("done", "reject"): "open",
    ("open", "cancel"): "cancelled",
    ("claimed", "cancel"): "cancelled",
    ("in_progress", "cancel"): "cancelled",
    ("done", "cancel"): "cancelled",
}


def test_transition_table_is_the_designed_one():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize("state, action", list(itertools.product(STATES, ACTIONS)))
def test_every_state_action_pair_transitions_per_table_or_raises(state, action):
    if (state, action) in EXPECTED:
        assert next_state(state, action) == EXPECTED[(state, action)]
    else:
        with pytest.raises(TransitionError) as caught:
            next_state(state, action)
        assert (caught.value.state, caught.value.action) == (state, action)


@pytest.mark.parametrize("state", sorted(states.FINAL_STATES))
def test_final_states_allow_no_action(state):
    assert states.allowed_actions(state) == ()


def test_every_action_has_roles_and_is_used_in_the_table():
    assert set(ACTION_ROLES) == set(ACTIONS)
    assert {action for _, action in TRANSITIONS} == set(ACTIONS)


def test_every_state_is_reachable_from_open():
    reached, frontier = {"open"}, ["open"]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(STATES)


def test_reject_returns_to_open_and_is_recorded_as_rejected():
    step = apply("done", "reject", role="coordinator")
    assert (step.to_state, step.recorded_as) == ("open", "rejected")


@pytest.mark.parametrize("role, action", [
    ("expert", "assign"), ("expert", "verify"), ("expert", "reject"), ("expert", "cancel"), ("expert", "expire"),
    ("coordinator", "claim"), ("coordinator", "complete"), ("viewer", "claim"), ("system", "cancel"),
])
def test_roles_outside_action_roles_are_refused(role, action):
    state = next(s for (s, a) in TRANSITIONS if a == action)
    with pytest.raises(ActionNotAllowed):
        apply(state, action, role=role, is_holder=True)


def test_an_expert_releases_only_their_own_claim():
    with pytest.raises(ActionNotAllowed):
        apply("claimed", "release", role="expert", is_holder=False)
    assert apply("claimed", "release", role="expert", is_holder=True).to_state == "open"


def test_a_coordinator_releases_any_claim():
    assert apply("in_progress", "release", role="coordinator", is_holder=False).to_state == "open"


def test_an_expert_claims_a_task_nobody_holds():
    assert apply("open", "claim", role="expert").to_state == "claimed"


def test_expiry_is_the_system_s_action():
    assert apply("claimed", "expire", role="system").to_state == "open"


def test_a_permitted_role_still_cannot_skip_states():
    with pytest.raises(TransitionError):
        apply("open", "complete", role="expert", is_holder=True)


def test_unknown_action_raises_transition_error():
    with pytest.raises(TransitionError):
        apply("open", "delete", role="admin")

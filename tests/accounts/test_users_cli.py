"""`crisis-ct users …` and `crisis-ct tokens …` (issue 13, items 1 and 2), on both databases."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from crisis_ct.accounts import people
from crisis_ct.accounts.cli import ROLE_CHOICES
from crisis_ct.accounts.models import ROLES, AuditEvent
from crisis_ct.accounts.operations import check_password
from crisis_ct.cli import main

PASSWORD = "correct horse battery"


@pytest.fixture
def cli(app, seed):
    seed.operation("op1")
    seed.operation("op2")
    runner = app.test_cli_runner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def _password_is(database, email: str, password: str) -> bool:
    with database.session() as session:
        return check_password(people.get_user(session, email), password)


def _actions(database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_cli_offers_every_role():
    assert set(ROLE_CHOICES) == set(ROLES)


def test_a_role_for_an_existing_user_never_changes_the_password(cli, seed, database):
    seed.member("e@example.org", "expert", "op1")
    result = cli("users", "add", "e@example.org", "--role", "viewer", "--operation", "op2",
                 input="a password typed by mistake\n")
    assert result.exit_code == 0, result.output
    assert "password is unchanged" in result.output and "password:" not in result.output
    assert _password_is(database, "e@example.org", PASSWORD)


def test_a_new_user_gets_the_password_from_stdin_or_a_generated_one(cli, database):
    assert cli("users", "add", "p@example.org", "--role", "viewer", "--operation", "op1",
               input="piped password 123\n").exit_code == 0
    assert _password_is(database, "p@example.org", "piped password 123")
    result = cli("users", "add", "g@example.org", "--role", "viewer", "--operation", "op1", input="")
    generated = result.output.split("password: ")[1].strip()
    assert _password_is(database, "g@example.org", generated)


def _run_in_terminal(args: list[str], answers: list[str], env: dict) -> str:
    """Runs crisis-ct with a pseudo-terminal as stdin/stdout/stderr, answering each prompt."""
    leader, follower = pty.openpty()
    command = [str(Path(sys.executable).parent / "crisis-ct"), *args]
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    output, pending = b"", list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 1024)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            # click writes "…:" then getpass writes " " once it has turned echo off and
            # flushed pending input (TCSAFLUSH): answer only after that space.
            if pending and output.endswith(b": "):
                os.write(leader, pending.pop(0).encode() + b"\n")
        elif process.poll() is not None:
            break
    try:
        process.wait(timeout=30)
    finally:
        process.kill()
        os.close(leader)
    return output.decode(errors="replace")


def test_with_a_terminal_the_password_is_asked_twice_without_echo(cli, database, tmp_path):
    env = {**os.environ, "CRISIS_CT_DATABASE_URL": database.url, "CRISIS_CT_SECRET_KEY": "k",
           "CRISIS_CT_VAR_DIR": str(tmp_path)}
    typed = "typed at the terminal"
    output = _run_in_terminal(["users", "add", "t@example.org", "--role", "viewer", "--operation", "op1"],
                              [typed, typed], env)
    assert "Password" in output and "Repeat for confirmation" in output
    assert typed not in output
    assert _password_is(database, "t@example.org", typed)


def test_people_management_commands_change_what_they_say_and_are_audited(cli, seed, database):
    token = seed.member("e@example.org", "expert", "op1", expertise=("CT",))
    cli("users", "add", "e@example.org", "--role", "viewer", "--operation", "op2")
    listing = cli("users", "list").output
    assert "e@example.org" in listing and "op1:expert,op2:viewer" in listing
    seed.member("only1@example.org", "viewer", "op1")
    in_op2 = cli("users", "list", "--operation", "op2").output
    assert "e@example.org" in in_op2 and "only1@example.org" not in in_op2
    shown = cli("users", "show", "e@example.org").output
    assert "expert in op1, viewer in op2" in shown and token[:12] in shown and token not in shown
    tokens = cli("tokens", "list").output
    assert token[:12] in tokens and token not in tokens

    assert cli("users", "disable", "e@example.org").exit_code == 0
    assert "DISABLED" in cli("users", "list").output
    assert cli("users", "enable", "e@example.org").exit_code == 0
    assert cli("users", "remove-role", "e@example.org", "--operation", "op2").exit_code == 0
    assert "op2" not in cli("users", "show", "e@example.org").output.split("roles:")[1].splitlines()[0]
    assert cli("users", "reset-password", "e@example.org", input="a brand new password\n").exit_code == 0
    assert _password_is(database, "e@example.org", "a brand new password")
    assert cli("users", "unlock", "e@example.org").exit_code == 0
    assert cli("users", "set", "e@example.org", "--organisation", "NGO X", "--page-language", "fr").exit_code == 0
    assert "NGO X" in cli("users", "show", "e@example.org").output
    assert cli("tokens", "revoke", "--email", "e@example.org").exit_code == 0

    actions = _actions(database)
    for action in ("user.role_set", "user.disabled", "user.enabled", "user.role_removed", "user.password_reset",
                   "user.unlocked", "user.profile_changed", "token.revoked"):
        assert action in actions, action


def test_mistakes_are_clean_errors(cli, seed):
    seed.member("e@example.org", "expert", "op1")
    result = cli("users", "remove-role", "e@example.org", "--operation", "op2")
    assert result.exit_code == 1 and "has no role in 'op2'" in result.output
    result = cli("users", "disable", "nobody@example.org")
    assert result.exit_code == 1 and "no user with email" in result.output
    result = cli("users", "reset-password", "e@example.org", input="short\n")
    assert result.exit_code == 1 and "at least" in result.output


def test_operations_add_and_list(cli, database):
    assert cli("operations", "add", "op3", "--name", "Third", "--country", "xzy").exit_code == 0
    listing = cli("operations", "list").output.splitlines()
    assert [line.split("\t")[0] for line in listing] == ["op1", "op2", "op3"]
    assert "XZY\tThird" in listing[2]
    # The first name of the command still works, hidden from the help.
    assert cli("operations", "create", "op4", "--name", "Fourth", "--country", "XZX").exit_code == 0
    assert "create" not in cli("operations", "--help").output
    assert "operation.created" in _actions(database)

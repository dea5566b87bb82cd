"""`crisis-ct users …` and `crisis-ct tokens …`: people, roles and API tokens from the command
line, through the same domain functions as the web pages (crisis_ct.accounts.people); every
change is in the audit log. Heavy imports stay inside the commands: `--help` is quick."""
from __future__ import annotations

import secrets
import sys

import click

from crisis_ct.cli_support import AppGroup, cli_actor, fail

# Kept here, not imported from accounts.models, so `crisis-ct users --help` imports no
# SQLAlchemy; tests/accounts/test_users_cli.py checks both lists agree.
ROLE_CHOICES = ("admin", "coordinator", "expert", "viewer", "submitter")


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


def _new_password() -> tuple[str, bool]:
    """A new password: typed twice without echo when a terminal is attached, else one line
    from stdin; empty, one is generated (and then printed). Returns it and whether generated."""
    if sys.stdin.isatty():
        password = click.prompt("Password (empty: generate one)", hide_input=True, confirmation_prompt=True,
                                default="", show_default=False, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if password:
        return password, False
    return secrets.token_urlsafe(12), True


def _run(change):
    """Runs `change(session)` in one committed transaction; an AccountError is a clean exit."""
    from crisis_ct.accounts.operations import AccountError
    from crisis_ct.geography.operations import OperationError
    from crisis_ct.web_db import database

    try:
        with database().session() as session:
            return change(session)
    except (AccountError, OperationError) as exc:
        fail(str(exc))


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """People: their roles, profiles, passwords and access."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLE_CHOICES))
@click.option("--operation", "operation_code", required=True, help="Operation code, e.g. demo")
@click.option("--name", "display_name", help="Display name")
@click.option("--languages", help="Languages they work in, comma-separated: en,fr (new users: en)")
@click.option("--expertise", help="Comma-separated expertise tags: CT,CP,GBV ...")
@click.option("--organisation", help="Their organisation")
def users_add(email, role, operation_code, display_name, languages, expertise, organisation):
    """Add a person with a role, or give an existing one a role in another operation.

    A new person's password is typed twice (terminal) or read from stdin, or generated and
    printed. An existing person's password is never changed here: see reset-password."""
    from crisis_ct.accounts import people

    def add(session):
        exists = people.find_user(session, email) is not None
        password, generated = (None, False) if exists else _new_password()
        result = people.add_role(session, cli_actor(), email, role=role, operation_code=operation_code,
                                 password=password, display_name=display_name, languages=_csv(languages),
                                 expertise=_csv(expertise), organisation=organisation)
        return result.user.email, result.created, password if generated else None

    email, created, generated = _run(add)
    if created:
        click.echo(f"added {email} as {role} in {operation_code}")
    else:
        click.echo(f"{email} is now {role} in {operation_code}; their password is unchanged")
    if generated:
        click.echo(f"password: {generated}")


@users_group.command("list")
@click.option("--operation", "operation_code", help="Only the people of this operation")
def users_list(operation_code):
    """Everyone, with their roles (operation:role) and whether they are disabled."""
    from crisis_ct.accounts import people

    for person in _run(lambda session: people.list_people(session, operation_code)):
        roles = ",".join(f"{code}:{role}" for code, role in person.roles.items()) or "-"
        state = "active" if person.is_active else "DISABLED"
        click.echo(f"{person.email}\t{person.display_name}\t{roles}\t{state}\t{person.organisation or ''}")


@users_group.command("show")
@click.argument("email")
def users_show(email):
    """One person: profile, roles, tokens (never their secret), sessions, sign-in lock."""
    from crisis_ct.accounts import people
    from crisis_ct.accounts.auth import login_policy, session_policy

    policies = {"session_policy": session_policy(), "login_policy": login_policy()}
    details = _run(lambda session: people.person_details(session, email, **policies))
    person = details.person
    lines = [
        ("email", person.email), ("name", person.display_name),
        ("state", "active" if person.is_active else f"disabled since {person.disabled_at:%Y-%m-%d %H:%M} UTC"),
        ("organisation", person.organisation or "-"),
        ("roles", ", ".join(f"{role} in {code}" for code, role in person.roles.items()) or "-"),
        ("expertise", ",".join(person.expertise) or "-"), ("languages", ",".join(person.languages) or "-"),
        ("page language", person.preferred_language or "the browser's"),
        ("open sessions", str(details.open_sessions)),
        ("sign-in", "open" if details.sign_in_locked_until is None
         else f"locked until {details.sign_in_locked_until:%H:%M} UTC (users unlock)"),
    ]
    for label, value in lines:
        click.echo(f"{label + ':':15}{value}")
    for token in details.tokens:
        click.echo(f"{'token:':15}{_token_line(token)}")


def _token_line(token) -> str:
    state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
    scope = token.operation or "all operations"
    return f"{token.prefix}…\t{token.email}\t{token.name or '-'}\t{scope}\t{token.created_at:%Y-%m-%d}\t{state}"


@users_group.command("set")
@click.argument("email")
@click.option("--name", "display_name")
@click.option("--organisation", help="Empty to clear")
@click.option("--expertise", help="Comma-separated tags (replaces the list)")
@click.option("--languages", help="Comma-separated languages they work in (replaces the list)")
@click.option("--page-language", type=click.Choice(("en", "fr", "browser")),
              help="The pages' language; 'browser' follows the browser")
def users_set(email, display_name, organisation, expertise, languages, page_language):
    """Change a person's profile (only the fields given)."""
    from crisis_ct.accounts import people

    fields = {"display_name": display_name, "organisation": organisation, "expertise": _csv(expertise),
              "languages": _csv(languages),
              "preferred_language": None if page_language == "browser" else page_language}
    given = {name: value for name, value in fields.items() if value is not None or
             (name == "preferred_language" and page_language == "browser")}
    _run(lambda session: people.set_profile(session, cli_actor(), email, **given))
    click.echo(f"updated {email}")


@users_group.command("disable")
@click.argument("email")
def users_disable(email):
    """The person can no longer sign in or use their tokens; their sessions end now."""
    from crisis_ct.accounts import people

    _run(lambda session: people.disable_user(session, cli_actor(), email))
    click.echo(f"disabled {email}")


@users_group.command("enable")
@click.argument("email")
def users_enable(email):
    """Let a disabled person sign in again."""
    from crisis_ct.accounts import people

    _run(lambda session: people.enable_user(session, cli_actor(), email))
    click.echo(f"enabled {email}")


@users_group.command("remove-role")
@click.argument("email")
@click.option("--operation", "operation_code", required=True)
def users_remove_role(email, operation_code):
    """Remove the person's role in an operation; ends their sessions and revokes their tokens
    for that operation (all their tokens when no role is left)."""
    from crisis_ct.accounts import people

    revoked = _run(lambda session: people.remove_role(session, cli_actor(), email, operation_code))
    click.echo(f"removed {email} from {operation_code}; {revoked} token(s) revoked")


@users_group.command("reset-password")
@click.argument("email")
def users_reset_password(email):
    """Set a new password (typed twice, or from stdin, or generated); their sessions end."""
    from crisis_ct.accounts import people

    password, generated = _new_password()
    _run(lambda session: people.reset_password(session, cli_actor(), email, password))
    click.echo(f"password of {email} reset; their sessions ended")
    if generated:
        click.echo(f"password: {password}")


@users_group.command("unlock")
@click.argument("email")
def users_unlock(email):
    """Let an email sign in again at once after the lock on repeated failures."""
    from crisis_ct.accounts import people

    was_counted = _run(lambda session: people.unlock(session, cli_actor(), email))
    click.echo(f"unlocked {email}" if was_counted else f"{email} had no failed sign-ins counted")


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """API tokens (only a hash is stored; a token is shown once)."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. kobo-webhook")
@click.option("--operation", "operation_code", help="The token acts only in this operation")
def tokens_create(email, name, operation_code):
    """Create a token; it is printed alone on the last line."""
    from crisis_ct.accounts.operations import create_token

    def create(session):
        row, token = create_token(session, cli_actor(), email, name=name, operation_code=operation_code)
        return row.prefix, token

    prefix, token = _run(create)
    click.echo(f"token {prefix}… created for {email}; it is shown only now:", err=True)
    click.echo(token)


@tokens_group.command("list")
@click.option("--email", help="Only this person's tokens")
@click.option("--all", "include_revoked", is_flag=True, help="Also revoked tokens")
def tokens_list(email, include_revoked):
    """Tokens by prefix, person, name, operation, date (never the token itself)."""
    from crisis_ct.accounts import people

    for token in _run(lambda session: people.list_tokens(session, email, include_revoked=include_revoked)):
        click.echo(_token_line(token))


@tokens_group.command("revoke")
@click.option("--email", help="Revoke every token of this user")
@click.option("--prefix", help="Revoke the token starting with this prefix")
def tokens_revoke(email, prefix):
    """Revoke tokens by user or by prefix."""
    from crisis_ct.accounts.operations import revoke_tokens

    count = _run(lambda session: revoke_tokens(session, cli_actor(), email=email, prefix=prefix))
    click.echo(f"revoked {count} token(s)")

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import AppGroup

from crisis_ct.accounts.models import ROLES
from crisis_ct.accounts.operations import AccountError, add_user, create_token, revoke_tokens
from crisis_ct.cli_support import cli_actor, fail
from crisis_ct.web_db import database


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """People and their roles."""


def _read_password() -> tuple[str, bool]:
    """A password piped on stdin, or a generated one (then printed)."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if line:
            return line, False
    return secrets.token_urlsafe(12), True


@users_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--operation", "operation_code", required=True, help="Operation code, e.g. demo")
@click.option("--name", "display_name", help="Display name")
@click.option("--languages", default="en", show_default=True, help="Comma-separated, preferred first: en,fr")
@click.option("--expertise", default="", help="Comma-separated expertise tags: CT,CP,GBV ...")
@click.option("--organisation", help="The person's organisation (the 4W's who), e.g. IOM")
def users_add(email, role, operation_code, display_name, languages, expertise, organisation):
    """Add a user (or give an existing one a role). The password is read from stdin,
    or generated and printed."""
    password, generated = _read_password()
    try:
        with database().session() as session:
            result = add_user(
                session, cli_actor(), email, role=role, operation_code=operation_code, password=password,
                display_name=display_name, languages=[l.strip() for l in languages.split(",") if l.strip()],
                expertise=[t.strip() for t in expertise.split(",") if t.strip()],
                organisation=organisation.strip() if organisation else None,
            )
            email = result.user.email
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"{'added' if result.created else 'updated'} {email} as {role} in {operation_code}")
    if generated:
        click.echo(f"password: {password}")


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """API tokens (only a hash is stored; a token is shown once)."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. kobo-webhook")
def tokens_create(email, name):
    """Create a token; it is printed alone on the last line."""
    try:
        with database().session() as session:
            row, token = create_token(session, cli_actor(), email, name=name)
            prefix = row.prefix
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"token {prefix}… created for {email}; it is shown only now:", err=True)
    click.echo(token)


@tokens_group.command("revoke")
@click.option("--email", help="Revoke every token of this user")
@click.option("--prefix", help="Revoke the token starting with this prefix")
def tokens_revoke(email, prefix):
    """Revoke tokens by user or by prefix."""
    try:
        with database().session() as session:
            count = revoke_tokens(session, cli_actor(), email=email, prefix=prefix)
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"revoked {count} token(s)")

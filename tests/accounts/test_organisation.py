"""People have an organisation (the 4W's "who"): stored by migration 0014_accounts_sessions on both
databases, set and changed by `crisis-ct users add --organisation`."""
from __future__ import annotations

import sqlalchemy as sa

from crisis_ct.accounts.models import User
from crisis_ct.cli import main


def test_the_migration_adds_the_column_the_model_declares(database):
    columns = {column["name"]: column for column in sa.inspect(database.engine).get_columns("users")}
    assert "organisation" in columns and columns["organisation"]["nullable"]
    assert getattr(columns["organisation"]["type"], "length", None) == User.__table__.c.organisation.type.length


def test_users_add_sets_and_changes_the_organisation(app, seed, database):
    seed.operation("op1")
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["users", "add", "Ana@Example.org", "--role", "expert", "--operation", "op1",
                                  "--organisation", " IOM "], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["users", "add", "ana@example.org", "--role", "coordinator", "--operation", "op1"],
                          input="\n")
    assert again.exit_code == 0, again.output
    with database.session() as session:
        assert session.scalar(sa.select(User.organisation).where(User.email == "ana@example.org")) == "IOM"
    runner.invoke(main, ["users", "add", "ana@example.org", "--role", "expert", "--operation", "op1",
                         "--organisation", "UNHCR"], input="\n")
    with database.session() as session:
        assert session.scalar(sa.select(User.organisation).where(User.email == "ana@example.org")) == "UNHCR"

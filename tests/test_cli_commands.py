"""`crisis-ct db upgrade` and `crisis-ct score` (issue 13, item 11)."""
from __future__ import annotations

from crisis_ct.app import create_app
from crisis_ct.cli import main


def test_db_upgrade_names_the_migrations_it_applied(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "SECRET_KEY": "k"})
    runner = app.test_cli_runner()
    first = runner.invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "applied 0001_foundation" in first.output and "applied 0014_accounts_sessions" in first.output
    again = runner.invoke(main, ["db", "upgrade"])
    assert "applied" not in again.output and "nothing to apply" in again.output
    app.extensions["crisis_ct_db"].dispose()


def test_score_rescores_every_operation_without_a_flag(app, seed):
    seed.operation("op1")
    seed.operation("op2")
    result = app.test_cli_runner().invoke(main, ["score"])
    assert result.exit_code == 0, result.output
    assert "op1: 0 sites scored" in result.output and "op2: 0 sites scored" in result.output
    # Scripts written when --all was required keep working.
    assert app.test_cli_runner().invoke(main, ["score", "--all", "--operation", "op1"]).exit_code == 0

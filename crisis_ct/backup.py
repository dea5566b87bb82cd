"""`crisis-ct db backup FILE` / `db restore FILE`.

SQLite: SQLite's online backup API, page by page, consistent while the service runs (a
writer in the middle of it makes it start over on the pages that changed). PostgreSQL:
`pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction` of the
installed PostgreSQL (the newest under /usr/lib/postgresql/*/bin, CRISIS_CT_PG_BINDIR to
choose, else the ones on PATH). Restore replaces everything in the database: stop the web
and the workers first (docs/deploy.md)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import click
from crisis_ct.cli_support import with_app
from sqlalchemy.engine import make_url

from crisis_ct.cli_support import fail
from crisis_ct.web_db import database


class BackupError(RuntimeError):
    pass


def backup(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
    else:
        _run(_pg_tool("pg_dump"), url, "--format=custom", "--no-owner", f"--file={target}")


def restore(url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    if make_url(url).get_backend_name() == "sqlite":
        _sqlite_copy(source, _sqlite_path(url))
    else:
        _run(_pg_tool("pg_restore"), url, "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--exit-on-error", str(source))


def _sqlite_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    import sqlean  # the sqlite3 module the service uses (crisis_ct.db)

    if not source.exists():
        raise BackupError(f"{source}: no such database file")
    origin, destination = sqlean.connect(str(source)), sqlean.connect(str(target))
    try:
        origin.backup(destination)
    finally:
        destination.close()
        origin.close()


def _pg_tool(name: str) -> str:
    bindir = os.environ.get("CRISIS_CT_PG_BINDIR")
    candidates = [str(Path(bindir) / name)] if bindir else sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parent.parent.name or 0))
    for candidate in reversed(candidates):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    return found


def _libpq_args(url: str) -> tuple[list[str], dict[str, str]]:
    """--dbname as a libpq connection string; the password through the environment, never argv."""
    parsed = make_url(url)
    parts = {"dbname": parsed.database, "user": parsed.username, "host": parsed.host or parsed.query.get("host"),
             "port": str(parsed.port) if parsed.port else parsed.query.get("port")}
    conninfo = " ".join(f"{key}='{value}'" for key, value in parts.items() if value)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return [f"--dbname={conninfo}"], env


def _run(tool: str, url: str, *arguments: str) -> None:
    dbname, env = _libpq_args(url)
    completed = subprocess.run([tool, *dbname, *arguments], env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise BackupError(f"{Path(tool).name} failed: {completed.stderr.strip()[-2000:]}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_app
def backup_command(file: Path) -> None:
    """Write a consistent copy of the database to FILE (safe while the service runs)."""
    try:
        backup(database().url, file)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"backed up to {file}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: replace the database's contents")
@with_app
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database's contents with the backup FILE (stop the web and workers first)."""
    if not yes:
        click.confirm(f"Replace everything in {database().dialect} database with {file}?", abort=True)
    database().dispose()
    try:
        restore(database().url, file)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"restored from {file}")

"""A throwaway PostgreSQL + PostGIS server for tests and benchmarks.

It lives in a temporary directory, listens only on a unix socket there (no TCP port
to collide with), runs with durability off (nothing here needs to survive a crash)
and is removed on stop. PostgreSQL refuses to run as root, so as root the server
runs as the `postgres` system user that Debian's package creates.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

SUPERUSER = "crisis"


def find_bindir() -> Path:
    override = os.environ.get("CRISIS_CT_PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
            "install postgresql and postgis (make test does it)."
        )
    return Path(candidates[-1]).parent


def _version_key(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


class ThrowawayPostgis:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="crisis-ct-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.started = False

    def _cmd(self, *args: str) -> list[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *command]
        return command

    def start(self) -> "ThrowawayPostgis":
        if self.run_as:
            uid = pwd.getpwnam(self.run_as).pw_uid
            os.chown(self.root, uid, -1)
        subprocess.run(
            self._cmd("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        options = (
            f"-k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
        )
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"),
            check=True, stdout=subprocess.DEVNULL,
        )
        self.started = True
        return self

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def dsn(self, database: str) -> str:
        return f"host={self.root} user={SUPERUSER} dbname={database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.root}"

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                self._cmd("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "ThrowawayPostgis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

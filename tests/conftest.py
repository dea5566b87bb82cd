"""Test fixtures. Every test that touches storage runs on SQLite+SpatiaLite and on a
real PostGIS server that this suite starts itself (tests/support/throwaway_postgis.py).

CRISIS_CT_TEST_BACKENDS=sqlite (or postgis) limits the run to one backend while
developing; `make test` runs both.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from crisis_ct.app import create_app  # noqa: E402
from crisis_ct.db import Database, upgrade  # noqa: E402
from crisis_ct.models import metadata  # noqa: E402
from tests.support.throwaway_postgis import ThrowawayPostgis  # noqa: E402

BACKENDS = [b for b in os.environ.get("CRISIS_CT_TEST_BACKENDS", "sqlite,postgis").split(",") if b]
_outcomes: Counter = Counter()


@pytest.fixture(scope="session")
def postgis_server():
    server = ThrowawayPostgis().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _migrated(request, tmp_path_factory):
    """One migrated database per backend for the whole session."""
    urls: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in urls:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
            else:
                url = request.getfixturevalue("postgis_server").create_database("crisis_test")
            database = Database(url)
            upgrade(database)
            database.dispose()
            urls[backend] = url
        return urls[backend]

    return get


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def _clean(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for name in tables:
                connection.exec_driver_sql(f"DELETE FROM {name}")


@pytest.fixture
def database_url(backend, _migrated) -> str:
    return _migrated(backend)


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    _clean(database)
    yield database
    database.dispose()


@pytest.fixture
def app(database, tmp_path):
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "SECRET_KEY": "test-secret"})
    yield app
    app.extensions["crisis_ct_db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for backend in ("sqlite", "postgis"):
            if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid or f"-{backend}-" in report.nodeid:
                _outcomes[(backend, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    terminalreporter.section("storage backends")
    for backend in ("sqlite", "postgis"):
        counts = {outcome: n for (b, outcome), n in _outcomes.items() if b == backend}
        if counts:
            detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            terminalreporter.write_line(f"storage tests on {backend}: {detail}")


class Seed:
    """Builds operations, people and tokens through the same functions the CLI uses."""

    def __init__(self, database: Database):
        self.database = database

    def operation(self, code: str = "op1", *, iso3: str = "XZZ"):
        from crisis_ct.accounts.audit import Actor
        from crisis_ct.geography.operations import create_operation

        with self.database.session() as session:
            return create_operation(session, Actor.system("test"), code, f"Operation {code}", iso3, ["en", "fr"])

    def member(self, email: str, role: str, operation_code: str = "op1", *, expertise=(), languages=("en",),
               password: str = "correct horse battery") -> str:
        """Adds the user with the role and returns a fresh API token."""
        from crisis_ct.accounts.audit import Actor
        from crisis_ct.accounts.operations import add_user, create_token

        with self.database.session() as session:
            add_user(session, Actor.system("test"), email, role=role, operation_code=operation_code,
                     password=password, expertise=list(expertise), languages=list(languages))
            _, token = create_token(session, Actor.system("test"), email)
        return token


@pytest.fixture
def seed(database) -> Seed:
    return Seed(database)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}

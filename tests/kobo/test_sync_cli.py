"""`crisis-ct kobo connect / sync / status` and GET /api/v1/kobo/assets, against the fake Kobo."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion, Submission
from crisis_ct.kobo.secrets import decrypt_token, token_cipher
from crisis_ct.scoring.queue import ScoringQueueEntry
from tests.conftest import auth
from tests.support.kobo_world import SubmissionMaker, form

UID = "aCliAsset0001"
TOKEN = "test-token"


@pytest.fixture
def waits():
    return []


@pytest.fixture
def cli(app, fake_kobo, waits):
    sleeps = []
    app.extensions["kobo_client_factory"] = lambda url, token: KoboClient(url, token, sleep=waits.append)
    app.extensions["kobo_sleep"] = sleeps.append
    runner = app.test_cli_runner()  # result.output holds stdout and stderr

    def run(*args, input=None, env=None):
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    run.sleeps = sleeps
    return run


@pytest.fixture
def operation(seed, fake_kobo):
    seed.operation("op1")
    fake_kobo.add_asset(UID, name="Site assessment (Kobo)", content=form().to_asset_content(), version="vDeployed1")


def records(n: int) -> list[dict]:
    maker = SubmissionMaker()
    made = []
    for _ in range(n):
        record = maker.make("S1")
        record["_xform_id_string"], record["__version__"] = UID, "vDeployed1"
        made.append(record)
    return made


def test_connect_with_server_and_token_env_stores_the_deployed_form(cli, operation, fake_kobo, database):
    result = cli("kobo", "connect", "--operation", "op1", "--asset", UID, "--server", fake_kobo.base_url,
                 "--token-env", "KOBO_TOKEN_OP1", env={"KOBO_TOKEN_OP1": TOKEN})
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset))
        versions = session.scalars(sa.select(KoboFormVersion.version)).all()
    assert (asset.token_env, asset.token_encrypted, asset.name) == ("KOBO_TOKEN_OP1", None, "Site assessment (Kobo)")
    assert versions == ["vDeployed1"]


def test_connect_with_token_on_stdin_stores_it_encrypted_and_never_prints_it(cli, operation, fake_kobo, database):
    result = cli("kobo", "connect", "--operation", "op1", "--asset", UID, "--server", fake_kobo.base_url,
                 "--token-stdin", input=TOKEN + "\n")
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset))
    assert asset.token_encrypted and TOKEN not in asset.token_encrypted
    assert decrypt_token(asset.token_encrypted, token_cipher(secret_key="test-secret")) == TOKEN


def test_connect_without_server_registers_the_bundled_form(cli, operation, database):
    result = cli("kobo", "connect", "--operation", "op1", "--asset", UID)
    assert result.exit_code == 0, result.output
    with database.session() as session:
        assert session.scalars(sa.select(KoboFormVersion.version)).all() == [form().version]


def test_connect_with_a_wrong_token_fails_without_echoing_it(cli, operation, fake_kobo):
    result = cli("kobo", "connect", "--operation", "op1", "--asset", UID, "--server", fake_kobo.base_url,
                 "--token-stdin", input="wrong-secret-123\n")
    assert result.exit_code != 0
    assert "refused the API key" in result.output and "wrong-secret-123" not in result.output


def connect_and_fill(cli, fake_kobo, n=5):
    cli("kobo", "connect", "--operation", "op1", "--asset", UID, "--server", fake_kobo.base_url,
        "--token-env", "KOBO_TOKEN_OP1", env={"KOBO_TOKEN_OP1": TOKEN})
    made = records(n)
    fake_kobo.add_records(UID, made)
    return made


def test_sync_command_stores_reports_and_rescores(cli, operation, fake_kobo, database, world_sites):
    connect_and_fill(cli, fake_kobo, 5)
    fake_kobo.fail_next(1, status=429, retry_after=3)
    result = cli("kobo", "sync", "--operation", "op1", env={"KOBO_TOKEN_OP1": TOKEN})
    assert result.exit_code == 0, result.output
    assert "5 stored" in result.output and TOKEN not in result.output
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 5
        assert session.scalar(sa.select(sa.func.count()).select_from(ScoringQueueEntry)) == 0
        asset = session.scalar(sa.select(KoboAsset))
    assert asset.last_sync_status == "ok" and asset.last_sync_summary["new"]["stored"] == 5


def test_sync_without_the_token_variable_fails_clearly(cli, operation, fake_kobo, world_sites):
    connect_and_fill(cli, fake_kobo, 1)
    result = cli("kobo", "sync", env={"KOBO_TOKEN_OP1": ""})
    assert result.exit_code != 0


def test_sync_every_loops_with_the_given_interval(cli, operation, fake_kobo, database, world_sites):
    connect_and_fill(cli, fake_kobo, 2)
    result = cli("kobo", "sync", "--every", "15", "--max-rounds", "2", env={"KOBO_TOKEN_OP1": TOKEN})
    assert result.exit_code == 0, result.output
    assert cli.sleeps == [900]
    assert len([r for r in fake_kobo.requests if r.path.endswith(f"/{UID}/")]) == 3  # connect + 2 rounds


def test_status_shows_the_last_sync(cli, operation, fake_kobo, world_sites):
    connect_and_fill(cli, fake_kobo, 3)
    cli("kobo", "sync", env={"KOBO_TOKEN_OP1": TOKEN})
    result = cli("kobo", "status", "--operation", "op1")
    assert result.exit_code == 0
    assert UID in result.output and "last sync" in result.output and ": ok;" in result.output
    assert "3 stored" in result.output and "env:KOBO_TOKEN_OP1" in result.output


def test_assets_api_shows_sync_state_to_coordinators_of_the_operation_only(cli, client, seed, operation,
                                                                         fake_kobo, world_sites):
    connect_and_fill(cli, fake_kobo, 2)
    cli("kobo", "sync", env={"KOBO_TOKEN_OP1": TOKEN})
    coordinator = seed.member("coord@example.org", "coordinator")
    body = client.get("/api/v1/kobo/assets", headers=auth(coordinator)).get_json()
    assert [item["asset_uid"] for item in body["items"]] == [UID]
    item = body["items"][0]
    assert item["last_sync_status"] == "ok" and item["last_sync_summary"]["new"]["stored"] == 2
    assert item["token"] == "env:KOBO_TOKEN_OP1" and TOKEN not in str(body)

    seed.operation("op2")
    other = seed.member("other@example.org", "coordinator", "op2")
    assert client.get("/api/v1/kobo/assets", headers=auth(other)).get_json()["items"] == []
    viewer = seed.member("viewer@example.org", "viewer")
    assert client.get("/api/v1/kobo/assets", headers=auth(viewer)).status_code == 403


@pytest.fixture
def world_sites(database, tmp_path):
    """Site S1 in op1, so the fake server's records have a site to match."""
    from crisis_ct.geography.importers import read_sites
    from crisis_ct.geography.operations import get_operation, import_sites
    from tests.support.geo_fixtures import write_sites_csv
    from tests.support.kobo_world import ACTOR, SITES

    path = write_sites_csv(tmp_path / "sites.csv", SITES[:1])
    with database.session() as session:
        import_sites(session, ACTOR, get_operation(session, "op1"), read_sites(path))


# -- a scheduled sync outlives failures (issue 11, item 7) ------------------------------------------
def test_sync_every_keeps_going_through_failing_rounds_and_status_shows_the_failure(
        app, cli, operation, fake_kobo, database, world_sites):
    connect_and_fill(cli, fake_kobo, 2)
    calls = []

    def flaky_factory(url, token):
        calls.append(url)
        if len(calls) == 1:
            raise RuntimeError("something nobody expected")
        return KoboClient(url, token, sleep=lambda s: None, max_retries=1)

    app.extensions["kobo_client_factory"] = flaky_factory
    fake_kobo.misbehave_next(2, "truncate")  # round two: Kobo's bodies arrive cut short, twice
    result = cli("kobo", "sync", "--every", "5", "--max-rounds", "3", env={"KOBO_TOKEN_OP1": TOKEN})
    assert result.exit_code == 0, result.output
    assert "sync round failed (RuntimeError" in result.output and "cut short" in result.output
    assert len(cli.sleeps) == 2
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset))
        stored = session.scalar(sa.select(sa.func.count()).select_from(Submission))
    assert asset.last_sync_status == "ok" and stored == 2  # the third round got through


def test_status_shows_a_failing_sync_and_since_when(cli, operation, fake_kobo, world_sites):
    connect_and_fill(cli, fake_kobo, 1)
    fake_kobo.misbehave_next(50, "not_json")
    assert cli("kobo", "sync", env={"KOBO_TOKEN_OP1": TOKEN}).exit_code != 0
    assert cli("kobo", "sync", env={"KOBO_TOKEN_OP1": TOKEN}).exit_code != 0
    output = cli("kobo", "status").output
    assert ": failed;" in output and "not JSON" in output and "failing since" in output

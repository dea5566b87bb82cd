"""`crisis-ct kobo setup`, `kobo status` (hook failures) and `kobo retry-failed` against the
fake Kobo, which imports, deploys and keeps REST Services as kpi does (issue 11, item 3)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from crisis_ct.cli import main
from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.forms import BUNDLED_FORM
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion
from crisis_ct.accounts.models import ApiToken
from tests.support.kobo_world import SubmissionMaker

TOKEN = "test-token"
PUBLIC = "https://ct.example.org"
ENDPOINT = PUBLIC + "/api/v1/kobo/submissions"


@pytest.fixture
def cli(app, fake_kobo):
    app.extensions["kobo_client_factory"] = lambda url, token: KoboClient(url, token, sleep=lambda s: None)
    app.extensions["kobo_sleep"] = lambda s: None
    runner = app.test_cli_runner()

    def run(*args, input=TOKEN + "\n"):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def operation(seed):
    seed.operation("op1")


def setup(cli, fake_kobo, *extra):
    return cli("kobo", "setup", "--operation", "op1", "--server", fake_kobo.base_url, "--token-stdin",
               "--public-url", PUBLIC, *extra)


def only_project(fake_kobo):
    [asset] = fake_kobo.assets.values()
    return asset


def bearer(hook) -> str:
    return hook["settings"]["custom_headers"]["Authorization"]


def relabelled_form(tmp_path: Path) -> Path:
    """The bundled form with one label changed (a new kpi version, same questions)."""
    workbook = load_workbook(BUNDLED_FORM)
    survey = workbook["survey"]
    header = [cell.value for cell in survey[1]]
    column = header.index("label::English (en)") + 1
    for row in range(2, survey.max_row + 1):
        if survey.cell(row, column).value:
            survey.cell(row, column).value += " (revised)"
            break
    path = tmp_path / "ct_site_assessment.xlsx"
    workbook.save(path)
    return path


def test_setup_from_nothing_imports_deploys_hooks_and_connects(cli, operation, fake_kobo, database, client):
    result = setup(cli, fake_kobo)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and "cct_" not in result.output
    [job] = fake_kobo.imports.values()
    assert job.request["library"] == "false" and job.request["file"][0] == BUNDLED_FORM.name
    asset = only_project(fake_kobo)
    assert (asset.asset_type, asset.deployed, asset.deployment__active) == ("survey", True, True)
    [hook] = asset.hooks.values()
    assert (hook["endpoint"], hook["export_type"], hook["active"], hook["subset_fields"]) == \
        (ENDPOINT, "json", True, [])
    with database.session() as session:
        stored = session.scalar(sa.select(KoboAsset))
        versions = session.scalars(sa.select(KoboFormVersion.version)).all()
    assert (stored.asset_uid, stored.hook_uid, stored.server_url) == (asset.uid, hook["uid"], fake_kobo.base_url)
    assert stored.token_encrypted and versions == [asset.deployed_version_id]
    # The header Kobo will send authenticates as a submitter of op1, and nothing more.
    record = SubmissionMaker().make("S1")
    record["_xform_id_string"], record["__version__"] = asset.uid, asset.deployed_version_id
    headers = {"Authorization": bearer(hook)}
    answer = client.post(urlsplit(hook["endpoint"]).path, json=record, headers=headers)
    assert answer.status_code in (201, 202)  # stored, or quarantined for a site op1 does not know
    assert client.get("/api/v1/kobo/submissions", headers=headers).status_code == 403


def test_setup_again_changes_nothing_that_is_right(cli, operation, fake_kobo, database):
    assert setup(cli, fake_kobo).exit_code == 0
    asset = only_project(fake_kobo)
    [hook] = asset.hooks.values()
    header, version = bearer(hook), asset.deployed_version_id
    fake_kobo.requests.clear()
    result = setup(cli, fake_kobo)
    assert result.exit_code == 0, result.output
    assert "already right" in result.output
    assert len(fake_kobo.assets) == 1 and len(fake_kobo.imports) == 1
    assert [h["uid"] for h in asset.hooks.values()] == [hook["uid"]] and bearer(hook) == header
    assert asset.deployed_version_id == version
    assert not [r for r in fake_kobo.requests if r.method in ("POST", "PATCH", "DELETE")]
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


def test_a_hook_pointing_elsewhere_is_updated_not_duplicated(cli, operation, fake_kobo):
    setup(cli, fake_kobo)
    [hook] = only_project(fake_kobo).hooks.values()
    hook["endpoint"], hook["export_type"] = "https://old-host.example.org/hook", "xml"
    result = setup(cli, fake_kobo)
    assert result.exit_code == 0, result.output
    [same] = only_project(fake_kobo).hooks.values()
    assert (same["uid"], same["endpoint"], same["export_type"]) == (hook["uid"], ENDPOINT, "json")


def test_a_hook_with_a_revoked_token_gets_a_fresh_one(cli, operation, fake_kobo, client):
    setup(cli, fake_kobo)
    [hook] = only_project(fake_kobo).hooks.values()
    old = bearer(hook)
    assert cli("tokens", "revoke", "--email", "kobo-webhook-op1@crisis-ct.invalid", input="").exit_code == 0
    result = setup(cli, fake_kobo)
    assert "token" in result.output and bearer(hook) != old and "cct_" not in result.output
    record = SubmissionMaker().make("S1")
    assert client.post("/api/v1/kobo/submissions", json=record,
                       headers={"Authorization": bearer(hook)}).status_code in (201, 202)
    assert client.post("/api/v1/kobo/submissions", json=record,
                       headers={"Authorization": old}).status_code == 401


def test_setup_with_an_asset_uses_that_project(cli, operation, fake_kobo):
    from tests.support.kobo_world import form

    fake_kobo.add_asset("aExisting000000000001", content=form().to_asset_content(), version="vExisting1")
    result = setup(cli, fake_kobo, "--asset", "aExisting000000000001")
    assert result.exit_code == 0, result.output
    assert not fake_kobo.imports and len(fake_kobo.assets["aExisting000000000001"].hooks) == 1


def test_setup_deploys_active_where_kpi_would_deploy_archived(cli, operation, fake_kobo):
    setup(cli, fake_kobo)
    [deploy] = [r for r in fake_kobo.requests if r.method == "POST" and r.path.endswith("/deployment/")]
    assert only_project(fake_kobo).deployment__active


def test_redeploy_pushes_a_changed_form_and_registers_its_version(cli, operation, fake_kobo, database, tmp_path):
    setup(cli, fake_kobo)
    asset = only_project(fake_kobo)
    first = asset.deployed_version_id
    result = setup(cli, fake_kobo, "--redeploy", "--form", str(relabelled_form(tmp_path)))
    assert result.exit_code == 0, result.output
    assert asset.deployed_version_id != first and "redeployed" in result.output
    assert list(fake_kobo.imports.values())[-1].request["destination"].endswith(f"/api/v2/assets/{asset.uid}/")
    with database.session() as session:
        versions = session.scalars(sa.select(KoboFormVersion.version).order_by(KoboFormVersion.id)).all()
    assert versions == [first, asset.deployed_version_id] and len(asset.hooks) == 1
    # The same form again: no new version, nothing redeployed.
    again = setup(cli, fake_kobo, "--redeploy", "--form", str(relabelled_form(tmp_path)))
    assert "nothing to redeploy" in again.output and asset.deployed_version_id == versions[-1]


def test_a_failed_import_stops_with_kobos_message(cli, operation, fake_kobo, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    # FormSpec reads it first: a broken form never reaches Kobo.
    result = setup(cli, fake_kobo, "--form", str(broken))
    assert result.exit_code != 0 and not fake_kobo.imports


def test_status_shows_failed_deliveries_and_retry_failed_asks_kobo(cli, operation, fake_kobo):
    setup(cli, fake_kobo)
    asset = only_project(fake_kobo)
    [hook_uid] = asset.hooks
    fake_kobo.add_hook_log(asset.uid, hook_uid, 1234, status_code=500, message="Internal Server Error")
    fake_kobo.add_hook_log(asset.uid, hook_uid, 1235, status=2, status_code=201, message="stored")
    status = cli("kobo", "status", "--operation", "op1", input="")
    assert "1 failed delivery" in status.output and "submission 1234: HTTP 500" in status.output
    retried = cli("kobo", "retry-failed", "--operation", "op1", input="")
    assert retried.exit_code == 0 and "retries 1 failed delivery" in retried.output
    again = cli("kobo", "retry-failed", "--operation", "op1", input="")
    assert "no failed delivery" in again.output  # Kobo answered 304
    assert "0 failed deliveries" in cli("kobo", "status", input="").output


# -- the fake behaves as kpi does where a naive client would go wrong ------------------------------
def _import(fake_kobo, **fields):
    client = KoboClient(fake_kobo.base_url, TOKEN, sleep=lambda s: None)
    _, job = client.call("POST", "/api/v2/imports/", data=fields,
                         files={"file": ("form.xlsx", BUNDLED_FORM.read_bytes())})
    while job.get("status") in (None, "processing"):
        _, job = client.call("GET", f"/api/v2/imports/{job['uid']}/")
    return client, job["messages"]["created"][0]["uid"]


def test_an_import_without_library_false_makes_a_library_block_that_cannot_be_deployed(fake_kobo):
    client, uid = _import(fake_kobo, name="form")
    assert client.get_asset(uid)["asset_type"] == "block"
    with pytest.raises(Exception, match="400"):
        client.call("POST", f"/api/v2/assets/{uid}/deployment/", body={"active": True})


def test_a_deployment_without_active_is_archived_and_a_second_post_is_405(fake_kobo):
    client, uid = _import(fake_kobo, name="form", library="false")
    client.call("POST", f"/api/v2/assets/{uid}/deployment/", body={})
    assert client.get_asset(uid)["deployment__active"] is False
    with pytest.raises(Exception, match="405"):
        client.call("POST", f"/api/v2/assets/{uid}/deployment/", body={"active": True})

"""Issue 11 end to end, on both databases, with the fake Kobo behaving as kpi does:
`kobo setup` from nothing -> submissions through the hook it registered are stored; a
redeploy with a label change -> the next submissions are stored with no manual step; a
status set to not approved -> the site is re-scored without it; a deletion -> withdrawn
and re-scored."""
from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.geography.models import Site
from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.models import QuarantinedSubmission, Submission
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.service import process_queue
from tests.support.kobo_world import SubmissionMaker, build_world

TOKEN = "test-token"


@pytest.fixture
def cli(app, fake_kobo):
    app.extensions["kobo_client_factory"] = lambda url, token: KoboClient(url, token, sleep=lambda s: None)
    app.extensions["kobo_sleep"] = lambda s: None
    runner = app.test_cli_runner()

    def run(*args, input=""):
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def operation_with_sites(database, seed, tmp_path):
    """op1 with its admin areas and sites, and no Kobo project yet."""
    build_world(database, seed, tmp_path, with_asset=False)


class Kobo:
    """What Kobo does around one project: keep a submission and push it through the hook."""

    def __init__(self, fake, web):
        self.fake, self.web = fake, web
        [self.asset] = fake.assets.values()
        [self.hook] = self.asset.hooks.values()
        self.maker = SubmissionMaker(seed=21)

    def submit(self, site: str, **kwargs) -> tuple[dict, int]:
        record = self.maker.make(site, **kwargs)
        record["_xform_id_string"] = self.asset.uid
        record["__version__"] = self.asset.deployed_version_id
        self.fake.add_records(self.asset.uid, [record])
        response = self.web.post(urlsplit(self.hook["endpoint"]).path, json=record,
                                 headers=dict(self.hook["settings"]["custom_headers"]))
        return record, response.status_code

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.fake.base_url}/api/v2/assets/{self.asset.uid}/{path}",
                                headers={"Authorization": f"Token {TOKEN}"}, timeout=10, **kwargs)


def s1_score(database) -> SiteRiskScore:
    with database.session() as session:
        return session.scalar(sa.select(SiteRiskScore).join(Site, Site.id == SiteRiskScore.site_id)
                              .where(Site.site_code == "S1", SiteRiskScore.is_current))


def stored_id(database, kobo_id: int) -> int:
    with database.session() as session:
        return session.scalar(sa.select(Submission.id).where(Submission.kobo_id == kobo_id))


def test_setup_hook_redeploy_review_and_deletion(app, client, cli, database, fake_kobo, operation_with_sites):
    # 1. One command from nothing.
    cli("kobo", "setup", "--operation", "op1", "--server", fake_kobo.base_url, "--token-stdin",
        "--public-url", "https://ct.example.org", input=TOKEN + "\n")
    kobo = Kobo(fake_kobo, client)

    # 2. Submissions through the hook, as Kobo posts them (with the header the hook holds).
    first = [kobo.submit("S1", risk=0.2) for _ in range(3)]
    assert [status for _, status in first] == [201, 201, 201]
    with app.app_context():
        drain(database)
    assert len(s1_score(database).explanation["submission_ids"]) == 3

    # 3. Someone fixes a label in Kobo and redeploys: a new kpi version uid in every later
    #    submission. They are stored at once, with no sync, replay or command.
    content = copy.deepcopy(kobo.asset.content)
    row = next(r for r in content["survey"] if r.get("label"))
    row["label"] = [f"{label} (fixed)" if label else label for label in row["label"]]
    old_version = kobo.asset.deployed_version_id
    assert fake_kobo.deploy(kobo.asset.uid, content) != old_version
    later, status = kobo.submit("S1", risk=0.2)
    assert status == 201 and later["__version__"] != old_version
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(QuarantinedSubmission)) == 0
        assert session.scalar(sa.select(Submission.form_version).where(Submission.kobo_id == later["_id"])) == \
            later["__version__"]

    # 4. A coordinator marks one interview not approved in Kobo: no hook fires; the sync sees it.
    rejected = first[0][0]
    assert kobo.api("PATCH", f"data/{rejected['_id']}/validation_status/",
                    json={"validation_status.uid": "validation_status_not_approved"}).status_code == 200
    cli("kobo", "sync", "--operation", "op1")
    with app.app_context():
        drain(database)
    score = s1_score(database)
    assert stored_id(database, rejected["_id"]) not in score.explanation["submission_ids"]
    assert len(score.explanation["submission_ids"]) == 3
    assert score.explanation["review"]["left_out"]["not_approved"] == 1

    # 5. An interview is deleted in Kobo: withdrawn, kept, and the site re-scored without it.
    deleted = first[1][0]
    assert kobo.api("DELETE", f"data/{deleted['_id']}/").status_code == 204
    output = cli("kobo", "sync", "--operation", "op1").output
    assert "withdrawn (deleted in Kobo): 1" in output
    with app.app_context():
        drain(database)
    score = s1_score(database)
    assert stored_id(database, deleted["_id"]) not in score.explanation["submission_ids"]
    assert len(score.explanation["submission_ids"]) == 2
    assert score.explanation["review"]["left_out"] == {"not_approved": 1, "withdrawn": 1, "total": 2}
    with database.session() as session:
        gone = session.scalar(sa.select(Submission).where(Submission.kobo_id == deleted["_id"]))
    assert gone.withdrawn_reason == "deleted_in_kobo"

    # Running the set-up again changes nothing: one hook, same token.
    header = dict(kobo.hook["settings"]["custom_headers"])
    cli("kobo", "setup", "--operation", "op1", "--server", fake_kobo.base_url, "--token-stdin",
        "--public-url", "https://ct.example.org", input=TOKEN + "\n")
    assert len(kobo.asset.hooks) == 1 and kobo.hook["settings"]["custom_headers"] == header


def drain(database) -> None:
    """What the worker's scoring.queue job does: re-score the queued sites."""
    with database.session() as session:
        process_queue(session)

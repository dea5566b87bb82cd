"""The proof of issue 14 on PostGIS: two gunicorn instances and two workers (all jobs) on one
database, while webhooks arrive through both instances, `crisis-ct kobo sync` pulls from the
fake Kobo server (and drains the queue, as the workers do) and experts claim one task through
both instances. Every submission is stored once and scored, the claim is won exactly once,
and no worker logs an error."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from crisis_ct.db import Database, upgrade
from crisis_ct.kobo.forms import add_form_version, register_asset
from crisis_ct.kobo.models import KoboAsset, Submission
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.queue import ScoringQueueEntry
from crisis_ct.tasks.models import MitigationTask, TaskHistory
from tests.conftest import BACKENDS, Seed
from tests.kobo.fake_kobo import FakeKobo
from tests.support.kobo_world import SubmissionMaker, build_world, form

pytestmark = pytest.mark.skipif("postgis" not in BACKENDS, reason="PostGIS run (CRISIS_CT_TEST_BACKENDS)")

BIN = Path(sys.executable).parent
SYNC_UID = "aProofSync001"
TOKEN = "test-token"
SITES = ("S1", "S2", "S3", "S4")
WEBHOOKS = 48
SYNCED = 12
EXPERTS = 12


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, method: str, path: str, token: str, body=None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def proof_database(postgis_server):
    url = postgis_server.create_database("crisis_proof")
    database = Database(url)
    upgrade(database)
    yield database
    database.dispose()


def test_two_servers_and_two_workers_store_score_and_claim_exactly_once(proof_database, tmp_path):
    database = proof_database
    seed = Seed(database)
    world = build_world(database, seed, tmp_path)
    submitter = seed.member("kobo@example.org", "submitter")
    maker = SubmissionMaker(21)
    with FakeKobo(tokens=(TOKEN,)) as kobo:
        kobo.add_asset(SYNC_UID, content=form().to_asset_content(), version=form().version)
        with database.session() as session:
            asset = register_asset(session, world.operation_id, SYNC_UID, name="synced", server_url=kobo.base_url)
            asset.token_env = "KOBO_TOKEN_PROOF"
            add_form_version(session, asset, form())
        synced = [dict(maker.make(SITES[i % 4], risk=0.9), _xform_id_string=SYNC_UID) for i in range(SYNCED)]
        kobo.add_records(SYNC_UID, synced)
        pushed = [maker.make(SITES[i % 4], risk=0.9) for i in range(WEBHOOKS)]

        env = dict(os.environ, CRISIS_CT_DATABASE_URL=database.url, CRISIS_CT_SECRET_KEY="proof-secret",
                   CRISIS_CT_VAR_DIR=str(tmp_path / "var"), KOBO_TOKEN_PROOF=TOKEN)
        ports = [free_port(), free_port()]
        processes, logs = [], {}

        def start(name, command):
            logs[name] = tmp_path / f"{name}.log"
            with logs[name].open("w") as out:
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                                  start_new_session=True))

        try:
            for n, port in enumerate(ports):
                start(f"web{n}", [str(BIN / "gunicorn"), "-c", "python:crisis_ct.serving", "--bind",
                                  f"127.0.0.1:{port}", "--workers", "1"])
            for n in range(2):
                start(f"worker{n}", [str(BIN / "crisis-ct"), "worker"])
            wait_until(lambda: all(_healthz(port) for port in ports), 60, "both web servers")

            results: list = []

            def push(chunk):
                for index, record in chunk:
                    results.append(request(ports[index % 2], "POST", "/api/v1/kobo/submissions", submitter, record))

            senders = [threading.Thread(target=push, args=(list(enumerate(pushed))[k::4],)) for k in range(4)]
            for sender in senders:
                sender.start()
            sync = subprocess.run([str(BIN / "crisis-ct"), "kobo", "sync", "--asset", SYNC_UID], env=env,
                                  capture_output=True, text=True, timeout=300)
            for sender in senders:
                sender.join(timeout=300)
            assert sync.returncode == 0, sync.stdout + sync.stderr
            assert sorted(status for status, _ in results) == [201] * WEBHOOKS, results[:3]

            def all_scored():
                with database.session() as session:
                    if session.scalar(sa.select(sa.func.count()).select_from(ScoringQueueEntry)):
                        return False
                    return session.scalar(sa.select(KoboAsset.last_sync_at).where(KoboAsset.asset_uid == SYNC_UID))
            wait_until(all_scored, 120, "the queue to be drained")

            with database.session() as session:
                instances = Counter(session.scalars(sa.select(Submission.instance_id)))
                by_site = {}
                for site_id, submission_id in session.execute(sa.select(Submission.site_id, Submission.id)):
                    by_site.setdefault(site_id, set()).add(submission_id)
                current = {score.site_id: score for score in session.scalars(
                    sa.select(SiteRiskScore).where(SiteRiskScore.is_current))}
                task = session.scalar(sa.select(MitigationTask).where(MitigationTask.status == "open",
                                                                      MitigationTask.site_id.is_not(None))
                                      .order_by(MitigationTask.id).limit(1))
            assert len(instances) == WEBHOOKS + SYNCED and set(instances.values()) == {1}
            for site_id, submission_ids in by_site.items():
                assert set(current[site_id].explanation["submission_ids"]) == submission_ids

            # Experts race for one task through both instances: exactly one wins.
            assert task is not None
            tags = [tag for tag in task.expertise_tags.replace(",", " ").split() if tag]
            tokens = [seed.member(f"expert{i}@example.org", "expert", expertise=tags) for i in range(EXPERTS)]
            barrier = threading.Barrier(EXPERTS)
            claims: list = [None] * EXPERTS

            def claim(i):
                barrier.wait()
                claims[i] = request(ports[i % 2], "POST", f"/api/v1/tasks/{task.id}/claim", tokens[i], {})[0]

            claimers = [threading.Thread(target=claim, args=(i,)) for i in range(EXPERTS)]
            for claimer in claimers:
                claimer.start()
            for claimer in claimers:
                claimer.join(timeout=120)
            assert Counter(claims) == Counter({200: 1, 409: EXPERTS - 1})
            with database.session() as session:
                assert session.scalar(sa.select(sa.func.count()).select_from(TaskHistory).where(
                    TaskHistory.task_id == task.id, TaskHistory.action == "claimed")) == 1
            assert all(process.poll() is None for process in processes), "a server or worker died"
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
    for name in ("worker0", "worker1"):
        text = logs[name].read_text()
        assert "ERROR" not in text and "Traceback" not in text and "failed" not in text, f"{name}:\n{text}"
        assert "started" in text
    for name in ("web0", "web1"):
        assert "Traceback" not in logs[name].read_text()


def _healthz(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz", "")[0] == 200
    except OSError:
        return False

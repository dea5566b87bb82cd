"""Each worker writes its heartbeat every HEARTBEAT_SECONDS from a thread of its own, so a
long job does not make a live worker look dead (/healthz reports the age of the newest)."""
from __future__ import annotations

import logging
import os
import socket
import threading

import sqlalchemy as sa

from crisis_ct.db import Database
from crisis_ct.jobs.locks import HEARTBEAT_SECONDS
from crisis_ct.jobs.models import WorkerHeartbeat
from crisis_ct.timeutil import utcnow

log = logging.getLogger(__name__)


def this_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    def __init__(self, database: Database, worker_id: str, every: float = HEARTBEAT_SECONDS):
        self.database, self.worker_id, self.every = database, worker_id, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
        self._started_at = utcnow()

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            with self.database.session() as session:
                session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except sa.exc.SQLAlchemyError:
            log.warning("could not remove this worker's heartbeat", exc_info=True)

    def beat(self) -> None:
        with self.database.session() as session:
            row = session.get(WorkerHeartbeat, self.worker_id)
            if row is None:
                session.add(WorkerHeartbeat(worker_id=self.worker_id, started_at=self._started_at, beat_at=utcnow()))
            else:
                row.beat_at = utcnow()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except sa.exc.SQLAlchemyError:  # the database is away: beat again later
                log.warning("heartbeat failed", exc_info=True)

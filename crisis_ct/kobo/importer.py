"""Offline import of a Kobo export (JSON, XLSX, CSV), and the batch storing that the
pull sync shares with it.

An export can hold hundreds of thousands of submissions: records are streamed from the
file and stored in batches of 1,000, one transaction per batch, so memory stays flat and
a failure part-way keeps every batch before it (re-running the import stores nothing
twice: the Ingestor recognises what it already has).
"""
from __future__ import annotations

import gc
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.bulk import cyclic_gc_paused
from crisis_ct.db import Database
from crisis_ct.kobo.batch_prepare import prepare_batch
from crisis_ct.kobo.batch_read import read_batch
from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.exports import ExportError, read_export
from crisis_ct.kobo.forms import AssetRef, FormVersions
from crisis_ct.kobo.ingest import DUPLICATE, HISTORY, QUARANTINED, STORED, UPDATED, Ingestor, Outcome
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.turns import Turns
from crisis_ct.kobo.versions import resolve_versions

BATCH_SIZE = 1000
# The helper thread reads this many records between turns (~1 ms of work).
READ_STEP = 25
COLLECT_EVERY = 50  # batches

__all__ = ["BATCH_SIZE", "ExportError", "ImportError_", "IngestTally", "batches", "import_export",
           "rescore_queued_sites", "store_batch", "store_batches"]


class ImportError_(ValueError):  # noqa: N801 (the builtin ImportError means something else)
    """The import cannot start (unknown asset, no form); nothing was stored."""


@dataclass
class IngestTally:
    """What happened to the records of a run, by outcome."""

    read: int = 0
    stored: int = 0       # new submissions
    updated: int = 0      # a newer version of a stored submission (an edit)
    history: int = 0      # an older version arriving late: kept in the history only
    duplicates: int = 0   # already stored exactly so
    quarantined: int = 0

    def add(self, outcomes: Iterable[Outcome]) -> None:
        field_of = {STORED: "stored", UPDATED: "updated", HISTORY: "history", DUPLICATE: "duplicates",
                    QUARANTINED: "quarantined"}
        for outcome in outcomes:
            self.read += 1
            name = field_of[outcome.status]
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def line(self) -> str:
        return (f"{self.read} read: {self.stored} stored, {self.updated} updated, {self.history} older versions, "
                f"{self.duplicates} duplicates, {self.quarantined} quarantined")


def batches(records: Iterable[Mapping], size: int = BATCH_SIZE) -> Iterator[list[Mapping]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def store_batch(session: Session, asset: KoboAsset, records: Sequence[Mapping], *, via: str,
                match_distance_m: float, client: KoboClient | None = None,
                before_fetch: Callable[[], None] | None = None) -> list[Outcome]:
    """One batch through the Ingestor, in the caller's transaction. With `client` (the pull
    sync's), versions the records name that are not registered yet are fetched first
    (`before_fetch` is called before Kobo is asked: the sync ends its transaction there)."""
    records = list(records)
    forms = FormVersions(session, asset)
    read = resolve_versions(session, asset, records, forms, client=(lambda: client) if client else None,
                            before_fetch=before_fetch)
    return Ingestor(session, asset, via=via, match_distance_m=match_distance_m, forms=forms).ingest(
        records, read=read)


def load_asset(session: Session, asset_uid: str) -> KoboAsset:
    asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == asset_uid))
    if asset is None:
        raise ImportError_(f"No Kobo asset '{asset_uid}' is connected: run `crisis-ct kobo connect "
                           f"--operation CODE --asset {asset_uid}` first.")
    return asset


def import_export(database: Database, path: Path | str, asset_uid: str, *, match_distance_m: float = 500.0,
                  batch_size: int = BATCH_SIZE,
                  progress: Callable[[int], None] | None = None) -> IngestTally:
    """Store every submission of a Kobo export file for `asset_uid`.

    Raises ImportError_ before anything is read when the asset is unknown, and ExportError
    (naming file, row, column) when the file is malformed; batches before it stay stored.
    """
    with database.session() as session:
        asset = load_asset(session, asset_uid)
        # XLSX/CSV cells are typed by the form (integers vs decimals, dates); the latest
        # registered version is the one an export is downloaded with.
        form = FormVersions(session, asset).spec(None)
    if form is None:
        raise ImportError_(f"Asset '{asset_uid}' has no form registered: run `crisis-ct kobo connect` "
                           "with --server or --form first.")
    return store_batches(database, asset_uid, batches(read_export(path, form, asset_uid=asset_uid), batch_size),
                         via="import", match_distance_m=match_distance_m, progress=progress)


def store_batches(database: Database, asset_uid: str, record_batches: Iterable[Sequence[Mapping]], *, via: str,
                  match_distance_m: float = 500.0,
                  progress: Callable[[int], None] | None = None) -> IngestTally:
    """Store batch after batch, one transaction each (a failure keeps the batches before it).

    The next batch is taken from `record_batches` (for an export: parsed from the file),
    read (normalised) and prepared (its rows encoded, batch_prepare) in a helper thread
    while the database stores the current one: the server works on the other core, and
    the driver waits for it without holding the GIL. The helper runs only in those waits
    (turns.Turns), so that it does not slow the storing thread's own Python.
    Exceptions of `record_batches` reach the caller when their batch is due.
    """
    with database.session() as session:
        asset = load_asset(session, asset_uid)
        asset_ref = AssetRef(asset.id, asset.operation_id, asset.asset_uid)
        forms = FormVersions(session, asset_ref)
        # A snapshot of the form versions for the helper thread (which has no session);
        # records of a version deployed since are read again by the Ingestor.
        specs = {version: forms.spec(version) for version in forms.known}
        specs[None] = specs[""] = forms.spec(None)
        known = forms.known
    specs = {version: spec for version, spec in specs.items() if spec is not None}
    iterator = iter(record_batches)

    def read_next(done: list):
        # The batch stored before last, with its Ingestor: freed here, in the helper's turn,
        # not by the storing thread (a few microseconds a record of deallocation).
        turns.pause()
        done.clear()
        batch = next(iterator, None)
        if batch is None:
            return None
        batch = list(batch)
        read, prepared = [], []
        for start in range(0, len(batch), READ_STEP):
            turns.pause()
            part = batch[start:start + READ_STEP]
            part_read = read_batch(part, specs, asset_uid=asset_uid, known_versions=known)
            read += part_read
            prepared += prepare_batch(part, part_read, operation_id=asset_ref.operation_id, asset_id=asset_ref.id,
                                      asset_uid=asset_uid, via=via)
        return batch, read, prepared

    tally = IngestTally()
    turns = Turns()
    # No cyclic garbage collection while batches are in flight: each collection would walk
    # the ~100,000 objects of the batch being read and the one being stored (a collection
    # a batch, ~4 us a record in all). Their memory goes by reference counting; the few
    # cycles a batch leaves (its session) are collected every COLLECT_EVERY batches.
    with cyclic_gc_paused() as collecting, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="kobo-read") as reader:
        try:
            _store_all(database, asset_ref, reader, read_next, turns, tally, via=via,
                       match_distance_m=match_distance_m, progress=progress, collecting=collecting)
        finally:
            turns.end()  # else a failed batch would leave the helper waiting for its turn, forever
    return tally


def _store_all(database: Database, asset_ref: AssetRef, reader: ThreadPoolExecutor, read_next, turns: Turns,
               tally: IngestTally, *, via: str, match_distance_m: float, progress, collecting: bool) -> None:
    upcoming = reader.submit(read_next, [])
    done: list = []
    stored = 0
    while (current := _next_batch(upcoming, turns)) is not None:
        batch, read, prepared = current
        upcoming = reader.submit(read_next, done)
        with database.session() as session:
            ingestor = Ingestor(session, asset_ref, via=via, match_distance_m=match_distance_m,
                                waiting=turns.waiting)
            outcomes = ingestor.ingest(batch, read=read, prepared=prepared)
            with turns.waiting():
                session.commit()
        tally.add(outcomes)
        if progress:
            progress(len(batch))
        stored += 1
        if collecting and stored % COLLECT_EVERY == 0:
            gc.collect(1)
        # Kept alive until the helper frees them (see read_next).
        done = [current, ingestor, outcomes]


def _next_batch(upcoming: Future, turns: Turns):
    with turns.waiting():  # the helper may still be reading: let it
        return upcoming.result()


def rescore_queued_sites(database: Database) -> int:
    """Re-score the sites the stored submissions touched (the scoring queue)."""
    from crisis_ct.scoring.service import process_queue  # the scoring module is heavier; load on use

    with database.session() as session:
        return process_queue(session)

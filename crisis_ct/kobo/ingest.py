"""Storing Kobo submissions exactly once, whichever way they arrive.

Webhook (a batch of one), pull sync and export import all call `Ingestor.ingest`.
A submission is one Kobo edit chain: re-sends are recognised by `meta/instanceID`,
edits by `meta/deprecatedID` (and by Kobo's `_id`, which survives edits), so an edit
arriving before its original, or one submission arriving by webhook and by pull,
still ends as one. What cannot be stored is quarantined with a readable reason;
nothing is dropped.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import ContextManager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.bulk import cyclic_gc_paused
from crisis_ct.db import is_postgres
from crisis_ct.kobo.batch_prepare import SUBMISSION_FIXED_COLUMNS, VERSION_FIXED_COLUMNS, RowTexts, chain_key
from crisis_ct.kobo.batch_read import Read, Rejected, form_of, read_record
from crisis_ct.kobo import copy_text as copytext
from crisis_ct.kobo.forms import AssetRef, FormVersions
from crisis_ct.kobo.ingest_sql import JIT_OFF, copy_text, prefetch_statement
from crisis_ct.kobo.models import KoboAsset, QuarantinedSubmission, Submission, SubmissionVersion
from crisis_ct.kobo.normalise import NormalisedSubmission
from crisis_ct.kobo.review import record_validation_statuses
from crisis_ct.kobo.site_match import SiteMatch, SiteMatcher
from crisis_ct.pg_text import array_literal
from crisis_ct.scoring.queue import enqueue_sites
from crisis_ct.timeutil import utcnow

STORED, UPDATED, HISTORY, DUPLICATE, QUARANTINED = "stored", "updated", "history", "duplicate", "quarantined"


@dataclass(frozen=True)
class Outcome:
    status: str
    instance_id: str | None
    submission_id: int | None = None
    quarantine_id: int | None = None
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Ready:
    sub: NormalisedSubmission
    raw: Mapping
    match: object
    texts: RowTexts | None


@dataclass
class _Chain:
    """A submission being written in this batch (new, or existing and changed)."""

    values: dict
    site_ids: set[int] = field(default_factory=set)
    submission_id: int | None = None
    new: bool = True
    # The prepared fixed columns of the submission `values` currently hold (None: encode
    # them from `values`).
    texts: RowTexts | None = None


# COPY column order: what the Ingestor decides, then the prepared fixed part.
_SUBMISSION_COPY_COLUMNS = ("id", "chain_key", "site_id", "matched_by", "version_count", "created_at",
                            "updated_at", *SUBMISSION_FIXED_COLUMNS)
_VERSION_COPY_COLUMNS = ("submission_id", "received_at", *VERSION_FIXED_COLUMNS)


class Ingestor:
    def __init__(self, session: Session, asset: KoboAsset | AssetRef, *, via: str, match_distance_m: float = 500.0,
                 waiting: Callable[[], ContextManager] = nullcontext, forms: FormVersions | None = None):
        """`waiting`: entered around the batch's waits for the database (turns.Turns.waiting
        lets the bulk import's helper thread run in them)."""
        self.session = session
        self._waiting = waiting
        self.asset = asset
        self.via = via
        self.forms = forms or FormVersions(session, asset)
        self.sites = SiteMatcher(session, asset.operation_id, match_distance_m)

    # -- entry point ------------------------------------------------------------------------
    def ingest(self, records: Sequence[Mapping], *, read: Sequence[Read | None] | None = None,
               prepared: Sequence[RowTexts | None] | None = None) -> list[Outcome]:
        """Store a batch in the caller's transaction; one outcome per record, in order.

        `read`: the records already read (batch_read.read_batch, one per record; None where
        the reader could not tell the form version), and `prepared`: their row texts
        (batch_prepare.prepare_batch, made with this Ingestor's asset and `via`), so that
        this batch's reading could overlap the storing of the one before it."""
        # A batch allocates tens of thousands of small objects that all stay alive until
        # it is stored; the cyclic GC would walk them (and the caller's records) again and
        # again for nothing, so it waits until the batch is done.
        with cyclic_gc_paused() if len(records) > 1 else nullcontext():
            return self._ingest(records, read, prepared)

    def _ingest(self, records: Sequence[Mapping], ready: Sequence[Read | None] | None,
                texts: Sequence[RowTexts | None] | None) -> list[Outcome]:
        # One time for the batch's rows, as PostgreSQL's now() is one per transaction.
        self._now = utcnow()
        if ready is None:
            read = [self._read(record) for record in records]
        else:
            read = [item if item is not None else self._read(record) for item, record in zip(ready, records)]
        if texts is None:
            texts = [None] * len(records)
        subs = [item for item in read if isinstance(item, NormalisedSubmission)]
        keys = {text.chain_key if text is not None else chain_key(self.asset.asset_uid, item)
                for item, text in zip(read, texts) if isinstance(item, NormalisedSubmission)}
        self._prefetch(subs, {item.instance_id for item in read}, keys)
        prepared = [self._match(item, record, text) if isinstance(item, NormalisedSubmission) else item
                    for item, record, text in zip(read, records, texts)]
        outcomes: list[Outcome | None] = [
            self._place(p.sub, p.raw, p.match, p.texts) if isinstance(p, _Ready) else None for p in prepared]
        self._flush_chains(outcomes)
        for position, item in enumerate(prepared):
            if isinstance(item, Rejected):
                outcomes[position] = self._quarantine(item)
        self._resolve_quarantined([o for o in outcomes if o and o.status in (STORED, UPDATED, HISTORY, DUPLICATE)])
        # Kobo's review travels in the record (a retried delivery, a pull, an export).
        record_validation_statuses(self.session, self.asset.id, records, only_set=True)
        with self._waiting():
            enqueue_sites(self.session, self._touched_sites)
        return outcomes  # type: ignore[return-value]

    # -- steps --------------------------------------------------------------------------------
    def _read(self, record: Mapping) -> Read:
        return read_record(record, form_of(record, self.forms.spec), asset_uid=self.asset.asset_uid,
                           known_versions=self.forms.known)

    def _match(self, sub: NormalisedSubmission, record: Mapping, texts: RowTexts | None) -> _Ready | Rejected:
        code = sub.site_code.strip() if sub.site_code else None
        if code:
            # A site id crisis-ct does not know is never taken for the nearest site: two sites
            # of one camp complex are often closer than the matching distance.
            site_id = self._site_ids.get(code)
            if site_id is None:
                return self._unknown_site(sub, record, code)
            return _Ready(sub, record, SiteMatch(site_id, "site_id"), texts)
        match = self.sites.match_location(sub.geopoint)
        if match is None:
            return self._unknown_site(sub, record, None)
        return _Ready(sub, record, match, texts)

    def _unknown_site(self, sub: NormalisedSubmission, record: Mapping, code: str | None) -> Rejected:
        nearest = self.sites.nearest(sub.geopoint)
        where = (f"site id '{code}' is not a site of the operation" if code else
                 f"no site id, and no known site within {self.sites.max_distance_m:.0f} m of the location")
        near = "; nearest known sites: " + ", ".join(
            f"{site['site_id']} ({site['name']}, {site['distance_m']:.0f} m)" for site in nearest) if nearest else ""
        return Rejected(record, sub.instance_id, sub.kobo_id, "unknown_site",
                        f"No site matches: {where}{near}. Import the site (the submission is then stored by "
                        "itself) or name the right site (resolve).",
                        {"site_id": code, "nearest_sites": nearest})

    def _prefetch(self, subs: list[NormalisedSubmission], instance_ids: set[str | None], keys: set[str]) -> None:
        """What the batch needs to know from the database, in one round trip: its sites (by
        the codes it names), the versions and submissions it may continue, and what of it
        was quarantined before."""
        self._touched_sites: set[int] = set()
        self._chains: dict[object, _Chain] = {}
        self._versions: list[dict] = []
        self._site_ids: dict[str, int] = {}
        self._version_owner: dict[str, object] = {}   # instance id -> chain handle
        self._deprecated_by: dict[str, str] = {}      # instance id -> the instance id replacing it
        self._chain_by_kobo: dict[int, object] = {}
        self._chain_by_key: dict[str, object] = {}
        # instance id -> (quarantine row id, status), so that quarantining again updates that
        # row and storing resolves it, without a query each.
        self._quarantined: dict[str, tuple[int, str]] = {}
        named = {i for i in instance_ids if i}
        if not (named or subs):
            return
        params: dict[str, object] = {
            "ids": sorted(named | {s.deprecated_id for s in subs if s.deprecated_id})}
        if subs:
            params.update(
                operation_id=self.asset.operation_id, asset_id=self.asset.id,
                codes=sorted({s.site_code.strip() for s in subs if s.site_code}),
                kobo_ids=sorted({s.kobo_id for s in subs if s.kobo_id is not None}),
                keys=sorted(keys))
        postgres = is_postgres(self.session)
        if postgres:
            params = {name: array_literal(value) if isinstance(value, list) else value
                      for name, value in params.items()}
        statement = prefetch_statement(postgres, bool(subs))
        with self._waiting():
            if postgres and len(subs) > 1:
                self.session.execute(JIT_OFF)
            rows = self.session.execute(statement, params).all()
        for kind, text, other, row_id, kobo_id in rows:
            if kind == "site":
                self._site_ids[text] = row_id
            elif kind == "version":
                self._version_owner[text] = row_id
                if other:
                    self._deprecated_by[other] = text
            elif kind == "chain":
                if kobo_id is not None:
                    self._chain_by_kobo[kobo_id] = row_id
                self._chain_by_key[text] = row_id
            else:
                self._quarantined[text] = (row_id, other)

    def _find_chain(self, sub: NormalisedSubmission, key: str):
        for candidate in (sub.deprecated_id, self._deprecated_by.get(sub.instance_id)):
            if candidate and candidate in self._version_owner:
                return self._version_owner[candidate]
        if sub.kobo_id is not None and sub.kobo_id in self._chain_by_kobo:
            return self._chain_by_kobo[sub.kobo_id]
        return self._chain_by_key.get(key)

    def _place(self, sub: NormalisedSubmission, raw: Mapping, match, texts: RowTexts | None) -> Outcome:
        if sub.instance_id in self._version_owner:
            return Outcome(DUPLICATE, sub.instance_id, submission_id=_id_or_none(self._version_owner[sub.instance_id]))
        key = texts.chain_key if texts is not None else chain_key(self.asset.asset_uid, sub)
        handle = self._find_chain(sub, key)
        superseded = sub.instance_id in self._deprecated_by
        values = self._submission_values(sub, match)
        if handle is None:
            handle = object()
            values.update(chain_key=key, version_count=1, created_at=self._now)
            self._chains[handle] = _Chain(values=values, site_ids={match.site_id}, texts=texts)
            status = STORED
        else:
            chain = self._chains.get(handle)
            if chain is None:
                chain = self._chains[handle] = _Chain(values={}, submission_id=handle, new=False)
            chain.values["version_count"] = chain.values.get("version_count", 0) + 1
            if superseded:
                status = HISTORY
            else:
                chain.values.update(values)
                chain.texts = texts  # now this version's columns
                chain.site_ids.add(match.site_id)
                status = UPDATED
        self._version_owner[sub.instance_id] = handle
        if sub.deprecated_id:
            self._deprecated_by[sub.deprecated_id] = sub.instance_id
        if sub.kobo_id is not None:
            self._chain_by_kobo.setdefault(sub.kobo_id, handle)
        # The raw record is copied (dict(raw)) only if it is written from here.
        self._versions.append((handle, sub, raw, texts))
        return Outcome(status, sub.instance_id, submission_id=_id_or_none(handle))

    def _submission_values(self, sub: NormalisedSubmission, match) -> dict:
        return {
            "operation_id": self.asset.operation_id, "asset_id": self.asset.id, "kobo_id": sub.kobo_id,
            "instance_id": sub.instance_id, "site_id": match.site_id, "matched_by": match.matched_by,
            "assessment_date": sub.assessment_date, "submitted_at": sub.submitted_at, "ki_role": sub.ki_role,
            "ki_sex": sub.ki_sex, "form_version": sub.form_version, "answers": sub.answers,
            "received_via": self.via, "updated_at": self._now,
        }

    def _flush_chains(self, outcomes: list[Outcome | None]) -> None:
        if not self._chains:
            return
        new = [c for c in self._chains.values() if c.new]
        if new:
            for chain, submission_id in zip(new, self._insert_submissions(new)):
                chain.submission_id = submission_id
        for handle, chain in self._chains.items():
            if not chain.new:
                self._update_existing(chain)
            self._touched_sites |= chain.site_ids
        resolved = {h: c.submission_id for h, c in self._chains.items()}
        self._insert_versions([(resolved.get(handle, handle), sub, raw, texts)
                               for handle, sub, raw, texts in self._versions])
        for index, outcome in enumerate(outcomes):
            if outcome is not None and outcome.submission_id is None and outcome.status != DUPLICATE:
                handle = self._version_owner.get(outcome.instance_id)
                outcomes[index] = Outcome(outcome.status, outcome.instance_id,
                                          submission_id=resolved.get(handle, _id_or_none(handle)))

    def _copies(self, count: int) -> bool:
        """Whether rows go in by COPY: batches on PostgreSQL (a single row is an INSERT)."""
        return count > 1 and is_postgres(self.session)

    def _insert_submissions(self, chains: list[_Chain]) -> list[int]:
        """Insert new submissions; their ids, in order."""
        if not self._copies(len(chains)):
            # The table, not the mapped class: Core's insert skips the ORM's bulk machinery,
            # a millisecond of a webhook request.
            table = Submission.__table__
            return list(self.session.scalars(
                sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [chain.values for chain in chains]).all())
        # Ids drawn from the sequence first let COPY do the insert: INSERT … RETURNING of a
        # batch goes out as one statement with ~17,000 parameters, whose SQL the driver
        # parses slower than the server inserts the rows.
        with self._waiting():
            ids = self.session.scalars(sa.text(
                "SELECT nextval(pg_get_serial_sequence('submissions', 'id')) FROM generate_series(1, :n)"),
                {"n": len(chains)}).all()
        now = copytext.field(self._now).encode()
        lines = []
        for chain, id_ in zip(chains, ids):
            values = chain.values
            fixed = chain.texts.submission if chain.texts is not None else "\t".join(
                copytext.json_field(values[name]) if name == "answers" else copytext.field(values[name])
                for name in SUBMISSION_FIXED_COLUMNS).encode()
            lines.append(b"%d\t%b\t%d\t%b\t%d\t%b\t%b\t%b\n" % (
                id_, copytext.escape(values["chain_key"]).encode(), values["site_id"],
                copytext.escape(values["matched_by"]).encode(), values["version_count"], now, now, fixed))
        text = b"".join(lines)
        with self._waiting():
            copy_text(self.session, "submissions", _SUBMISSION_COPY_COLUMNS, text)
        return ids

    def _insert_versions(self, versions: list[tuple]) -> None:
        """Insert the versions received: (submission id, submission, raw record, texts)."""
        if not self._copies(len(versions)):
            self.session.execute(sa.insert(SubmissionVersion.__table__), [
                {"submission_id": submission_id, "instance_id": sub.instance_id, "deprecated_id": sub.deprecated_id,
                 "raw": dict(raw), "received_via": self.via, "received_at": self._now}
                for submission_id, sub, raw, _ in versions])
            return
        now, via = copytext.field(self._now).encode(), copytext.escape(self.via)
        text = b"".join([
            b"%d\t%b\t%b\n" % (submission_id, now, texts.version) if texts is not None else
            b"%d\t%b\t%b\n" % (submission_id, now, "\t".join((
                copytext.escape(sub.instance_id), copytext.field(sub.deprecated_id),
                copytext.json_field(dict(raw)), via)).encode())
            for submission_id, sub, raw, texts in versions])
        with self._waiting():
            copy_text(self.session, "submission_versions", _VERSION_COPY_COLUMNS, text)

    def _update_existing(self, chain: _Chain) -> None:
        submission = self.session.get(Submission, chain.submission_id)
        added = chain.values.pop("version_count", 0)
        if chain.values:
            chain.site_ids.add(submission.site_id)  # the old site loses this interview
        for name, value in chain.values.items():
            setattr(submission, name, value)
        submission.version_count += added
        self.session.flush()

    def _quarantine(self, rejected: Rejected) -> Outcome:
        record, instance_id, kobo_id = rejected.record, rejected.instance_id, rejected.kobo_id
        code, reason = rejected.code, rejected.reason
        known = self._quarantined.get(instance_id) if instance_id else None
        existing = self.session.get(QuarantinedSubmission, known[0]) if known else None
        if existing is not None:
            existing.attempts += 1
            existing.reason_code, existing.reason, existing.details = code, reason, rejected.details
            existing.last_attempt_at = self._now
            existing.raw = dict(record) if isinstance(record, Mapping) else {"_payload": record}
            existing.status, existing.resolved_at = "pending", None
            row = existing
        else:
            row = QuarantinedSubmission(
                operation_id=self.asset.operation_id, asset_uid=self.asset.asset_uid, instance_id=instance_id,
                kobo_id=kobo_id, reason_code=code, reason=reason, received_via=self.via,
                raw=dict(record) if isinstance(record, Mapping) else {"_payload": record}, attempts=1,
                status="pending", details=rejected.details, last_attempt_at=self._now)
            self.session.add(row)
        self.session.flush()
        if instance_id:
            self._quarantined[instance_id] = (row.id, "pending")
        return Outcome(QUARANTINED, instance_id, quarantine_id=row.id, reason_code=code, reason=reason)

    def _resolve_quarantined(self, stored: Iterable[Outcome]) -> None:
        # Only rows known pending (from the prefetch, or quarantined earlier in this batch).
        pending = {o.instance_id: o.submission_id for o in stored
                   if o.instance_id and self._quarantined.get(o.instance_id, (None, None))[1] == "pending"}
        for instance_id, submission_id in pending.items():
            row = self.session.get(QuarantinedSubmission, self._quarantined[instance_id][0])
            if row is not None and row.status == "pending":
                row.status, row.resolved_at, row.submission_id = "replayed", utcnow(), submission_id


def _id_or_none(handle) -> int | None:
    return handle if isinstance(handle, int) else None

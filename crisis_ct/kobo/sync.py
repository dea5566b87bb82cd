"""Pull sync from Kobo API v2: the reliable path beside the webhook.

One run for one asset:
1. read the asset: if its deployed form version is new, store its `content` as a form version
   (submissions carry that version in `__version__`);
2. incremental: every submission with `_id` above the highest this sync has stored, page by
   page, one transaction per page that also moves `highest_kobo_id` — so an interrupted run
   resumes exactly where it stopped and stores nothing twice;
3. catch-up: re-read the submissions of the last N days (by `_submission_time`), because Kobo
   never re-sends an edit by webhook and drops deliveries it cannot retry. The Ingestor
   recognises unchanged ones (duplicates), edits (updated) and missed ones (stored).
4. review: every page read also carries each submission's validation status, and the
   submissions whose status was set since the last run are asked for by its timestamp (a
   review fires no hook and changes nothing else);
5. deletions: the project's `_id`s are listed whole, and stored submissions Kobo no longer
   has are withdrawn (review.py). A listing that fails part-way withdraws nothing.

`highest_kobo_id` only counts what the sync itself stored: a webhook delivery with a higher
`_id` must not make the sync skip the lower ones the webhook lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping

import sqlalchemy as sa

from crisis_ct.db import Database, advisory_lock
from crisis_ct.kobo.client import KoboClient, KoboError
from crisis_ct.kobo.forms import FormVersions, add_form_version
from crisis_ct.kobo.formspec import FormSpec, FormSpecError
from crisis_ct.kobo.importer import IngestTally, load_asset, store_batch
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.review import ReviewTally, record_validation_statuses, withdraw_missing
from crisis_ct.kobo.secrets import TokenError
from crisis_ct.timeutil import utcnow

OK, FAILED = "ok", "failed"
DEFAULT_CATCH_UP_DAYS = 14.0

# Builds the API client for an asset from its server URL and token (tests pass one with a
# recording `sleep`).
ClientFactory = Callable[[str, str], KoboClient]


def default_client_factory(server_url: str, token: str) -> KoboClient:
    return KoboClient(server_url, token)


@dataclass
class SyncResult:
    asset_uid: str
    status: str = OK
    error: str | None = None
    form_version: str | None = None
    new_form_version: bool = False
    highest_kobo_id: int | None = None
    incremental: IngestTally = field(default_factory=IngestTally)
    catch_up: IngestTally = field(default_factory=IngestTally)
    catch_up_since: datetime | None = None
    review_changes: int = 0
    deletions: dict | None = None  # withdrawn, restored, listed; None: not checked this run
    failing_since: str | None = None

    def summary(self) -> dict:
        """What `KoboAsset.last_sync_summary` keeps (JSON)."""
        return {
            "form_version": self.form_version, "new_form_version": self.new_form_version,
            "new": self.incremental.as_dict(), "catch_up": self.catch_up.as_dict(),
            "catch_up_since": self.catch_up_since.isoformat() if self.catch_up_since else None,
            "validation_changes": self.review_changes, "deletions": self.deletions,
            "error": self.error, "failing_since": self.failing_since,
        }

    def line(self) -> str:
        text = f"{self.asset_uid}: {self.status}; new: {self.incremental.line()}"
        if self.catch_up_since is not None:
            text += f"; catch-up since {self.catch_up_since:%Y-%m-%d %H:%M}: {self.catch_up.line()}"
        if self.review_changes:
            text += f"; {self.review_changes} validation status change(s)"
        if self.deletions and (self.deletions["withdrawn"] or self.deletions["restored"]):
            text += (f"; withdrawn (deleted in Kobo): {self.deletions['withdrawn']}, "
                     f"restored: {self.deletions['restored']}")
        if self.new_form_version:
            text += f"; stored new form version {self.form_version}"
        if self.error:
            text += f"; error: {self.error}"
        return text


def sync_asset(database: Database, asset_uid: str, client: KoboClient, *,
               catch_up_days: float = DEFAULT_CATCH_UP_DAYS, match_distance_m: float = 500.0,
               now: datetime | None = None, page_size: int = 1000,
               progress: Callable[[int], None] | None = None, check_deletions: bool = True) -> SyncResult:
    """Sync one asset; never raises for Kobo trouble — the result (also stored on the asset)
    says what failed, and what was stored before the failure stays stored."""
    # One sync of an asset at a time (the worker's schedule, `kobo sync`, on any host): two
    # would store the same new submissions side by side and one would fail on the duplicate.
    with advisory_lock(database.engine, f"crisis_ct.kobo.sync:{asset_uid}", wait=True):
        return _sync_asset(database, asset_uid, client, catch_up_days=catch_up_days,
                           match_distance_m=match_distance_m, now=now, page_size=page_size, progress=progress,
                           check_deletions=check_deletions)


def _sync_asset(database: Database, asset_uid: str, client: KoboClient, *, catch_up_days: float,
                match_distance_m: float, now: datetime | None, page_size: int,
                progress: Callable[[int], None] | None, check_deletions: bool) -> SyncResult:
    now = now or utcnow()
    result = SyncResult(asset_uid)
    review = ReviewTally()
    with database.session() as session:
        asset = load_asset(session, asset_uid)
        start_highest, validation_seen = asset.highest_kobo_id, asset.validation_seen_ts
    result.highest_kobo_id = start_highest
    try:
        _check_form_version(database, asset_uid, client.get_asset(asset_uid), result)
        _pull_new(database, asset_uid, client, result, match_distance_m, page_size, progress, review)
        if catch_up_days > 0 and start_highest is not None:
            # A first sync read everything already; later ones re-read the recent window.
            result.catch_up_since = now - timedelta(days=catch_up_days)
            _catch_up(database, asset_uid, client, result, start_highest, match_distance_m, page_size, progress,
                      review)
        if start_highest is not None:
            _read_validation_changes(database, asset_uid, client, validation_seen or 0, page_size, review)
        if check_deletions:
            result.deletions = _withdraw_deleted(database, asset_uid, client, page_size)
    except (KoboError, TokenError, FormSpecError) as exc:
        result.status, result.error = FAILED, str(exc)
    result.review_changes = review.changed
    _record_status(database, asset_uid, result, now, review.highest_timestamp)
    return result


def _read_validation_changes(database, asset_uid, client, since_ts: int, page_size: int,
                             review: ReviewTally) -> None:
    for page in client.iter_validation_changes(asset_uid, since_ts=since_ts, page_size=page_size):
        with database.session() as session:
            asset = load_asset(session, asset_uid)
            _add_review(review, record_validation_statuses(session, asset.id, page))


def _add_review(total: ReviewTally, page: ReviewTally) -> None:
    total.changed += page.changed
    if page.highest_timestamp is not None and (total.highest_timestamp is None
                                               or page.highest_timestamp > total.highest_timestamp):
        total.highest_timestamp = page.highest_timestamp


def _withdraw_deleted(database, asset_uid, client, page_size: int) -> dict:
    listing_started = utcnow()
    # Raises unless Kobo listed every _id: then nothing below runs and nothing is withdrawn.
    listed = client.list_submission_ids(asset_uid, page_size=page_size)
    with database.session() as session:
        asset = load_asset(session, asset_uid)
        tally = withdraw_missing(session, asset.id, listed, listed_since=listing_started)
    return {"withdrawn": tally.withdrawn, "restored": tally.restored, "listed": tally.listed}


def _check_form_version(database: Database, asset_uid: str, remote: Mapping, result: SyncResult) -> None:
    version = remote.get("deployed_version_id")
    content = remote.get("content")
    result.form_version = version
    if not version or not isinstance(content, Mapping) or not content.get("survey"):
        return  # nothing deployed (or no content visible): records will say which version they need
    with database.session() as session:
        asset = load_asset(session, asset_uid)
        if version in FormVersions(session, asset).known:
            return
        spec = FormSpec.from_asset_content(content, version=version)
        add_form_version(session, asset, spec, version=version, content=dict(content))
        result.new_form_version = True


def _pull_new(database, asset_uid, client, result, match_distance_m, page_size, progress, review) -> None:
    for page in client.iter_submission_pages(asset_uid, after_id=result.highest_kobo_id, page_size=page_size):
        with database.session() as session:
            asset = load_asset(session, asset_uid)
            result.incremental.add(store_batch(session, asset, page, via="sync", match_distance_m=match_distance_m,
                                                client=client, before_fetch=session.commit))
            _add_review(review, record_validation_statuses(session, asset.id, page))
            page_highest = max((_kobo_id(r) for r in page if _kobo_id(r) is not None), default=None)
            if page_highest is not None and (asset.highest_kobo_id is None or page_highest > asset.highest_kobo_id):
                asset.highest_kobo_id = page_highest
            highest = asset.highest_kobo_id
        # Only once the page is committed does the run count as having got this far.
        result.highest_kobo_id = highest
        if progress:
            progress(len(page))


def _catch_up(database, asset_uid, client, result, start_highest, match_distance_m, page_size, progress,
              review) -> None:
    for page in client.iter_submission_pages(asset_uid, submitted_since=result.catch_up_since,
                                             page_size=page_size):
        # Records above the starting point were read by the incremental pass of this run.
        older = [r for r in page if (_kobo_id(r) is None or _kobo_id(r) <= start_highest)]
        if older:
            with database.session() as session:
                asset = load_asset(session, asset_uid)
                result.catch_up.add(store_batch(session, asset, older, via="sync", match_distance_m=match_distance_m,
                                                    client=client, before_fetch=session.commit))
                # Re-reading the window is also how a status cleared in Kobo is noticed.
                _add_review(review, record_validation_statuses(session, asset.id, older))
        if progress:
            progress(len(page))


def _record_status(database: Database, asset_uid: str, result: SyncResult, now: datetime,
                   validation_seen: int | None = None) -> None:
    with database.session() as session:
        asset = load_asset(session, asset_uid)
        if validation_seen is not None and (asset.validation_seen_ts is None
                                            or validation_seen > asset.validation_seen_ts):
            asset.validation_seen_ts = validation_seen
        if result.status == FAILED:
            # Since when it has been failing, so `kobo status` shows a streak, not one blip.
            previous = asset.last_sync_summary or {}
            result.failing_since = (previous.get("failing_since") if asset.last_sync_status == FAILED else None) \
                or now.isoformat()
        asset.last_sync_at = now
        asset.last_sync_status = result.status
        asset.last_sync_summary = result.summary()


def _kobo_id(record: Mapping) -> int | None:
    value = record.get("_id") if isinstance(record, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def assets_to_sync(database: Database, *, operation_code: str | None = None,
                   asset_uid: str | None = None) -> list[str]:
    """Asset uids with a server to pull from, optionally limited to one operation or asset."""
    from crisis_ct.geography.models import Operation

    query = sa.select(KoboAsset.asset_uid).where(KoboAsset.server_url.is_not(None)).order_by(KoboAsset.asset_uid)
    if operation_code:
        query = query.join(Operation, Operation.id == KoboAsset.operation_id).where(Operation.code == operation_code)
    if asset_uid:
        query = query.where(KoboAsset.asset_uid == asset_uid)
    with database.session() as session:
        return list(session.scalars(query))


def client_for(database: Database, asset_uid: str, factory: ClientFactory, cipher_factory) -> KoboClient:
    """The API client for an asset, its token resolved (never logged)."""
    from crisis_ct.kobo.secrets import asset_token

    with database.session() as session:
        asset = load_asset(session, asset_uid)
        token = asset_token(asset, cipher_factory)
        server_url = asset.server_url
    return factory(server_url, token)

"""Which form a submission was filled in: Kobo assets and their form versions."""
from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.config import REPO_ROOT
from crisis_ct.kobo.formspec import FormSpec
from crisis_ct.kobo.models import KoboAsset, KoboFormVersion
from crisis_ct.spatial import spatial_sql
from crisis_ct.timeutil import utcnow

BUNDLED_FORM = REPO_ROOT / "forms" / "ct_site_assessment.xlsx"

# Form versions never change once deployed, so their parsed specs can be shared
# by every request of the process.
_spec_cache: dict[tuple[int, str], FormSpec] = {}
_cache_lock = Lock()


def bundled_form() -> FormSpec:
    return FormSpec.from_xlsform(BUNDLED_FORM)


def add_form_version(session: Session, asset: KoboAsset, spec: FormSpec, *, version: str | None = None,
                     content: dict | None = None) -> KoboFormVersion:
    version = version or spec.version or "unversioned"
    register_version(session, asset.id, version, content or spec.to_asset_content())
    return session.scalar(sa.select(KoboFormVersion).where(
        KoboFormVersion.asset_id == asset.id, KoboFormVersion.version == version))


def register_version(session: Session, asset_id: int, version: str, content: dict, *,
                     matched_to: str | None = None) -> None:
    """Register a form version once: several processes (webhook workers, the sync, the
    worker) may meet a new version at the same moment, so the unique (asset, version)
    decides, not a look before the insert."""
    table = KoboFormVersion.__table__
    session.execute(spatial_sql(session).insert(table).on_conflict_do_nothing(index_elements=["asset_id", "version"]),
                    {"asset_id": asset_id, "version": version, "content": content, "matched_to": matched_to,
                     "added_at": utcnow()})
    forget_form_versions(session, asset_id)


# An asset's list of versions, per process, so a webhook request need not read it: a
# version the list does not know is looked up again at once (a form deployed a moment ago
# is never refused for a stale list), and the list is re-read after this many seconds in
# any case, since the latest version is what a record without `__version__` is read with.
VERSIONS_TTL_S = 5.0
_versions_cache: "WeakKeyDictionary[sa.Engine, dict[int, tuple[float, dict[str, int], list[str]]]]" = \
    WeakKeyDictionary()
_assets_cache: "WeakKeyDictionary[sa.Engine, dict[str, tuple[float, AssetRef]]]" = WeakKeyDictionary()


@dataclass(frozen=True)
class AssetRef:
    """What ingestion needs of a KoboAsset, safe to keep across sessions and threads."""

    id: int
    operation_id: int
    asset_uid: str


def forget_form_versions(session: Session, asset_id: int) -> None:
    with _cache_lock:
        _versions_cache.get(session.get_bind(), {}).pop(asset_id, None)


class FormVersions:
    """The form specs of one asset, by the `__version__` a submission carries."""

    def __init__(self, session: Session, asset: KoboAsset | AssetRef):
        self.asset = asset
        self._session = session
        self._fresh = False  # read from the database by this instance (not from the cache)
        with _cache_lock:
            cached = _versions_cache.get(session.get_bind(), {}).get(asset.id)
        if cached is not None and cached[0] > time.monotonic():
            self._ids, self._order = cached[1], cached[2]
        else:
            self._load()

    def _load(self) -> None:
        rows = self._session.execute(sa.select(KoboFormVersion.id, KoboFormVersion.version,
                                               KoboFormVersion.matched_to)
                                     .where(KoboFormVersion.asset_id == self.asset.id)
                                     .order_by(KoboFormVersion.added_at, KoboFormVersion.id)).all()
        self._ids = {version: row_id for row_id, version, _ in rows}
        # Uids matched to a registered version read like it, but are not versions of their own:
        # the latest (for records naming none) and the list shown in reasons leave them out.
        self._order = [version for _, version, matched_to in rows if matched_to is None]
        with _cache_lock:
            _versions_cache.setdefault(self._session.get_bind(), {})[self.asset.id] = (
                time.monotonic() + VERSIONS_TTL_S, self._ids, self._order)
        self._fresh = True

    @property
    def known(self) -> list[str]:
        return list(self._order)

    def refresh(self) -> None:
        """Read the list again (after registering a version)."""
        self._load()

    def knows(self, version: str) -> bool:
        """Whether `version` is registered (looked up again once when the list may be stale)."""
        if version not in self._ids and not self._fresh:
            self._load()
        return version in self._ids

    def content(self, version: str) -> dict | None:
        row_id = self._ids.get(version)
        if row_id is None:
            return None
        return self._session.scalar(sa.select(KoboFormVersion.content).where(KoboFormVersion.id == row_id))

    def spec(self, version: str | None) -> FormSpec | None:
        """The spec for `version`; the latest when the record names none; None if unknown."""
        if version is None or version == "":
            if not self._order:
                return None
            version = self._order[-1]
        if version not in self._ids and not self._fresh:
            self._load()
        if version not in self._ids:
            return None
        key = (self.asset.id, version)
        with _cache_lock:
            cached = _spec_cache.get(key)
        if cached is None:
            content = self._session.scalar(sa.select(KoboFormVersion.content)
                                           .where(KoboFormVersion.id == self._ids[version]))
            if content is None:  # listed by a transaction that was rolled back
                forget_form_versions(self._session, self.asset.id)
                return None
            cached = FormSpec.from_asset_content(content, version=version)
            with _cache_lock:
                _spec_cache[key] = cached
        return cached


def find_asset_ref(session: Session, asset_uid: str | None, operation_ids: list[int]) -> AssetRef | None:
    """The asset `asset_uid` if it belongs to one of `operation_ids`, for the webhook: kept
    per process for VERSIONS_TTL_S (an asset's id and operation never change; one not found
    is looked up every time)."""
    if not asset_uid:
        return None
    with _cache_lock:
        cached = _assets_cache.get(session.get_bind(), {}).get(asset_uid)
    if cached is None or cached[0] < time.monotonic():
        asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == asset_uid))
        if asset is None:
            return None
        cached = (time.monotonic() + VERSIONS_TTL_S, AssetRef(asset.id, asset.operation_id, asset.asset_uid))
        with _cache_lock:
            _assets_cache.setdefault(session.get_bind(), {})[asset_uid] = cached
    ref = cached[1]
    return ref if ref.operation_id in operation_ids else None


def register_asset(session: Session, operation_id: int, asset_uid: str, *, name: str = "",
                   server_url: str | None = None) -> KoboAsset:
    asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == asset_uid))
    if asset is None:
        asset = KoboAsset(operation_id=operation_id, asset_uid=asset_uid, name=name, server_url=server_url,
                          last_sync_summary={})
        session.add(asset)
        session.flush()
    elif asset.operation_id != operation_id:
        raise ValueError(f"asset {asset_uid} belongs to another operation")
    else:
        asset.name = name or asset.name
        asset.server_url = server_url or asset.server_url
    return asset


"""Form versions a submission names that crisis-ct has not registered yet.

A submission's `__version__` is kpi's version uid, and kpi makes a new one for every content
change, a label fix included: after a redeploy every new submission names a version
crisis-ct has never seen. That is normal, so before a submission is quarantined for it:
- a project connected to its server: the version is fetched
  (`GET /api/v2/assets/{uid}/versions/{vid}/`) and registered. When Kobo does not answer in
  time the submission waits in quarantine as `version_pending`; the worker fetches and
  replays it (auto_replay);
- a project without a connection: the version is registered as "matched to version X" when
  every question the submission answers and every choice it picks exists in registered
  version X (newest first); otherwise it is quarantined naming what is unknown.
Registration is race-safe (forms.register_version): several processes may meet the same
new version at once.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crisis_ct.kobo.batch_read import Rejected, record_ids
from crisis_ct.kobo.client import KoboAuthError, KoboClient, KoboError, KoboNotFound
from crisis_ct.kobo.forms import AssetRef, FormVersions, register_version
from crisis_ct.kobo.formspec import FormSpec, FormSpecError
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.normalise import NotASubmission, normalise

__all__ = ["UNKNOWN_FORM_VERSION", "VERSION_PENDING", "Fit", "best_fit", "resolve_versions"]

VERSION_PENDING = "version_pending"
UNKNOWN_FORM_VERSION = "unknown_form_version"
# kpi uids are `v` + 21 letters and digits; anything else is never put in a URL.
_VERSION_UID = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class Fit:
    """Which registered version a submission's answers fit (None: none), and, when none,
    what the closest one does not know."""

    version: str | None
    unknown_questions: tuple[str, ...] = ()
    unknown_choices: tuple[str, ...] = ()


def best_fit(record: Mapping, specs: Sequence[tuple[str, FormSpec]]) -> Fit:
    """The first of `specs` (newest first) whose questions and choices hold every answer of
    `record`; else the unknowns of the closest one. Pure."""
    closest: Fit | None = None
    for version, spec in specs:
        try:
            sub = normalise(record, spec)
        except NotASubmission:
            return Fit(None)
        questions = tuple(sorted(sub.unknown_keys))
        choices = tuple(f"{p.question}: {p.value}" for p in sub.problems if p.code == "invalid_choice")
        if not questions and not choices:
            return Fit(version)
        if closest is None or len(questions) + len(choices) < \
                len(closest.unknown_questions) + len(closest.unknown_choices):
            closest = Fit(None, questions, choices)
    return closest or Fit(None)


def resolve_versions(session: Session, asset: AssetRef | KoboAsset, records: Sequence[object],
                     forms: FormVersions, *, client: Callable[[], KoboClient | None] | None = None,
                     before_fetch: Callable[[], None] | None = None) -> list[Rejected | None] | None:
    """Make the unknown versions `records` name known where possible. Returns the `read`
    argument for Ingestor.ingest: a Rejected (the quarantine reason) for each record whose
    version stays unknown, None for the others; or None when every version was known (the
    normal case: no query, no work beyond a dictionary look-up per record).

    `client`: gives the asset's Kobo client (None: no server connection); called only when a
    version is unknown. `before_fetch`: called once before the first request to Kobo (the
    webhook ends its transaction there, so that no lock is held while Kobo answers)."""
    unknown = [i for i, record in enumerate(records) if _unknown_version(record, forms)]
    if not unknown:
        return None
    read: list[Rejected | None] = [None] * len(records)
    fetched: dict[str, Rejected | None] = {}
    kobo: list = []  # the client, made at the first fetch
    for index in unknown:
        record = records[index]
        version = record["__version__"]
        if forms.knows(version):  # registered by an earlier record of this batch
            continue
        if not _VERSION_UID.fullmatch(version):
            read[index] = _rejected(record, UNKNOWN_FORM_VERSION,
                                    f"Form version '{version[:120]}' of asset {asset.asset_uid} is not a Kobo "
                                    "version uid.", {"version": version[:120]})
            continue
        if version not in fetched and client is not None:
            if not kobo:
                kobo.append(client())
                if kobo[0] is not None and before_fetch is not None:
                    before_fetch()
            if kobo[0] is not None:
                fetched[version] = _fetch(session, asset, forms, kobo[0], record, version)
        outcome = fetched.get(version)
        if outcome is not None and outcome.code == VERSION_PENDING:
            read[index] = _rejected(record, outcome.code, outcome.reason, outcome.details)
            continue
        if forms.knows(version):
            continue
        read[index] = _match(session, asset, forms, record, version)
    return read


def _unknown_version(record: object, forms: FormVersions) -> bool:
    if not isinstance(record, Mapping):
        return False
    version = record.get("__version__")
    return isinstance(version, str) and bool(version) and not forms.knows(version)


def _fetch(session: Session, asset, forms: FormVersions, client: KoboClient, record: Mapping,
           version: str) -> Rejected | None:
    """Fetch and register `version`; a Rejected only when Kobo could not be asked (then the
    worker tries again). A version Kobo does not have, or cannot give, is left to matching."""
    try:
        remote = client.get_version(asset.asset_uid, version)
    except (KoboNotFound, KoboAuthError):
        return None
    except KoboError as exc:
        return _rejected(record, VERSION_PENDING,
                         f"Form version '{version}' of asset {asset.asset_uid} is new and Kobo did not give it in "
                         f"time ({exc}); the worker fetches it and stores this submission by itself.",
                         {"version": version})
    content = remote.get("content") if isinstance(remote, Mapping) else None
    if not isinstance(content, Mapping) or not content.get("survey"):
        return None
    try:
        FormSpec.from_asset_content(content, version=version)
    except FormSpecError:
        return None
    register_version(session, asset.id, version, dict(content))
    forms.refresh()
    return None


def _match(session: Session, asset, forms: FormVersions, record: Mapping, version: str) -> Rejected | None:
    specs = [(known, spec) for known in reversed(forms.known) if (spec := forms.spec(known)) is not None]
    fit = best_fit(record, specs)
    if fit.version is not None:
        register_version(session, asset.id, version, forms.content(fit.version), matched_to=fit.version)
        forms.refresh()
        return None
    if not specs:
        why = "no form version is registered for the project"
    else:
        parts = []
        if fit.unknown_questions:
            parts.append("questions " + ", ".join(fit.unknown_questions))
        if fit.unknown_choices:
            parts.append("choices " + ", ".join(fit.unknown_choices))
        why = "its answers do not fit any registered version: unknown " + "; unknown ".join(parts or ["answers"])
    return _rejected(record, UNKNOWN_FORM_VERSION,
                     f"Form version '{version}' of asset {asset.asset_uid} is not known and {why}. Register the "
                     "new form (`crisis-ct kobo connect --form …`, or connect the project to its server); "
                     "the submission is then stored by itself.",
                     {"version": version, "unknown_questions": list(fit.unknown_questions),
                      "unknown_choices": list(fit.unknown_choices)})


def _rejected(record: Mapping, code: str, reason: str, details: dict | None) -> Rejected:
    instance_id, kobo_id = record_ids(record)
    return Rejected(record, instance_id, kobo_id, code, reason, details)

"""One export, whole: which rows (crisis_ct.exports.sources, .fourw), in which columns, in
which format, under which file name. Shared by the API and the CLI; knows nothing of Flask."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterator, Sequence

from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.exports import columns, fourw, sources, writers
from crisis_ct.exports.sources import GEOMETRY, ExportRefused
from crisis_ct.projection.public import PUBLIC_DATASETS
from crisis_ct.tasks.queries import TaskFilters

DATASETS = ("sites", "admin-areas", "tasks", "submissions", "4w")
FORMATS = {"sites": ("csv", "xlsx", "geojson"), "admin-areas": ("csv", "xlsx", "geojson"),
           "tasks": ("csv", "xlsx", "geojson"), "submissions": ("csv", "xlsx", "geojson"), "4w": ("csv", "xlsx")}


class ExportError(ValueError):
    """A request for an export that does not exist (400)."""


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    fmt: str
    operation_ids: Sequence[int]
    operation_codes: Sequence[str]
    public: bool = False
    lang: str = "en"
    filters: dict = field(default_factory=dict)


@dataclass
class Export:
    filename: str
    mimetype: str
    chunks: Iterator[bytes]


def filename(request: ExportRequest, today: date) -> str:
    """crisis-ct_<operation(s)>_<dataset>[_public]_<date>.<ext>: the operation and the date."""
    operations = "+".join(sorted(request.operation_codes)) or "none"
    profile = "_public" if request.public else ""
    return f"crisis-ct_{operations}_{request.dataset}{profile}_{today.isoformat()}.{request.fmt}"


def build(session: Session, principal: Principal | None, request: ExportRequest, *, now: datetime) -> Export:
    """The export, its first row already read: a refusal (ExportRefused) surfaces here,
    before a response has started."""
    if request.dataset not in FORMATS or request.fmt not in FORMATS[request.dataset]:
        raise ExportError(f"there is no {request.dataset}.{request.fmt} export")
    if request.public and request.dataset not in PUBLIC_DATASETS:
        raise ExportRefused(f"The public profile holds admin areas only, not {request.dataset}.")
    if principal is None and not request.public:
        raise ExportRefused("Only the public profile is available without a person.")
    cols, rows = _rows(session, principal, request, now=now)
    rows = _started(iter(rows))
    if request.fmt == "csv":
        chunks = writers.csv_chunks(cols, rows)
    elif request.fmt == "xlsx":
        chunks = writers.xlsx_chunks(cols, rows, title=request.dataset)
    else:
        chunks = writers.geojson_chunks(_features(cols, rows), name=request.dataset)
    return Export(filename(request, now.date()), writers.MIMETYPES[request.fmt], chunks)


def _started(rows: Iterator[dict]) -> Iterator[dict]:
    try:
        first = next(rows)
    except StopIteration:
        return iter(())
    return itertools.chain([first], rows)


def _rows(session, principal, request: ExportRequest, *, now):
    f, ops, lang = request.filters, request.operation_ids, request.lang
    geometry = request.fmt == "geojson"
    if request.dataset == "sites":
        return columns.SITES, sources.site_rows(session, principal, ops, bbox=f.get("bbox"), pcode=f.get("pcode"),
                                                with_geometry=geometry)
    if request.dataset == "admin-areas":
        return columns.ADMIN_AREAS, sources.area_rows(session, principal, ops, level=f.get("level"),
                                                      bbox=f.get("bbox"), lang=lang, public=request.public,
                                                      with_geometry=geometry)
    if request.dataset == "tasks":
        return columns.TASKS, sources.task_rows(session, principal, ops, TaskFilters(**f), now=now, lang=lang,
                                                with_geometry=geometry)
    if request.dataset == "submissions":
        return (columns.SUBMISSION_META + columns.answer_columns(sources.answer_indicators()),
                sources.submission_rows(session, principal, ops, **f))
    shape, rows = fourw.four_w(session, principal, ops, now=now, lang=lang, pcode=f.get("pcode"))
    return (columns.FOUR_W if shape == "tasks" else columns.FOUR_W_AGGREGATE), rows


def _features(cols, rows) -> Iterator[dict]:
    keys = [c.key for c in cols]
    for row in rows:
        yield {"type": "Feature", "geometry": row.get(GEOMETRY),
               "properties": {key: row.get(key) for key in keys}}

"""The Ingestor's SQL: its one-round-trip prefetch, and COPY of encoded rows on PostgreSQL."""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from crisis_ct.geography.models import Site
from crisis_ct.kobo.models import QuarantinedSubmission, Submission, SubmissionVersion

__all__ = ["JIT_OFF", "copy_text", "prefetch_statement"]

# For the rest of a batch's transaction. Until a pooled connection's prepared prefetch gets
# its generic plan (its 11th batch), each plan sees the batch's 1,000 values; without
# column statistics (a table filling up in its first import) the planner guesses ~50 edits
# per deprecated id probed, and the estimate passes jit_above_cost: 35-180 ms of JIT
# compilation for a ~10 ms query, in each of those batches.
JIT_OFF = sa.text("SET LOCAL jit = off")

_PREFETCH_STATEMENTS: dict[tuple[bool, bool], sa.CompoundSelect | sa.Select] = {}


def prefetch_statement(postgres: bool, with_chains: bool):
    """The prefetch query, built once per shape: building it per batch of one (the webhook)
    cost more than running it. Rows: (kind, text, other text, row id, number).

    Parameters: `ids` (the batch's instance ids, and the ids its edits deprecate), and with
    chains operation_id, asset_id, codes, kobo_ids, keys; on PostgreSQL the lists are given
    as `array_literal` text, on SQLite as lists. One list of ids serves the three
    lookups by id: what it finds beyond one lookup's own ids are true facts the Ingestor
    never asks about, and the driver quotes each list element by element (a third of the
    client time of the prefetch went to the two copies of it that this saves)."""
    if postgres and with_chains:
        return _POSTGRES_PREFETCH
    key = (postgres, with_chains)
    statement = _PREFETCH_STATEMENTS.get(key)
    if statement is None:
        def one_of(column, name: str):
            # PostgreSQL: one array parameter, not thousands of IN parameters to parse, and
            # sent as array text made here rather than by the driver's list dumper (a third
            # of the client time; and the server's plans for the driver's typed arrays
            # turned four times slower once the statement was prepared, on a 100,000-row
            # table). (Tried: the lists as JSON text, unnested by the server: twice as slow.)
            if postgres:
                return column == sa.any_(sa.bindparam(name, type_=_ArrayText(column.type)))
            return column.in_(sa.bindparam(name, expanding=True))

        parts = [_lookup_rows("quarantine", QuarantinedSubmission.instance_id, QuarantinedSubmission.status,
                              QuarantinedSubmission.id, None, one_of(QuarantinedSubmission.instance_id, "ids"))]
        if with_chains:
            operation_id, asset_id = sa.bindparam("operation_id"), sa.bindparam("asset_id")
            parts += [
                _lookup_rows("site", Site.site_code, None, Site.id, None,
                             sa.and_(Site.operation_id == operation_id, one_of(Site.site_code, "codes"))),
                _lookup_rows("version", SubmissionVersion.instance_id, SubmissionVersion.deprecated_id,
                             SubmissionVersion.submission_id, None,
                             sa.or_(one_of(SubmissionVersion.instance_id, "ids"),
                                    # Spelt out so that the partial index (edits only) applies.
                                    sa.and_(SubmissionVersion.deprecated_id.is_not(None),
                                            one_of(SubmissionVersion.deprecated_id, "ids")))),
                # The chains by Kobo id and by key as two parts, not one OR: SQLite then read
                # every submission of the operation (~40 ms of each webhook at 10,000
                # submissions) instead of one index entry each. A chain found by both comes twice.
                _lookup_rows("chain", Submission.chain_key, None, Submission.id, Submission.kobo_id,
                             sa.and_(Submission.asset_id == asset_id, one_of(Submission.kobo_id, "kobo_ids"),
                                     Submission.operation_id == operation_id)),
                _lookup_rows("chain", Submission.chain_key, None, Submission.id, Submission.kobo_id,
                             sa.and_(Submission.operation_id == operation_id, one_of(Submission.chain_key, "keys"))),
            ]
        statement = _PREFETCH_STATEMENTS[key] = parts[0] if len(parts) == 1 else sa.union_all(*parts)
    return statement


class _ArrayText(UserDefinedType):
    """A parameter given as PostgreSQL array text ('{"a","b"}'), cast to an array of the
    column's type in the statement."""

    cache_ok = True
    render_bind_cast = True

    def __init__(self, item_type: sa.types.TypeEngine):
        self.item_type = item_type

    def get_col_spec(self, **kw) -> str:
        return f"{self.item_type.compile()}[]"


# PostgreSQL: every wanted id, key and Kobo id probes its index by itself (a LATERAL
# subquery per value; OFFSET 0 keeps the planner from turning it back into a join it may
# plan as a scan). Written as `column = ANY(array)` beside `operation_id =`/`asset_id =`,
# the plan rested on column statistics, which a table filling up in a bulk import (a first
# import, a new operation) does not have yet: the planner took `operation_id = 1` for a
# rare value and read every submission of the operation, then filtered it by the array,
# in each batch; at 100,000 submissions 0.4 s a batch, the import 3x slower (issue 15).
# Probes cost the same whatever the statistics: ~4 index lookups a record, ~10 ms a batch.
# The quarantine (unique instance id) and the sites (analyzed after each site import) plan
# well as arrays. A version found by both its instance id and a deprecated id comes twice.
_POSTGRES_PREFETCH = sa.text("""
SELECT 'quarantine' AS kind, q.instance_id::varchar AS text, q.status::varchar AS other, q.id::bigint AS row_id,
       NULL::bigint AS number
  FROM quarantined_submissions q WHERE q.instance_id = ANY(CAST(:ids AS varchar[]))
UNION ALL
SELECT 'site', s.site_code, NULL, s.id, NULL
  FROM sites s WHERE s.operation_id = :operation_id AND s.site_code = ANY(CAST(:codes AS varchar[]))
UNION ALL
SELECT 'version', v.instance_id, v.deprecated_id, v.submission_id, NULL
  FROM unnest(CAST(:ids AS varchar[])) AS wanted(id)
  CROSS JOIN LATERAL (SELECT instance_id, deprecated_id, submission_id FROM submission_versions
                       WHERE instance_id = wanted.id OFFSET 0) AS v
UNION ALL
SELECT 'version', v.instance_id, v.deprecated_id, v.submission_id, NULL
  FROM unnest(CAST(:ids AS varchar[])) AS wanted(id)
  CROSS JOIN LATERAL (SELECT instance_id, deprecated_id, submission_id FROM submission_versions
                       WHERE deprecated_id IS NOT NULL AND deprecated_id = wanted.id OFFSET 0) AS v
UNION ALL
SELECT 'chain', c.chain_key, NULL, c.id, c.kobo_id
  FROM unnest(CAST(:kobo_ids AS bigint[])) AS wanted(kobo_id)
  CROSS JOIN LATERAL (SELECT chain_key, id, kobo_id FROM submissions
                       WHERE asset_id = :asset_id AND kobo_id = wanted.kobo_id AND operation_id = :operation_id
                       OFFSET 0) AS c
UNION ALL
SELECT 'chain', c.chain_key, NULL, c.id, c.kobo_id
  FROM unnest(CAST(:keys AS varchar[])) AS wanted(key)
  CROSS JOIN LATERAL (SELECT chain_key, id, kobo_id FROM submissions
                       WHERE operation_id = :operation_id AND chain_key = wanted.key OFFSET 0) AS c
""")


def _lookup_rows(kind: str, text, other, row_id, number, where) -> sa.Select:
    """One part of the prefetch: rows shaped (kind, text, other text, id, number)."""
    return sa.select(sa.literal(kind, sa.String).label("kind"), sa.cast(text, sa.String).label("text"),
                     sa.cast(other if other is not None else sa.null(), sa.String).label("other"),
                     sa.cast(row_id, sa.BigInteger).label("row_id"),
                     sa.cast(number if number is not None else sa.null(), sa.BigInteger).label("number")
                     ).where(where)


def copy_text(session: Session, table: str, columns: Sequence[str], text: bytes) -> None:
    """PostgreSQL COPY of rows already encoded as COPY text (copy_text.py, UTF-8), in the
    session's transaction: one write, so the sending thread does no per-row work."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    session.flush()
    connection = session.connection()
    driver = connection.connection.driver_connection
    if driver.info.encoding != "utf-8":  # then psycopg encodes the text for the connection
        text = text.decode()
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(text)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error) from exc

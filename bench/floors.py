"""Floors: the cheapest way this machine does the same work as a figure, measured in the
same run on the same data, so that each figure can be judged as a ratio (bench/README.md).

Each floor here is plain psycopg against the same database: no Flask, no ORM, no Python
scoring — what the database and the driver cost on their own.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.types.json import Json

# Tables a re-score never writes, whatever their counts do meanwhile.
_NOT_WRITTEN_BY_SCORING = {"scoring_queue", "alembic_version", "spatial_ref_sys"}


@dataclass(frozen=True)
class TableMark:
    rows: int
    max_id: int | None  # None when the table has no integer `id` column


def mark_tables(dsn: str) -> dict[str, TableMark]:
    """Row count and highest id of every table of the public schema: taken before a step,
    compared with after it, this says which rows the step wrote."""
    marks = {}
    with psycopg.connect(dsn) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
        for name in names:
            has_id = connection.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
                "AND column_name = 'id' AND data_type IN ('integer', 'bigint')", (name,)).fetchone()
            table = sql.Identifier(name)
            rows = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
            max_id = connection.execute(sql.SQL("SELECT max(id) FROM {}").format(table)).fetchone()[0] \
                if has_id else None
            marks[name] = TableMark(rows, max_id if has_id else None)
    return marks


def written_rows(dsn: str, before: dict[str, TableMark]) -> dict[str, bytes]:
    """COPY text of the rows each table gained since `before` (by id; a table without an
    id counts only when it was empty before). Read out untimed, for the write floor."""
    after = mark_tables(dsn)
    out: dict[str, bytes] = {}
    with psycopg.connect(dsn) as connection:
        for name, mark in after.items():
            old = before.get(name, TableMark(0, None))
            if name in _NOT_WRITTEN_BY_SCORING or mark.rows <= old.rows:
                continue
            table = sql.Identifier(name)
            if mark.max_id is not None:
                query = sql.SQL("COPY (SELECT * FROM {} WHERE id > {}) TO STDOUT").format(
                    table, sql.Literal(old.max_id or 0))
            elif old.rows == 0:
                query = sql.SQL("COPY {} TO STDOUT").format(table)
            else:
                continue
            buffer = bytearray()
            with connection.cursor() as cursor, cursor.copy(query) as copy:
                for chunk in copy:
                    buffer += chunk
            out[name] = bytes(buffer)
    return out


def copy_write_seconds(dsn: str, rows_by_table: dict[str, bytes]) -> float:
    """COPY the given rows into empty clones of their tables (same columns, defaults and
    indexes), one transaction: the cost of writing what the step wrote, and nothing else."""
    with psycopg.connect(dsn) as connection:
        for name in rows_by_table:
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(f"floor_{name}")))
            connection.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING INDEXES)").format(
                sql.Identifier(f"floor_{name}"), sql.Identifier(name)))
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for name, data in rows_by_table.items():
                with cursor.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(f"floor_{name}"))) as copy:
                    copy.write(data)
        connection.commit()
        seconds = time.perf_counter() - started
        for name in rows_by_table:
            connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(f"floor_{name}")))
        connection.commit()
    return seconds


def full_rescore_read_seconds(dsn: str, operation_code: str) -> tuple[float, int]:
    """Every row a full re-score reads, fetched with plain psycopg: the operation's sites,
    admin areas and stored interviews (answers parsed by the driver, as the app's are)."""
    started = time.perf_counter()
    rows = 0
    with psycopg.connect(dsn) as connection:
        operation_id = connection.execute("SELECT id FROM operations WHERE code = %s",
                                          (operation_code,)).fetchone()[0]
        for query in (
            "SELECT id, operation_id, site_type, population_individuals, adm1_pcode, adm2_pcode, adm3_pcode "
            "FROM sites WHERE operation_id = %s",
            "SELECT id, operation_id, pcode, level, parent_pcode FROM admin_areas WHERE operation_id = %s",
        ):
            rows += len(connection.execute(query, (operation_id,)).fetchall())
        with connection.cursor(name="interviews") as cursor:
            cursor.itersize = 5000
            cursor.execute("SELECT site_id, id, assessment_date, ki_sex, answers FROM submissions "
                           "WHERE operation_id = %s", (operation_id,))
            for _ in cursor:
                rows += 1
    return time.perf_counter() - started, rows


def site_rescore_floor_ms(dsn: str, site_id: int) -> float:
    """The same site's interviews read and one score row written (a copy of its current
    one, into a clone of the scores table), commit included, with plain SQL."""
    with psycopg.connect(dsn) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS floor_site_scores "
                           "(LIKE site_risk_scores INCLUDING DEFAULTS INCLUDING INDEXES)")
        connection.commit()
        started = time.perf_counter()
        connection.execute("SELECT site_id, id, assessment_date, ki_sex, answers FROM submissions "
                           "WHERE site_id = %s", (site_id,)).fetchall()
        row = connection.execute("SELECT * FROM site_risk_scores WHERE site_id = %s AND is_current",
                                 (site_id,)).fetchone()
        columns = [column.name for column in connection.execute(
            "SELECT * FROM site_risk_scores LIMIT 0").description]
        connection.execute("DELETE FROM floor_site_scores WHERE site_id = %s", (site_id,))
        if row is not None:
            connection.execute(
                sql.SQL("INSERT INTO floor_site_scores ({}) VALUES ({})").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns))),
                [Json(v) if isinstance(v, (dict, list)) else v for v in row])
        connection.commit()
        return (time.perf_counter() - started) * 1000


def statement_ms(dsn: str, statement: str, parameters, runs: int) -> tuple[list[float], int]:
    """Run one captured statement `runs` times after a warm-up with plain psycopg, fetching
    its result as text; the timings and the size of the result."""
    timings, size = [], 0
    with psycopg.connect(dsn) as connection:
        for run in range(runs + 1):
            started = time.perf_counter()
            rows = connection.execute(statement, parameters).fetchall()
            elapsed = (time.perf_counter() - started) * 1000
            size = sum(len(str(value)) for row in rows for value in row)
            if run:
                timings.append(elapsed)
    return timings, size

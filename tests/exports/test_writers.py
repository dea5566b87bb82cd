"""The writers, without a database: CSV and XLSX cells never become formulas, and the CSV's
second row is the HXL hashtag row."""
from __future__ import annotations

import csv
import io

import openpyxl

from crisis_ct.exports.columns import Column
from crisis_ct.exports.writers import csv_chunks, geojson_chunks, xlsx_chunks

COLUMNS = (Column("name", "Site name", "#loc+name"), Column("lon", "Longitude", "#geo+lon"))
HOSTILE = '=HYPERLINK("http://example.org","click")'


def test_text_that_starts_like_a_formula_stays_text_in_csv():
    body = b"".join(csv_chunks(COLUMNS, [{"name": HOSTILE, "lon": -1.5}, {"name": "@SUM(A1)", "lon": 2}]))
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[1] == ["#loc+name", "#geo+lon"]
    assert rows[2] == ["'" + HOSTILE, "-1.5"] and rows[3][0] == "'@SUM(A1)"


def test_text_that_starts_like_a_formula_stays_text_in_xlsx():
    body = b"".join(xlsx_chunks(COLUMNS, [{"name": HOSTILE, "lon": -1.5}]))
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    assert sheet["A3"].data_type == "s" and sheet["A3"].value == "'" + HOSTILE
    assert sheet["B3"].value == -1.5


def test_csv_is_written_in_chunks_of_rows():
    chunks = list(csv_chunks(COLUMNS, ({"name": f"site {i}", "lon": i} for i in range(1200))))
    assert len(chunks) == 3  # 500 rows, 500 rows, the rest


def test_an_empty_geojson_is_a_valid_feature_collection():
    import json

    assert json.loads(b"".join(geojson_chunks([], name="sites")))["features"] == []

"""Export readers: JSON (streamed), XLSX and CSV in Kobo's layout give the API's records."""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from crisis_ct.kobo.exports import ExportError, iter_json_records, read_export
from crisis_ct.kobo.normalise import normalise
from crisis_ct.kobo.synthetic import make_edit

ASSET_UID = "aTestAsset123"
MAIN_SHEET = "CT site assessment (test)"
META_COLUMNS = ["meta/instanceID", "meta/deprecatedID", "meta/rootUuid", "_id", "_uuid", "_submission_time",
                "_validation_status", "_notes", "_status", "_submitted_by", "__version__", "_tags"]


@pytest.fixture
def api_records(make_record) -> list[dict]:
    records = [make_record(i, site_type=t) for i, t in
               zip(range(1, 13), ["planned_camp", "transit_centre", "border_point", "collective_centre"] * 3)]
    records[3] = make_edit(records[3], {"pop/pop_uasc": "most"}, rng=random.Random(5))
    records[4]["liv/liv_debt_share"] = "12.0"  # an integral decimal, written as 12.0 by Excel
    return records


def main_columns(form, choice_separator: str | None = "/") -> list[str]:
    columns = []
    for question in form.questions:
        if question.repeat or question.type == "note":
            continue
        columns.append(question.xpath)
        if question.type == "select_multiple" and choice_separator:
            columns += [f"{question.xpath}{choice_separator}{c}" for c in question.choices]
        if question.type == "geopoint":
            prefix = question.xpath.rsplit("/", 1)[0] + "/" if "/" in question.xpath else ""
            columns += [f"{prefix}_{question.name}_{p}" for p in ("latitude", "longitude", "altitude", "precision")]
    return columns + META_COLUMNS


def cell(record: dict, column: str, form, typed: bool):
    """What Kobo writes in an export cell for this column."""
    for sep in ("/", "."):
        parent, _, choice = column.rpartition(sep)
        question = form.by_xpath(parent)
        if question is not None and question.type == "select_multiple":
            if parent not in record:
                return None
            return int(choice in record[parent].split()) if typed else str(int(choice in record[parent].split()))
    if "/_" in column or column.startswith("_location"):
        parent_xpath = column.rsplit("/", 1)[0] + "/" + column.rsplit("/_", 1)[1].rsplit("_", 1)[0]
        part = ("latitude", "longitude", "altitude", "precision").index(column.rsplit("_", 1)[1])
        if parent_xpath not in record:
            return None
        value = float(record[parent_xpath].split()[part])
        return value if typed else str(value)
    value = record.get(column)
    if value is None:
        return None
    if column in ("_tags", "_notes"):
        return ", ".join(value) or None
    if column == "_validation_status":
        return value.get("uid")
    if not typed:
        return str(value)
    if column == "_submission_time":
        return datetime.fromisoformat(value)
    question = form.by_xpath(column)
    kind = question.type if question else None
    if kind == "integer":
        return int(value)
    if kind == "decimal":
        return float(value)
    if kind == "date":
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    return value


def write_xlsx(path, records, form) -> None:
    workbook = Workbook()
    main = workbook.active
    main.title = MAIN_SHEET[:31]
    columns = main_columns(form) + ["_index"]
    main.append(columns)
    actors = workbook.create_sheet("actors")
    actors.append(["actors/actor_type", "actors/actor_staff", "_index", "_parent_table_name",
                   "_parent_index", "_submission__id", "_submission__uuid"])
    actor_index = 0
    for index, record in enumerate(records, start=1):
        main.append([cell(record, c, form, typed=True) if c != "_index" else index for c in columns])
        for row in record.get("actors", []):
            actor_index += 1
            staff = row.get("actors/actor_staff")
            actors.append([row.get("actors/actor_type"), int(staff) if staff else None, actor_index,
                           main.title, index, record["_id"], record["_uuid"]])
    workbook.save(path)


def write_csv(path, records, form, *, delimiter=";", choice_separator="/", keep_select_column=True) -> None:
    columns = [c for c in main_columns(form, choice_separator)
               if keep_select_column or not (form.by_xpath(c) and form.by_xpath(c).type == "select_multiple")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(columns)
        for record in records:
            writer.writerow(["" if (v := cell(record, c, form, typed=False)) is None else v for c in columns])


def test_json_export_matches_api_records(tmp_path, api_records):
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"count": len(api_records), "next": None, "previous": None,
                                "results": api_records}))
    assert list(read_export(path)) == api_records


def test_bare_json_list_is_read(tmp_path, api_records):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(api_records))
    assert list(read_export(path)) == api_records


def test_xlsx_export_normalises_like_the_api(tmp_path, sample_form, api_records):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, api_records, sample_form)
    from_file = [normalise(r, sample_form) for r in read_export(path, sample_form, asset_uid=ASSET_UID)]
    assert from_file == [normalise(r, sample_form) for r in api_records]


def test_xlsx_export_without_form_normalises_like_the_api(tmp_path, sample_form, api_records):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, api_records, sample_form)
    from_file = [normalise(r, sample_form) for r in read_export(path, asset_uid=ASSET_UID)]
    assert from_file == [normalise(r, sample_form) for r in api_records]


def test_xlsx_values_come_back_as_api_strings(tmp_path, sample_form, api_records):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, api_records, sample_form)
    first = next(read_export(path, sample_form))
    assert first["pop/pop_new_arrivals"] == api_records[0]["pop/pop_new_arrivals"]
    assert first["site/assessment_date"] == "2026-03-01"
    assert first["_submission_time"] == api_records[0]["_submission_time"]
    assert first["_id"] == 1
    assert first["actors"] == api_records[0]["actors"]


def test_xlsx_repeat_rows_join_their_parent(tmp_path, sample_form, api_records):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, api_records, sample_form)
    assert [len(r.get("actors", [])) for r in read_export(path, sample_form)] == \
        [len(r.get("actors", [])) for r in api_records]


def test_xlsx_orphan_repeat_row_is_an_error(tmp_path, sample_form, api_records):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, api_records[:2], sample_form)
    from openpyxl import load_workbook
    workbook = load_workbook(path)
    workbook["actors"].append(["ngo", 1, 99, MAIN_SHEET[:31], 77, 1, "x"])
    workbook.save(path)
    with pytest.raises(ExportError, match="_parent_index"):
        list(read_export(path, sample_form))


@pytest.mark.parametrize("delimiter, separator", [(";", "/"), (",", "."), (";", ".")])
def test_csv_export_normalises_like_the_api(tmp_path, sample_form, api_records, delimiter, separator):
    path = tmp_path / "export.csv"
    write_csv(path, api_records, sample_form, delimiter=delimiter, choice_separator=separator)
    from_file = [normalise(r, sample_form) for r in read_export(path, sample_form, asset_uid=ASSET_UID)]
    expected = [normalise({k: v for k, v in r.items() if k != "actors"}, sample_form) for r in api_records]
    assert from_file == expected


@pytest.mark.parametrize("separator", ["/", "."])
def test_csv_select_multiple_rebuilt_from_choice_columns(tmp_path, sample_form, api_records, separator):
    path = tmp_path / "export.csv"
    write_csv(path, api_records, sample_form, choice_separator=separator, keep_select_column=False)
    rebuilt = [r.get("liv/liv_neg_coping") for r in read_export(path, sample_form)]
    assert rebuilt == [r.get("liv/liv_neg_coping") for r in api_records]


def test_csv_identity_and_metadata(tmp_path, sample_form, api_records):
    path = tmp_path / "export.csv"
    write_csv(path, api_records, sample_form)
    edited = list(read_export(path, sample_form))[3]
    assert edited["_id"] == api_records[3]["_id"]
    assert edited["meta/deprecatedID"] == api_records[3]["meta/deprecatedID"]


def test_csv_with_label_headers_is_refused(tmp_path, sample_form):
    path = tmp_path / "labels.csv"
    path.write_text("Site id;Site type\nSITE-1;Planned camp\n")
    with pytest.raises(ExportError, match="XML values and headers"):
        list(read_export(path, sample_form))


def test_csv_bad_id_names_file_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("_id;_uuid\n1;a\nabc;b\n")
    with pytest.raises(ExportError) as info:
        list(read_export(path))
    assert (info.value.file, info.value.row, info.value.column) == ("bad.csv", 3, "_id")
    assert "bad.csv, row 3, column '_id'" in str(info.value)


def test_format_sniffed_without_extension(tmp_path, api_records):
    path = tmp_path / "download"
    path.write_text(json.dumps(api_records[:2]))
    assert list(read_export(path)) == api_records[:2]


def test_truncated_json_is_an_export_error(tmp_path, api_records):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"results": api_records})[:-300])
    with pytest.raises(ExportError, match="cut.json"):
        list(read_export(path))


def test_json_values_split_across_chunks_are_decoded():
    payload = {"count": 12345, "next": None, "results": [{"_id": i, "q": "é" * i} for i in range(40)]}
    text = json.dumps(payload, ensure_ascii=False)
    assert list(iter_json_records(io.StringIO(text), chunk_size=7)) == payload["results"]


class CountingStream(io.StringIO):
    def __init__(self, text: str):
        super().__init__(text)
        self.chars_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.chars_read += len(chunk)
        return chunk


def test_large_json_is_streamed_not_loaded(make_record):
    record = make_record(1)
    text = json.dumps({"count": 20000, "next": None, "previous": None,
                       "results": [{**record, "_id": i} for i in range(20000)]})
    stream = CountingStream(text)
    records = iter_json_records(stream, chunk_size=1 << 16)
    first = next(records)
    assert first["_id"] == 0
    assert stream.chars_read < len(text) / 50  # only the first chunk(s), not the file
    assert sum(1 for _ in records) == 19999

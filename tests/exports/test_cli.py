"""`crisis-ct export`: the same files as the API, for a named person or the public."""
from __future__ import annotations

import io

import hxl

from crisis_ct.cli import main
from tests.exports.conftest import read_csv
from tests.projection.conftest import COORDINATOR, VIEWER


def test_export_as_a_person_writes_what_they_may_see(app, export_world, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "areas.csv"
    result = runner.invoke(main, ["export", "admin-areas", "--as", VIEWER, "--level", "3", "-o", str(target)])
    assert result.exit_code == 0, result.output
    _, _, rows = read_csv(target.read_bytes())
    one = next(row for row in rows if row["P-code"] == "XZ010102")
    assert one["Sites assessed"] == "<3" and one["TIP risk severity phase"] == ""
    refused = runner.invoke(main, ["export", "sites", "--as", VIEWER, "-o", str(tmp_path / "sites.csv")])
    assert refused.exit_code != 0 and "experts and coordinators" in refused.output


def test_public_export_to_stdout_is_hxl_at_admin_1_and_2(app, export_world):
    result = app.test_cli_runner().invoke(main, ["export", "admin-areas", "--public", "-o", "-"])
    assert result.exit_code == 0, result.output
    rows = list(hxl.data(io.BytesIO(result.stdout_bytes)))
    assert rows and {row.get("#meta+level") for row in rows} == {"1", "2"}


def test_default_file_name_holds_operation_and_date(app, export_world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = app.test_cli_runner().invoke(main, ["export", "tasks", "--as", COORDINATOR, "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    written = list(tmp_path.glob("crisis-ct_op1_tasks_*.xlsx"))
    assert len(written) == 1


def test_whose_export_must_be_said(app, export_world):
    runner = app.test_cli_runner()
    assert runner.invoke(main, ["export", "sites"]).exit_code != 0
    wrong = runner.invoke(main, ["export", "sites", "--as", COORDINATOR, "--level", "2"])
    assert wrong.exit_code != 0 and "--level" in wrong.output

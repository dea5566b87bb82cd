"""`crisis-ct referral import|export|stale` on both databases: the same sheet rules as the API."""
from __future__ import annotations

import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.referral.models import ServiceProvider
from tests.web.conftest import operation  # noqa: F401 - the fixture: op1 with areas XZ01… and sites S1–S4

SHEET = ("provider_code,organisation,service_types,adm1_pcodes,adm2_pcodes,last_verified_on\n"
         "P1,Good Org,legal_aid,XZ01,,\n")


def test_import_export_and_stale_from_the_command_line(app, operation, tmp_path):  # noqa: F811
    runner = app.test_cli_runner()
    sheet = tmp_path / "mapping.csv"
    sheet.write_text(SHEET)
    result = runner.invoke(main, ["referral", "import", str(sheet), "--operation", "op1"])
    assert result.exit_code == 0 and "imported 1 new, 0 updated" in result.output
    out = tmp_path / "out.xlsx"
    assert runner.invoke(main, ["referral", "export", str(out), "--operation", "op1"]).exit_code == 0
    assert out.read_bytes()[:2] == b"PK"
    stale = runner.invoke(main, ["referral", "stale", "--operation", "op1"])
    assert "P1\tGood Org\tnever" in stale.output


def test_a_bad_row_exits_non_zero_naming_row_and_field_and_imports_nothing(app, database, operation, tmp_path):  # noqa: F811
    sheet = tmp_path / "bad.csv"
    sheet.write_text(SHEET + "P2,Bad,legal_aid,,XZ01,\n")
    result = app.test_cli_runner().invoke(main, ["referral", "import", str(sheet), "--operation", "op1"])
    assert result.exit_code != 0
    assert "row 3: adm2_pcodes: XZ01 is an admin 1 P-code, not admin 2" in result.output
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceProvider)) == 0

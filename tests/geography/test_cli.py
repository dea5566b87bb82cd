import sqlalchemy as sa

from crisis_ct.cli import main

from crisis_ct.geography.models import AdminArea, Site
from tests.support.geo_fixtures import write_levels, write_sites_csv


def test_import_commands_load_areas_and_sites(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(main, ["operations", "create", "op1", "--name", "Op", "--country", "XZZ"]).exit_code == 0
    paths = write_levels(tmp_path)
    for level in (1, 2, 3):
        result = runner.invoke(main, ["geo", "import-areas", str(paths[level]), "--level", str(level),
                                     "--operation", "op1"])
        assert result.exit_code == 0, result.output
    sites = write_sites_csv(tmp_path / "sites.csv", [("S1", "Camp", "planned_camp", 0.5, 0.5, 100, 20)])
    result = runner.invoke(main, ["geo", "import-sites", str(sites), "--operation", "op1"])
    assert result.exit_code == 0 and "1 created" in result.output


def test_a_malformed_sites_csv_exits_non_zero_naming_row_and_field_and_imports_nothing(app, database, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(main, ["operations", "create", "op1", "--name", "Op", "--country", "XZZ"])
    paths = write_levels(tmp_path)
    for level in (1, 2, 3):
        runner.invoke(main, ["geo", "import-areas", str(paths[level]), "--level", str(level), "--operation", "op1"])
    bad = write_sites_csv(tmp_path / "bad.csv", [
        ("S1", "Camp", "planned_camp", 0.5, 0.5, 100, 20),
        ("S2", "Camp two", "planned_camp", 0.5, 0.5, "many", 20),
    ])
    result = runner.invoke(main, ["geo", "import-sites", str(bad), "--operation", "op1"])
    assert result.exit_code != 0
    assert "row 2" in result.output and "population_individuals" in result.output
    assert "nothing was imported" in result.output
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Site)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(AdminArea)) == 14


def test_imports_name_their_operation_rather_than_defaulting_to_the_demo(app, tmp_path):
    runner = app.test_cli_runner()
    paths = write_levels(tmp_path)
    sites = write_sites_csv(tmp_path / "sites.csv", [("S1", "Camp", "planned_camp", 0.5, 0.5, 100, 20)])
    for args in (["geo", "import-areas", str(paths[1]), "--level", "1"], ["geo", "import-sites", str(sites)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2 and "Missing option '--operation'" in result.output

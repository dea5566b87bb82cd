import sqlalchemy as sa
import pytest

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.importers import GeoImportError, read_admin_areas, read_sites
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.geography.operations import get_operation, import_admin_areas, import_sites
from tests.support.geo_fixtures import write_levels, write_sites_csv

ACTOR = Actor.system("test")


@pytest.fixture
def areas(tmp_path, seed, database):
    seed.operation("op1")
    paths = write_levels(tmp_path)
    with database.session() as session:
        operation = get_operation(session, "op1")
        for level in (1, 2, 3):
            import_admin_areas(session, ACTOR, operation, read_admin_areas(paths[level], level))
    return paths


def _import_sites(database, path):
    with database.session() as session:
        return import_sites(session, ACTOR, get_operation(session, "op1"), read_sites(path), source=str(path))


def test_sites_are_placed_in_admin_areas_by_location(areas, database, tmp_path):
    path = write_sites_csv(tmp_path / "sites.csv", [
        ("S1", "Camp one", "planned_camp", 0.5, 0.5, 1200, 240),
        ("S2", "Centre two", "collective_centre", 1.5, 3.5, 300, 60),
    ])
    _import_sites(database, path)
    with database.session() as session:
        sites = {s.site_code: s for s in session.scalars(sa.select(Site))}
    assert (sites["S1"].adm1_pcode, sites["S1"].adm2_pcode, sites["S1"].adm3_pcode) == ("XZ01", "XZ0101", "XZ010101")
    assert (sites["S2"].adm1_pcode, sites["S2"].adm2_pcode, sites["S2"].adm3_pcode) == ("XZ02", "XZ0202", "XZ020202")


def test_reimporting_the_same_file_updates_rather_than_duplicates(areas, database, tmp_path):
    path = write_sites_csv(tmp_path / "sites.csv", [("S1", "Camp one", "planned_camp", 0.5, 0.5, 1200, 240)])
    first = _import_sites(database, path)
    write_sites_csv(path, [("S1", "Camp one (renamed)", "planned_camp", 0.5, 0.5, 1500, 300)])
    second = _import_sites(database, path)
    with database.session() as session:
        sites = session.scalars(sa.select(Site)).all()
    assert (first.created, second.created, second.updated) == (1, 0, 1)
    assert [(s.name, s.population_individuals) for s in sites] == [("Camp one (renamed)", 1500)]


def test_reimporting_areas_updates_names(areas, database):
    with database.session() as session:
        operation = get_operation(session, "op1")
        summary = import_admin_areas(session, ACTOR, operation, read_admin_areas(areas[1], 1))
        count = session.scalar(sa.select(sa.func.count()).select_from(AdminArea))
    assert (summary.created, summary.updated, count) == (0, 2, 2 + 4 + 8)


def test_a_bad_row_names_row_and_field_and_imports_nothing(areas, database, tmp_path):
    path = write_sites_csv(tmp_path / "bad.csv", [
        ("S1", "Camp one", "planned_camp", 0.5, 0.5, 1200, 240),
        ("S2", "Camp two", "planned_camp", "north", 0.5, 100, 20),
    ])
    with pytest.raises(GeoImportError) as error:
        _import_sites(database, path)
    assert "row 2" in str(error.value) and "'latitude'" in str(error.value)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Site)) == 0


def test_an_unknown_site_type_is_refused_with_the_allowed_types(tmp_path):
    path = write_sites_csv(tmp_path / "bad.csv", [("S1", "Camp", "hotel", 0.5, 0.5, 10, 2)])
    with pytest.raises(GeoImportError, match=r"row 1: field 'site_type': 'hotel' is not a site type; use one of planned_camp"):
        list(read_sites(path))


def test_a_site_outside_every_area_is_refused(areas, database, tmp_path):
    path = write_sites_csv(tmp_path / "far.csv", [("S9", "Far camp", "planned_camp", 40.0, 40.0, 10, 2)])
    with pytest.raises(GeoImportError, match="outside every imported admin area"):
        _import_sites(database, path)


def test_area_pcode_must_start_with_its_parent(tmp_path):
    paths = write_levels(tmp_path)
    text = paths[2].read_text().replace('"ADM2_PCODE": "XZ0101"', '"ADM2_PCODE": "XZ0901"')
    paths[2].write_text(text)
    with pytest.raises(GeoImportError, match=r"row 1: field 'ADM2_PCODE': P-code XZ0901 does not start with"):
        read_admin_areas(paths[2], 2)


def test_areas_need_their_parent_level_imported_first(tmp_path, seed, database):
    seed.operation("op1")
    paths = write_levels(tmp_path)
    with pytest.raises(GeoImportError, match="parent P-code XZ01 is not an imported level-1 area"):
        with database.session() as session:
            import_admin_areas(session, ACTOR, get_operation(session, "op1"), read_admin_areas(paths[2], 2),
                               source=str(paths[2]))

"""The fictional demo country: determinism, COD-AB shape, exact nesting, and a plausible site list."""
from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, shape

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "geo" / "demo"
FILES = ("adm1.geojson", "adm2.geojson", "adm3.geojson", "sites.csv", "sites.geojson")
SITE_TYPES = {"planned_camp", "self_settled", "collective_centre", "transit_centre",
              "border_point", "informal_settlement", "host_community"}
HUNDRED_METRES = 0.0009  # degrees; a degree is at least 109 km at these latitudes


def _load_generator():
    spec = importlib.util.spec_from_file_location("demo_country", REPO / "geo" / "demo_country.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo_country = _load_generator()


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo")
    demo_country.generate(path)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big")
    demo_country.generate(path, n_sites=10_000, adm3_count=1_000)
    return path


def _features(folder: Path, name: str) -> list[dict]:
    return json.loads((folder / name).read_text(encoding="utf-8"))["features"]


def _areas(folder: Path, level: int) -> dict[str, tuple[dict, object]]:
    return {f["properties"][f"ADM{level}_PCODE"]: (f["properties"], shape(f["geometry"]))
            for f in _features(folder, f"adm{level}.geojson")}


def _sites(folder: Path) -> list[dict]:
    with (folder / "sites.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _site_point(site: dict) -> Point:
    return Point(float(site["longitude"]), float(site["latitude"]))


def _containing_adm3(folder: Path, sites: list[dict]) -> list[list[str]]:
    adm3 = _areas(folder, 3)
    codes = list(adm3)
    tree = shapely.STRtree([adm3[c][1] for c in codes])
    points = [_site_point(s) for s in sites]
    site_index, area_index = tree.query(points, predicate="within")
    found: list[list[str]] = [[] for _ in sites]
    for s, a in zip(site_index, area_index):
        found[int(s)].append(codes[int(a)])
    return found


# --- determinism ------------------------------------------------------------------------------

def test_two_runs_write_identical_bytes(out, tmp_path):
    demo_country.generate(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_committed_demo_files_are_the_generator_output(out):
    # If this fails after a shapely/GEOS upgrade or a generator change: python geo/demo_country.py --out geo/demo
    for name in FILES:
        assert (DEMO_DIR / name).read_bytes() == (out / name).read_bytes(), name


def test_committed_demo_is_small():
    assert sum(p.stat().st_size for p in DEMO_DIR.iterdir()) < 1_500_000


# --- admin boundaries ---------------------------------------------------------------------------

def test_default_counts_are_3_12_40(out):
    assert [len(_features(out, f"adm{n}.geojson")) for n in (1, 2, 3)] == [3, 12, 40]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_admin_geometry_is_a_valid_multipolygon(out, level):
    for pcode, (_, geom) in _areas(out, level).items():
        assert geom.geom_type == "MultiPolygon", pcode
        assert geom.is_valid, (pcode, shapely.is_valid_reason(geom))


@pytest.mark.parametrize("level", [1, 2, 3])
def test_coordinates_have_at_most_six_decimals(out, level):
    for pcode, (_, geom) in _areas(out, level).items():
        coords = shapely.get_coordinates(geom)
        assert (coords.round(6) == coords).all(), pcode


@pytest.mark.parametrize("level", [1, 2, 3])
def test_pcodes_are_xz_plus_digits_and_unique(out, level):
    features = _features(out, f"adm{level}.geojson")
    codes = [f["properties"][f"ADM{level}_PCODE"] for f in features]
    assert all(isinstance(c, str) and re.fullmatch(r"XZ\d+", c) for c in codes)
    assert len(set(codes)) == len(codes)
    assert len({len(c) for c in codes}) == 1  # one code width per level


@pytest.mark.parametrize("level", [1, 2, 3])
def test_pcode_starts_with_parent_pcode(out, level):
    parents = set(_areas(out, level - 1)) if level > 1 else {"XZ"}
    for pcode, (props, _) in _areas(out, level).items():
        parent = props[f"ADM{level - 1}_PCODE"]
        assert parent in parents
        assert pcode.startswith(parent) and len(pcode) == len(parent) + 2


@pytest.mark.parametrize("level", [2, 3])
def test_each_area_lies_within_its_parent(out, level):
    parents = _areas(out, level - 1)
    for pcode, (props, geom) in _areas(out, level).items():
        parent_geom = parents[props[f"ADM{level - 1}_PCODE"]][1]
        assert parent_geom.covers(geom), pcode


@pytest.mark.parametrize("level", [1, 2])
def test_parent_is_exactly_the_union_of_its_children(out, level):
    children: dict[str, list] = {}
    for props, geom in _areas(out, level + 1).values():
        children.setdefault(props[f"ADM{level}_PCODE"], []).append(geom)
    for pcode, (_, geom) in _areas(out, level).items():
        assert shapely.union_all(children[pcode]).symmetric_difference(geom).area < 1e-12, pcode


@pytest.mark.parametrize("level", [1, 2, 3])
def test_areas_of_a_level_neither_overlap_nor_leave_gaps(out, level):
    geoms = [geom for _, geom in _areas(out, level).values()]
    assert shapely.coverage_is_valid(geoms)
    country = shapely.union_all([geom for _, geom in _areas(out, 1).values()])
    assert sum(g.area for g in geoms) == pytest.approx(country.area, rel=1e-12)


def test_country_lies_in_open_ocean_box(out):
    for _, geom in _areas(out, 1).values():
        minx, miny, maxx, maxy = geom.bounds
        assert -24 <= minx and maxx <= -18 and -14 <= miny and maxy <= -9


def test_admin_properties_follow_classic_cod_ab(out):
    props, _ = next(iter(_areas(out, 3).values()))
    for key in ("ADM3_PCODE", "ADM3_EN", "ADM3_FR", "ADM2_PCODE", "ADM1_PCODE", "ADM0_PCODE", "ADM0_EN"):
        assert props[key], key
    assert props["ADM0_PCODE"] == "XZ"
    assert props["valid_on"] == "2026-01-01"


def test_names_are_bilingual(out):
    for level in (1, 2, 3):
        for props, _ in _areas(out, level).values():
            assert props[f"ADM{level}_EN"].strip() and props[f"ADM{level}_FR"].strip()
    adm1 = [props for props, _ in _areas(out, 1).values()]
    assert all(p["ADM1_EN"] != p["ADM1_FR"] for p in adm1)


def test_every_file_says_the_country_is_fictional(out):
    for name in ("adm1.geojson", "adm2.geojson", "adm3.geojson", "sites.geojson"):
        collection = json.loads((out / name).read_text(encoding="utf-8"))
        assert "not a real place" in collection["_note"]
        assert all("not a real place" in f["properties"]["source"] for f in collection["features"])
    assert "not a real place" in (REPO / "geo" / "README.md").read_text(encoding="utf-8")


# --- sites ---------------------------------------------------------------------------------------

def test_sites_csv_has_the_dtm_header_and_enough_rows(out):
    with (out / "sites.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["site_id", "site_name", "site_type", "latitude", "longitude", "population_individuals",
                      "population_households", "adm1_pcode", "adm2_pcode", "adm3_pcode", "site_id_source"]
    assert len(_sites(out)) >= 200


def test_site_ids_are_unique_and_well_formed(out):
    ids = [s["site_id"] for s in _sites(out)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"XZ-S-\d{4}", i) for i in ids)


def test_every_site_is_inside_exactly_its_own_adm3(out):
    sites = _sites(out)
    for site, found in zip(sites, _containing_adm3(out, sites)):
        assert found == [site["adm3_pcode"]], site["site_id"]


def test_sites_keep_at_least_100_m_from_adm3_borders(out):
    adm3 = _areas(out, 3)
    for site in _sites(out):
        boundary = adm3[site["adm3_pcode"]][1].boundary
        assert boundary.distance(_site_point(site)) >= HUNDRED_METRES, site["site_id"]


def test_site_pcodes_match_the_admin_hierarchy(out):
    adm3 = _areas(out, 3)
    for site in _sites(out):
        props = adm3[site["adm3_pcode"]][0]
        assert (site["adm2_pcode"], site["adm1_pcode"]) == (props["ADM2_PCODE"], props["ADM1_PCODE"])


def test_some_adm3_areas_have_fewer_than_three_sites(out):
    per_area = Counter(s["adm3_pcode"] for s in _sites(out))
    assert sum(1 for code in _areas(out, 3) if per_area[code] < 3) >= 2


def test_sites_cluster_in_some_areas(out):
    per_area = Counter(s["adm3_pcode"] for s in _sites(out))
    mean = len(_sites(out)) / len(_areas(out, 3))
    assert max(per_area.values()) >= 3 * mean


def test_site_types_are_known_and_mostly_camps_and_centres(out):
    types = Counter(s["site_type"] for s in _sites(out))
    assert set(types) <= SITE_TYPES
    main = types["planned_camp"] + types["self_settled"] + types["collective_centre"]
    assert main / types.total() > 0.5


def test_about_a_tenth_are_transit_or_border_points_near_the_edge(out):
    country_edge = shapely.union_all([g for _, g in _areas(out, 1).values()]).boundary
    sites = _sites(out)
    edge_sites = [s for s in sites if s["site_type"] in ("transit_centre", "border_point")]
    assert 0.07 <= len(edge_sites) / len(sites) <= 0.13
    assert all(country_edge.distance(_site_point(s)) < 0.2 for s in edge_sites)


def test_households_vary_from_tiny_to_large(out):
    households = [int(s["population_households"]) for s in _sites(out)]
    assert any(h < 20 for h in households)
    assert sum(100 <= h <= 5000 for h in households) / len(households) > 0.6
    assert max(households) > 5 * sorted(households)[len(households) // 2]


def test_individuals_are_four_to_six_per_household(out):
    for site in _sites(out):
        ratio = int(site["population_individuals"]) / int(site["population_households"])
        assert 4 <= ratio <= 6, site["site_id"]


def test_sites_geojson_holds_the_same_sites_as_the_csv(out):
    features = _features(out, "sites.geojson")
    sites = _sites(out)
    assert len(features) == len(sites)
    for feature, site in zip(features, sites):
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert (lon, lat) == (float(site["longitude"]), float(site["latitude"]))
        assert feature["properties"]["site_id"] == site["site_id"]
        assert feature["properties"]["adm3_pcode"] == site["adm3_pcode"]
        assert str(feature["properties"]["population_households"]) == site["population_households"]


# --- the benchmark-sized variant ------------------------------------------------------------------

def test_large_variant_has_the_requested_counts(big):
    assert len(_sites(big)) == 10_000
    assert len(_features(big, "adm3.geojson")) == 1_000
    assert len(_features(big, "adm2.geojson")) == 12


def test_large_variant_tiles_without_overlaps_or_gaps(big):
    geoms = [geom for _, geom in _areas(big, 3).values()]
    assert all(g.is_valid for g in geoms)
    assert shapely.coverage_is_valid(geoms)


def test_large_variant_puts_every_site_in_its_adm3(big):
    sites = _sites(big)
    found = _containing_adm3(big, sites)
    assert all(f == [s["adm3_pcode"]] for s, f in zip(sites, found))


def test_large_variant_pcodes_nest(big):
    adm3 = _areas(big, 3)
    for pcode, (props, _) in adm3.items():
        assert pcode.startswith(props["ADM2_PCODE"]) and props["ADM2_PCODE"].startswith(props["ADM1_PCODE"])

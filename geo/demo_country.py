"""Generate the fictional demo country (admin boundaries + site master list) for crisis-ct.

    python geo/demo_country.py --out geo/demo
    python geo/demo_country.py --out /tmp/big --sites 10000 --adm3 1000

Output is deterministic: the same arguments give the same bytes on every run (with the same
shapely/GEOS version). The country is invented and placed in open ocean; see geo/README.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script, or loaded from its file path (tests): make the sibling geo.* modules importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shapely  # noqa: E402

from geo.demo_admin import COUNTRY_PCODE, AdminArea, AdminLevels, build_admin_levels  # noqa: E402
from geo.demo_names import NameMaker  # noqa: E402
from geo.demo_shapes import make_land, tile  # noqa: E402
from geo.demo_sites import SITE_FIELDS, Site, make_sites  # noqa: E402

NOTE = "Fictional demo country — not a real place"
COUNTRY_ISO3 = "XZZ"
COUNTRY_EN = "Republic of Velmora (fictional)"
COUNTRY_FR = "République de Velmora (fictive)"
VALID_ON = "2026-01-01"


def generate(
    out_dir: Path,
    *,
    n_sites: int = 240,
    seed: int = 7,
    adm3_count: int = 40,
    adm2_count: int = 12,
    adm1_count: int = 3,
) -> None:
    """Write adm1/adm2/adm3.geojson, sites.csv and sites.geojson into out_dir."""
    if not adm1_count <= adm2_count <= adm3_count:
        raise ValueError("need adm1_count <= adm2_count <= adm3_count")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # One random stream per stage, so e.g. more sites never moves a boundary.
    land = make_land(random.Random(f"{seed}:land"))
    tiling = tile(random.Random(f"{seed}:tiling:{adm3_count}"), land, adm3_count)
    names = NameMaker(random.Random(f"{seed}:names:{adm3_count}"))
    levels = build_admin_levels(tiling, adm1_count, adm2_count, names)
    site_rng = random.Random(f"{seed}:sites:{n_sites}")
    sites = make_sites(site_rng, levels, land.mainland.exterior, n_sites, names)
    _check_geometry(levels)

    for level, areas in ((1, levels.adm1), (2, levels.adm2), (3, levels.adm3)):
        features = [_admin_feature(area, levels) for area in areas]
        layer_name = f"{COUNTRY_ISO3.lower()}_admbnda_adm{level}_demo_20260101"  # COD-AB file naming
        _write_feature_collection(out_dir / f"adm{level}.geojson", layer_name, features)
    _write_sites_csv(out_dir / "sites.csv", sites)
    site_features = [_site_feature(s) for s in sites]
    _write_feature_collection(out_dir / "sites.geojson", f"{COUNTRY_ISO3.lower()}_sites_demo", site_features)


def _check_geometry(levels: AdminLevels) -> None:
    """Fail loudly rather than write boundaries an importer would reject."""
    for area in (*levels.adm1, *levels.adm2, *levels.adm3):
        if not area.geometry.is_valid:
            raise RuntimeError(f"{area.pcode}: {shapely.is_valid_reason(area.geometry)}")
    for areas in (levels.adm1, levels.adm2, levels.adm3):
        if not shapely.coverage_is_valid([a.geometry for a in areas]):
            raise RuntimeError("admin areas overlap or leave gaps at the shared borders")


def _ring(ring) -> list[list[float]]:
    return [[round(x, 6), round(y, 6)] for x, y in ring.coords]


def _multipolygon(geom) -> dict:
    # RFC 7946: exterior rings counter-clockwise, holes clockwise.
    oriented = shapely.orient_polygons(geom)
    return {
        "type": "MultiPolygon",
        "coordinates": [[_ring(p.exterior), *(_ring(h) for h in p.interiors)] for p in oriented.geoms],
    }


def _admin_feature(area: AdminArea, levels: AdminLevels) -> dict:
    by_pcode = {a.pcode: a for a in (*levels.adm1, *levels.adm2, *levels.adm3)}
    properties: dict[str, str] = {}
    current: AdminArea | None = area
    while current is not None:  # the area itself, then every ancestor, as COD-AB layers carry them
        level = current.level
        properties |= {
            f"ADM{level}_PCODE": current.pcode,
            f"ADM{level}_EN": current.name_en,
            f"ADM{level}_FR": current.name_fr,
        }
        current = by_pcode.get(current.parent_pcode)
    properties |= {
        "ADM0_PCODE": COUNTRY_PCODE,
        "ADM0_EN": COUNTRY_EN,
        "ADM0_FR": COUNTRY_FR,
        "valid_on": VALID_ON,
        "source": NOTE,
    }
    return {"type": "Feature", "properties": properties, "geometry": _multipolygon(area.geometry)}


def _site_feature(site: Site) -> dict:
    properties = {k: v for k, v in asdict(site).items() if k not in ("latitude", "longitude")}
    properties["source"] = NOTE
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Point", "coordinates": [round(site.longitude, 6), round(site.latitude, 6)]},
    }


def _write_feature_collection(path: Path, name: str, features: list[dict]) -> None:
    # One feature per line: small diffs in git, still plain GeoJSON.
    header = json.dumps({"type": "FeatureCollection", "name": name, "_note": NOTE}, ensure_ascii=False)[:-1]
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    path.write_text(header + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def _write_sites_csv(path: Path, sites: list[Site]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SITE_FIELDS)
        for site in sites:
            row = asdict(site)
            row["latitude"] = f"{site.latitude:.6f}"
            row["longitude"] = f"{site.longitude:.6f}"
            writer.writerow([row[field] for field in SITE_FIELDS])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the fictional crisis-ct demo country.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "demo")
    parser.add_argument("--sites", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--adm3", type=int, default=40)
    parser.add_argument("--adm2", type=int, default=12)
    parser.add_argument("--adm1", type=int, default=3)
    args = parser.parse_args(argv)
    generate(args.out, n_sites=args.sites, seed=args.seed,
             adm3_count=args.adm3, adm2_count=args.adm2, adm1_count=args.adm1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Small hand-made geography for tests: two adm1, four adm2, eight adm3 squares."""
from __future__ import annotations

import json
from pathlib import Path


def rect(x0: float, y0: float, width: float, height: float) -> dict:
    ring = [[x0, y0], [x0 + width, y0], [x0 + width, y0 + height], [x0, y0 + height], [x0, y0]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def write_levels(directory: Path) -> dict[int, Path]:
    """adm1 XZ01 = x 0..2, XZ02 = x 2..4 (y 0..2); each split in two adm2 and four adm3."""
    features = {1: [], 2: [], 3: []}
    for a1 in range(2):
        p1 = f"XZ0{a1 + 1}"
        features[1].append(_feature(1, p1, "XZ", rect(a1 * 2, 0, 2, 2)))
        for a2 in range(2):
            p2 = f"{p1}0{a2 + 1}"
            features[2].append(_feature(2, p2, p1, rect(a1 * 2 + a2, 0, 1, 2)))
            for a3 in range(2):
                p3 = f"{p2}0{a3 + 1}"
                features[3].append(_feature(3, p3, p2, rect(a1 * 2 + a2, a3, 1, 1)))
    paths = {}
    for level, items in features.items():
        path = directory / f"adm{level}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
        paths[level] = path
    return paths


def _feature(level: int, pcode: str, parent: str, geometry: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            f"ADM{level}_PCODE": pcode,
            f"ADM{level}_EN": f"Area {pcode}",
            f"ADM{level}_FR": f"Zone {pcode}",
            f"ADM{level - 1}_PCODE": parent,
            "valid_on": "2026-01-01",
        },
    }


SITES_HEADER = "site_id,site_name,site_type,latitude,longitude,population_individuals,population_households\n"


def write_sites_csv(path: Path, rows: list[tuple]) -> Path:
    """rows: (site_id, name, type, lat, lon, individuals, households)"""
    path.write_text(SITES_HEADER + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return path

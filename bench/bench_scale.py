"""Ten times the demo (`make bench SCALE=100k`): 100,000 sites, 10,000 adm3 areas and
1,000,000 submissions, generated once and kept under bench/data/100k (not in git).

Figures: the full re-score against the 10,000-site world's, scored in the same run (linear
growth is 10x; the goal allows 11x), its peak memory, the sites GeoJSON for a map window of
about 1,000 sites against its own statement in SQL, and the map drawing 50,000 sites.
"""
from __future__ import annotations

import csv

import psycopg

from bench.bench_map import map_loads
from bench.bench_scoring import full_score
from bench.bench_sites import geojson_figure, measure_geojson
from bench.lab import SCALES, Lab
from bench.measure import Figure, at_most, median, versus_floor

MAX_GROWTH_X = 11
MAX_PEAK_MB = 2048
WINDOW_SITES = 1000
MAX_MAP_S = 4
MAP_LOADS = 3


def large_world(lab: Lab) -> list[Figure]:
    big = Lab(lab.workdir / "big", log=lab.log, scale=SCALES["100k"], server=lab.server, prefix="big_")
    lab.log("the 10,000-site world's full re-score, the reference for growth")
    lab.copy_database(lab.loaded(), "scored")
    small = full_score(lab, "scored")
    lab.mark_scored()
    lab.log("the 100,000-site world: geography, users, 1,000,000 submissions")
    big.copy_database(big.loaded(), "scored")
    lab.log("full re-score of the 100,000-site world")
    large = full_score(big, "scored")
    big.mark_scored()
    figures = [
        versus_floor("scale_rescore_s", "Full re-score, 100,000 sites / 1,000,000 submissions (score_all)",
                     round(large["total_s"], 1), round(small["total_s"], 2), "s", at_most_x=MAX_GROWTH_X,
                     note=f"floor: the 10,000-site world's full re-score in the same run (linear growth = 10x); "
                          f"scoring {large['scoring_s']:.1f} s + task generation {large['tasks_s']:.1f} s",
                     detail={"large": large, "small": small}),
        at_most("scale_rescore_peak_mb", "  its peak RSS (process + scoring workers)",
                round(large["peak_rss_mb"]), "MB", MAX_PEAK_MB,
                note=f"own {large['own_peak_rss_mb']:.0f} MB + {large['workers']} workers x "
                     f"{large['worker_peak_rss_mb']:.0f} MB (an upper bound)"),
    ]
    west, south, east, north, inside = window(big, WINDOW_SITES)
    measured = measure_geojson(big, big.scored(), f"?bbox={west:.5f},{south:.5f},{east:.5f},{north:.5f}")
    figures.append(geojson_figure("scale_window_geojson_ms",
                                  f"Sites GeoJSON for a map window ({inside:,} of 100,000 sites, bbox=)", measured))
    figures.append(map_50k(big))
    return figures


def window(lab: Lab, wanted: int) -> tuple[float, float, float, float, int]:
    """A square around the sites' median point holding about `wanted` sites."""
    with (lab.geography() / "sites.csv").open(encoding="utf-8", newline="") as handle:
        points = [(float(row["longitude"]), float(row["latitude"])) for row in csv.DictReader(handle)]
    lon = median([p[0] for p in points])
    lat = median([p[1] for p in points])
    half = sorted(max(abs(x - lon), abs(y - lat)) for x, y in points)[wanted - 1]
    inside = sum(1 for x, y in points if abs(x - lon) <= half and abs(y - lat) <= half)
    return lon - half, lat - half, lon + half, lat + half, inside


def map_50k(big: Lab) -> Figure:
    """Every other site of the scored large world removed (their interviews, scores and
    tasks go with them), then /map as a coordinator until all 50,000 markers are drawn."""
    big.copy_database(big.scored(), "map50k")
    with psycopg.connect(big.dsn("map50k")) as connection:
        connection.execute("DELETE FROM sites WHERE id % 2 = 0")
        left = connection.execute("SELECT count(*) FROM sites").fetchone()[0]
        connection.commit()
    with psycopg.connect(big.dsn("map50k"), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    timings, _page, data = map_loads(big, big.url("map50k"), left, loads=MAP_LOADS)
    return at_most("scale_map_draw_s", f"Map: navigation to {left:,} site markers drawn (median)",
                   round(median(timings), 2), "s", MAX_MAP_S,
                   note=f"headless Chromium, gunicorn, coordinator, empty cache, {MAP_LOADS} loads; "
                        f"max {max(timings):.2f} s; data fetched {data / 1e6:.1f} MB",
                   detail={"seconds": timings, "data_bytes": data})

"""Figures 1 and 2: importing 10,000 sites, and serving them as GeoJSON."""
from __future__ import annotations

import time

from bench.lab import ACTOR, N_SITES, OPERATION, Lab
from bench.floors import statement_ms
from bench.measure import Figure, info, median, percentile, versus_floor

IMPORT_RUNS = 3
GEOJSON_REQUESTS = 10
MAX_GEOJSON_X = 2


def sites_import(lab: Lab) -> list[Figure]:
    """Read sites.csv and import it (placement by point-in-polygon, upsert), into a fresh
    database whose admin areas are already imported; the commit is part of the time."""
    from crisis_ct.geography.importers import read_sites
    from crisis_ct.geography.operations import get_operation, import_sites

    path = lab.geography() / "sites.csv"
    seconds = []
    for run in range(IMPORT_RUNS):
        database = lab.new_database(f"sites_{run}")
        lab.import_geography(database, sites=False)
        started = time.perf_counter()
        with database.session() as session:
            summary = import_sites(session, ACTOR, get_operation(session, OPERATION), read_sites(path),
                                   source="sites.csv")
        seconds.append(time.perf_counter() - started)
        database.dispose()
        if summary.created != N_SITES:
            raise RuntimeError(f"expected {N_SITES} new sites, got {summary.created}")
    rate = N_SITES / median(seconds)
    return [info("sites_import_rate", "Sites import, 10,000 sites (read_sites + import_sites)", round(rate),
                 "sites/s", note=f"median of {IMPORT_RUNS} runs; seconds: {_fmt(seconds)}",
                 detail={"seconds": seconds})]


def sites_geojson(lab: Lab) -> list[Figure]:
    """GET /api/v1/sites (all 10,000, scored, as a coordinator sees them)."""
    measured = measure_geojson(lab, lab.scored())
    return [geojson_figure("sites_geojson_ms", "Sites GeoJSON, GET /api/v1/sites, 10,000 sites (median)", measured)]


def measure_geojson(lab: Lab, database_name: str, query: str = "") -> dict:
    """GET /api/v1/sites{query} as a coordinator through the Flask test client: server time
    without the network, which the figure is about. The floor is the statement the
    endpoint sends (captured during the warm-up: the FeatureCollection is built inside
    PostGIS with json_agg) run with plain psycopg, same run, same data."""
    import sqlalchemy as sa

    from crisis_ct.app import create_app

    app = create_app({"DATABASE_URL": lab.url(database_name), "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {lab.tokens.coordinator}"}
    engine = app.extensions["crisis_ct_db"].engine
    captured: list[tuple[str, object]] = []

    def remember(_connection, _cursor, statement, parameters, _context, _many):
        captured.append((statement, parameters))

    path = f"/api/v1/sites{query}"
    sa.event.listen(engine, "before_cursor_execute", remember)
    response = client.get(path, headers=headers)  # warm-up: connections, specs, caches
    sa.event.remove(engine, "before_cursor_execute", remember)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.data[:300]!r}")
    size = len(response.data)
    features = response.data.count(b'"Feature"')
    timings = []
    for _ in range(GEOJSON_REQUESTS):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    app.extensions["crisis_ct_db"].dispose()
    statement, parameters = next((s, p) for s, p in captured if "json_agg" in s.lower())
    floor_ms, floor_size = statement_ms(lab.dsn(database_name), statement, parameters, GEOJSON_REQUESTS)
    return {"ms": timings, "floor_ms": floor_ms, "bytes": size, "floor_bytes": floor_size, "features": features}


def geojson_figure(key: str, label: str, measured: dict) -> Figure:
    timings, floor_ms = measured["ms"], measured["floor_ms"]
    return versus_floor(
        key, label, round(median(timings), 1), round(median(floor_ms), 1), "ms", at_most_x=MAX_GEOJSON_X,
        note=f"Flask test client, coordinator, {GEOJSON_REQUESTS} requests after a warm-up; max {max(timings):.0f} ms; "
             f"{measured['features']:,} features, {measured['bytes'] / 1e6:.2f} MB; floor: the endpoint's json_agg "
             f"statement through plain psycopg ({measured['floor_bytes'] / 1e6:.2f} MB)",
        detail={**measured, "p90_ms": percentile(timings, 90)})


def _fmt(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds)

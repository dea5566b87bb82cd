"""Figures 1 and 2: importing 10,000 sites, and serving them as GeoJSON."""
from __future__ import annotations

import time

from bench.lab import ACTOR, N_SITES, OPERATION, Lab
from bench.measure import Figure, at_most, info, median, percentile

IMPORT_RUNS = 3
GEOJSON_REQUESTS = 10


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
    """GET /api/v1/sites (all 10,000, scored) through the Flask test client: server time
    without the network, which the figure is about."""
    from crisis_ct.app import create_app

    app = create_app({"DATABASE_URL": lab.url(lab.scored()), "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {lab.tokens.map}"}  # site-level: with each site's risk
    response = client.get("/api/v1/sites", headers=headers)  # warm-up: connections, specs, caches
    if response.status_code != 200:
        raise RuntimeError(f"/api/v1/sites answered {response.status_code}: {response.data[:300]!r}")
    size = len(response.data)
    features = response.data.count(b'"Feature"')
    timings = []
    for _ in range(GEOJSON_REQUESTS):
        started = time.perf_counter()
        response = client.get("/api/v1/sites", headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    app.extensions["crisis_ct_db"].dispose()
    return [at_most("sites_geojson_ms", "Sites GeoJSON, GET /api/v1/sites, 10,000 sites (median)",
                    round(median(timings), 1), "ms", 150,
                    note=f"Flask test client, {GEOJSON_REQUESTS} requests after a warm-up; "
                         f"max {max(timings):.0f} ms; {features} features, {size / 1e6:.1f} MB",
                    detail={"ms": timings, "bytes": size, "p90_ms": percentile(timings, 90)})]


def _fmt(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds)

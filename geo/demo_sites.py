"""Invented crisis sites (DTM-style master list) placed inside the demo country's adm3 areas.

The mix is meant to look like a real operation, not to be statistically faithful: sites cluster
in a few areas, a few areas have almost none (so maps show "insufficient data"), transit centres
and border points sit near the country's edge, and populations range from a handful of
households to large camps.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, fields

import shapely
from shapely.geometry import LineString, Point

from geo.demo_admin import AdminArea, AdminLevels
from geo.demo_names import NameMaker
from geo.demo_shapes import CENTRE

MIN_BORDER_DISTANCE = 0.0015  # degrees, about 165 m at this latitude: clear of every adm3 border
EDGE_SITE_SHARE = 0.10  # transit centres and border points
SPARSE_AREA_SHARE = 0.12  # adm3 areas that get at most 2 sites
TINY_SITE_SHARE = 0.015  # sites under 20 households
MIN_SITES_PER_BUSY_AREA = 3
SITE_ID_SOURCE = "DTM"

INTERIOR_TYPE_MIX = {
    "planned_camp": 0.26,
    "self_settled": 0.28,
    "collective_centre": 0.22,
    "informal_settlement": 0.12,
    "host_community": 0.12,
}
EDGE_TYPE_MIX = {"transit_centre": 0.45, "border_point": 0.55}

# Households per site type: (median, log-spread, minimum, maximum).
HOUSEHOLDS = {
    "planned_camp": (1500, 0.7, 100, 12000),
    "self_settled": (700, 0.8, 40, 8000),
    "collective_centre": (140, 0.7, 20, 1500),
    "informal_settlement": (450, 0.8, 30, 6000),
    "host_community": (900, 0.8, 50, 9000),
    "transit_centre": (160, 0.7, 20, 2000),
    "border_point": (70, 0.8, 20, 600),
}

NAME_PATTERNS = {
    "planned_camp": ("{r} Camp {n}", "Camp {r}", "{r} Camp {n}"),
    "self_settled": ("Site {r}", "{r} Site {n}", "{r} {n}"),
    "collective_centre": ("École {r}", "Collège {r}", "Lycée {r}", "Église {r}", "Salle {r}"),
    "informal_settlement": ("Quartier {r}", "{r} Extension", "Quartier {r} {n}"),
    "host_community": ("Village {r}", "{r}", "{r} Village"),
    "transit_centre": ("Transit {r}", "Centre {r}", "Transit {r} {n}"),
    "border_point": ("Poste {r}", "Point {r}", "{r} Checkpoint"),
}


@dataclass(frozen=True)
class Site:
    site_id: str
    site_name: str
    site_type: str
    latitude: float
    longitude: float
    population_individuals: int
    population_households: int
    adm1_pcode: str
    adm2_pcode: str
    adm3_pcode: str
    site_id_source: str


SITE_FIELDS = tuple(f.name for f in fields(Site))


@dataclass(frozen=True)
class _Placed:
    area: int
    site_type: str
    lon: float
    lat: float


class _Areas:
    """adm3 areas shrunk by the border margin, so any point inside one is safely inside."""

    def __init__(self, adm3: list[AdminArea]) -> None:
        self.areas = adm3
        self.inner = [a.geometry.buffer(-MIN_BORDER_DISTANCE) for a in adm3]
        for geom in self.inner:
            shapely.prepare(geom)
        self.tree = shapely.STRtree(self.inner)

    def holds(self, index: int, lon: float, lat: float) -> bool:
        return bool(shapely.contains_xy(self.inner[index], lon, lat))

    def find(self, lon: float, lat: float) -> int | None:
        hits = self.tree.query(Point(lon, lat), predicate="within")
        return int(hits[0]) if len(hits) else None


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _uniform_in(rng: random.Random, areas: _Areas, index: int) -> tuple[float, float]:
    minx, miny, maxx, maxy = areas.inner[index].bounds
    for _ in range(100_000):
        lon, lat = round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6)
        if areas.holds(index, lon, lat):
            return lon, lat
    raise RuntimeError(f"no room for a site in {areas.areas[index].pcode}")


def _clustered_in(
    rng: random.Random, areas: _Areas, index: int, anchors: list[tuple[float, float]]
) -> tuple[float, float]:
    """Near one of the area's settlement anchors, as displacement gathers around towns and roads."""
    spread = 0.15 * math.sqrt(areas.areas[index].geometry.area)
    for _ in range(60):
        ax, ay = rng.choice(anchors)
        lon, lat = round(rng.gauss(ax, spread), 6), round(rng.gauss(ay, spread), 6)
        if areas.holds(index, lon, lat):
            return lon, lat
    return _uniform_in(rng, areas, index)


def _edge_sites(rng: random.Random, areas: _Areas, coast: LineString, count: int, sparse: set[int]) -> list[_Placed]:
    placed = []
    for _ in range(count * 1000):
        if len(placed) == count:
            break
        shore = coast.interpolate(rng.random(), normalized=True)
        depth = rng.uniform(0.01, 0.12)
        # The mainland is star-shaped around CENTRE, so stepping towards it stays on land.
        dx, dy = CENTRE[0] - shore.x, CENTRE[1] - shore.y
        norm = math.hypot(dx, dy)
        lon, lat = round(shore.x + dx / norm * depth, 6), round(shore.y + dy / norm * depth, 6)
        index = areas.find(lon, lat)
        if index is None or index in sparse or not areas.holds(index, lon, lat):
            continue
        placed.append(_Placed(index, _pick(rng, EDGE_TYPE_MIX), lon, lat))
    if len(placed) < count:
        raise RuntimeError("could not place enough sites near the country edge")
    return placed


def _interior_sites(rng: random.Random, areas: _Areas, count: int, sparse_targets: dict[int, int]) -> list[_Placed]:
    busy = [i for i in range(len(areas.areas)) if i not in sparse_targets]
    spare = count - sum(sparse_targets.values())
    # A floor of 3 per busy area keeps "insufficient data" to the chosen sparse areas ...
    floor = min(MIN_SITES_PER_BUSY_AREA, spare // len(busy))
    counts = Counter({i: floor for i in busy})
    # ... and heavy-tailed weights let a few areas host most of the displaced, as in real crises.
    weights = [rng.lognormvariate(0, 1.0) for _ in busy]
    counts.update(rng.choices(busy, weights=weights, k=spare - floor * len(busy)))
    counts.update(sparse_targets)
    placed = []
    for index in sorted(counts):
        anchors = [_uniform_in(rng, areas, index) for _ in range(rng.randint(1, 3))]
        for _ in range(counts[index]):
            lon, lat = _clustered_in(rng, areas, index, anchors)
            placed.append(_Placed(index, _pick(rng, INTERIOR_TYPE_MIX), lon, lat))
    return placed


def _households(rng: random.Random, site_type: str, tiny: bool) -> int:
    if tiny:
        return rng.randint(3, 19)
    median, spread, low, high = HOUSEHOLDS[site_type]
    return min(high, max(low, round(rng.lognormvariate(math.log(median), spread))))


def _site_name(rng: random.Random, site_type: str, area: AdminArea, names: NameMaker, used: set[str]) -> str:
    for _ in range(20):
        # Half the sites take their locality's name, as camps usually do.
        root = area.name_en if rng.random() < 0.5 else names.root()
        name = rng.choice(NAME_PATTERNS[site_type]).format(r=root, n=rng.randint(1, 4))
        if name not in used:
            break
    unique, suffix = name, 2
    while unique in used:  # only after 20 clashes in a row
        unique, suffix = f"{name} ({suffix})", suffix + 1
    used.add(unique)
    return unique


def make_sites(
    rng: random.Random, levels: AdminLevels, coast: LineString, n_sites: int, names: NameMaker
) -> list[Site]:
    adm3 = levels.adm3
    adm1_of_adm2 = {a.pcode: a.parent_pcode for a in levels.adm2}
    areas = _Areas(adm3)
    sparse_count = min(len(adm3) - 1, max(2, round(SPARSE_AREA_SHARE * len(adm3))))
    sparse = sorted(rng.sample(range(len(adm3)), sparse_count))
    sparse_targets = {i: rng.choice((0, 1, 1, 2, 2)) for i in sparse}
    edge_count = round(EDGE_SITE_SHARE * n_sites)
    if edge_count + sum(sparse_targets.values()) > n_sites:
        raise ValueError(f"n_sites={n_sites} is too small for {len(adm3)} adm3 areas")
    placed = _edge_sites(rng, areas, coast, edge_count, set(sparse))
    placed += _interior_sites(rng, areas, n_sites - edge_count, sparse_targets)
    placed.sort(key=lambda p: (adm3[p.area].pcode, -p.lat, p.lon, p.site_type))

    tiny = set(rng.sample(range(n_sites), max(1, round(TINY_SITE_SHARE * n_sites))))
    width = max(4, len(str(n_sites)))
    used: set[str] = set()
    sites = []
    for number, p in enumerate(placed, start=1):
        area = adm3[p.area]
        households = _households(rng, p.site_type, number - 1 in tiny)
        sites.append(Site(
            site_id=f"XZ-S-{number:0{width}d}",
            site_name=_site_name(rng, p.site_type, area, names, used),
            site_type=p.site_type,
            latitude=p.lat,
            longitude=p.lon,
            population_individuals=round(households * rng.uniform(4.0, 6.0)),
            population_households=households,
            adm1_pcode=adm1_of_adm2[area.parent_pcode],
            adm2_pcode=area.parent_pcode,
            adm3_pcode=area.pcode,
            site_id_source=SITE_ID_SOURCE,
        ))
    return sites

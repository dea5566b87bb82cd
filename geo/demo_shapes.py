"""Geometry of the fictional country: coastline, an offshore island, and a tiling into adm3 cells.

Why the tiling is built from one noded line network instead of clipping polygons one by one:
neighbouring cells must share exactly the same vertices *after* rounding to 6 decimals, or the
written files would show slivers and gaps. So all boundaries (coast + wiggled Voronoi edges) are
snap-rounded together onto the 1e-6 grid and polygonised once; every cell, and every union of
cells, then only uses vertices that already sit on the grid.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

GRID = 1e-6  # the precision written to GeoJSON (6 decimals)
CENTRE = (-21.0, -11.5)  # open South Atlantic, far from any real coast
HALF_EXTENT = (2.7, 2.2)  # coast stays within lon -23.7..-18.3, lat -13.7..-9.3
BOX = (-24.0, -14.0, -18.0, -9.0)  # nothing is ever drawn outside this box
EDGE_DETAIL = 0.012  # target length (degrees) of a boundary segment; bounds the file size
EDGE_ROUGHNESS = 0.18  # sideways kink per subdivision, as a share of the segment length
COAST_SAMPLES = 1024


@dataclass(frozen=True)
class Land:
    mainland: Polygon
    island: Polygon

    @property
    def all(self) -> MultiPolygon:
        return MultiPolygon([self.mainland, self.island])


@dataclass(frozen=True)
class Tiling:
    """adm3-level cells (MultiPolygons on the 1e-6 grid) and which cells share a border."""

    cells: list[MultiPolygon]
    neighbours: list[list[int]]


def round_coords(geom):
    # The exact floats a GeoJSON reader gets back from our 6-decimal text.
    return shapely.transform(geom, lambda coords: coords.round(6))


def as_multipolygon(geom) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    raise ValueError(f"expected a polygonal geometry, got {geom.geom_type}")


def _periodic_noise(rng: random.Random, samples: int, amplitude: float, roughness: float = 0.55) -> list[float]:
    """Fractal noise on a closed loop (midpoint displacement), so the coast has no seam."""
    values = [rng.uniform(-amplitude, amplitude) for _ in range(8)]
    step = amplitude * roughness
    while len(values) < samples:
        doubled = []
        for i, value in enumerate(values):
            following = values[(i + 1) % len(values)]
            doubled += [value, (value + following) / 2 + rng.uniform(-step, step)]
        values, step = doubled, step * roughness
    return values


def _blob(rng: random.Random, centre: tuple[float, float], half: tuple[float, float], samples: int) -> Polygon:
    """A star-shaped outline: radius varies with the angle but stays positive, so the ring is simple."""
    harmonics = [(k, rng.uniform(0.05, 0.2) / math.sqrt(k), rng.uniform(0, 2 * math.pi)) for k in range(2, 7)]
    noise = _periodic_noise(rng, samples, amplitude=0.1)
    angles = [2 * math.pi * i / samples for i in range(samples)]
    radii = [
        max(0.3, 1 + sum(a * math.cos(k * t + phase) for k, a, phase in harmonics) + noise[i])
        for i, t in enumerate(angles)
    ]
    scale = 1 / max(radii)
    ring = [
        (centre[0] + half[0] * r * scale * math.cos(t), centre[1] + half[1] * r * scale * math.sin(t))
        for r, t in zip(radii, angles)
    ]
    return Polygon(ring)


def _island(rng: random.Random, mainland: Polygon) -> Polygon:
    """A small island offshore, so the data has a real multi-part admin area."""
    inside = box(*BOX).buffer(-0.05)
    for _ in range(200):
        angle = rng.uniform(0, 2 * math.pi)
        far = (CENTRE[0] + 10 * math.cos(angle), CENTRE[1] + 10 * math.sin(angle))
        coast_hit = mainland.exterior.intersection(LineString([CENTRE, far]))
        anchor = max(shapely.get_parts(coast_hit), key=lambda p: p.distance(Point(CENTRE)), default=None)
        if anchor is None or anchor.geom_type != "Point":
            continue
        offset = rng.uniform(0.3, 0.45)
        centre = (anchor.x + offset * math.cos(angle), anchor.y + offset * math.sin(angle))
        island = _blob(rng, centre, (0.16, 0.12), samples=128)
        if inside.contains(island) and island.distance(mainland) > 0.08:
            return island
    raise RuntimeError("could not place the offshore island inside the box")


def make_land(rng: random.Random) -> Land:
    mainland = _blob(rng, CENTRE, HALF_EXTENT, COAST_SAMPLES)
    return Land(mainland=mainland, island=_island(rng, mainland))


def scatter_seeds(rng: random.Random, mainland: Polygon, count: int) -> list[tuple[float, float]]:
    """Well-spread random points inside the mainland (dart throwing with a shrinking spacing)."""
    spacing = 0.8 * math.sqrt(mainland.area / count)
    inner = mainland.buffer(-0.3 * spacing)
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    chosen: list[tuple[float, float]] = []
    buckets: dict[tuple[int, int], list[tuple[float, float]]] = {}
    misses = 0
    while len(chosen) < count:
        if misses > 300:
            spacing *= 0.9  # too crowded to fit: relax rather than loop forever
            buckets = {}
            for x, y in chosen:
                buckets.setdefault((int(x // spacing), int(y // spacing)), []).append((x, y))
            misses = 0
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(inner, x, y):
            continue
        cx, cy = int(x // spacing), int(y // spacing)
        near = (p for i in (-1, 0, 1) for j in (-1, 0, 1) for p in buckets.get((cx + i, cy + j), ()))
        if any((x - px) ** 2 + (y - py) ** 2 < spacing * spacing for px, py in near):
            misses += 1
            continue
        chosen.append((x, y))
        buckets.setdefault((cx, cy), []).append((x, y))
        misses = 0
    return chosen


def _wiggle(rng: random.Random, start: tuple[float, float], end: tuple[float, float]) -> LineString:
    """Midpoint displacement between fixed ends, so a straight Voronoi edge looks like a real border."""
    points = [start, end]
    length = math.dist(start, end)
    while length > EDGE_DETAIL:
        refined = [points[0]]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            kink = rng.uniform(-EDGE_ROUGHNESS, EDGE_ROUGHNESS)
            refined += [((x0 + x1) / 2 - (y1 - y0) * kink, (y0 + y1) / 2 + (x1 - x0) * kink), (x1, y1)]
        points, length = refined, length / 2
    return LineString(points)


def _border_lines(rng: random.Random, land: Land, seeds: list[tuple[float, float]]) -> list[LineString]:
    frame = box(*BOX)
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, only_edges=True)
    reach = land.all.envelope.buffer(0.2)
    lines = []
    for edge in shapely.get_parts(edges):
        clipped = edge.intersection(frame)
        if clipped.is_empty or not clipped.intersects(reach):
            continue
        for part in shapely.get_parts(clipped):
            coords = list(part.coords)
            lines.append(_wiggle(rng, coords[0], coords[-1]))
    return lines


def _faces(land: Land, lines: list[LineString]) -> list[Polygon]:
    """Polygonise the snap-rounded line network and keep the faces that lie on land."""
    network = shapely.unary_union([*lines, land.mainland.exterior, land.island.exterior], grid_size=GRID)
    network = round_coords(network)
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(network))))
    points = shapely.point_on_surface(faces)
    on_land = shapely.contains(land.all, points)
    return [face for face, keep in zip(faces, on_land) if keep]


def _shared_length(a, b) -> float:
    return shapely.intersection(a.boundary, b.boundary).length


def _absorb_fragments(faces: list[Polygon], owner: list[int], seeds: list[tuple[float, float]]) -> None:
    """Where two wiggled borders cross, a small face can land in the wrong cell, cut off from it.

    Such a face joins the neighbouring cell it shares most border with. A cell's own part is
    the one holding its seed (not the largest: an island piece can outsize a small coastal
    cell). Faces with no other neighbour (the island) stay where they are.
    """
    tree = shapely.STRtree(faces)
    for _ in range(5):
        moved = False
        by_cell: dict[int, list[int]] = {}
        for i, o in enumerate(owner):
            by_cell.setdefault(o, []).append(i)
        for cell, members in sorted(by_cell.items()):
            parts = list(shapely.get_parts(shapely.coverage_union_all([faces[i] for i in members])))
            if len(parts) < 2:
                continue
            seed = Point(seeds[cell])
            main = next((p for p in parts if p.contains(seed)), max(parts, key=lambda p: p.area))
            for i in members:
                if main.contains(faces[i].point_on_surface()):
                    continue
                borders: dict[int, float] = {}
                for j in tree.query(faces[i], predicate="intersects"):
                    if owner[j] != cell:
                        borders[owner[j]] = borders.get(owner[j], 0.0) + _shared_length(faces[i], faces[j])
                best = max(sorted(borders), key=lambda c: borders[c], default=None)
                if best is not None and borders[best] > 0:
                    owner[i] = best
                    moved = True
        if not moved:
            return


def _neighbours(cells: list[MultiPolygon]) -> list[list[int]]:
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    pairs = [(int(a), int(b)) for a, b in zip(left, right) if a < b]
    boundaries = shapely.boundary(cells)
    shared = shapely.length(shapely.intersection(boundaries[[a for a, _ in pairs]], boundaries[[b for _, b in pairs]]))
    result: list[list[int]] = [[] for _ in cells]
    for (a, b), length in zip(pairs, shared):
        if length > 0:  # touching at one corner is not a border
            result[a].append(b)
            result[b].append(a)
    return result


def tile(rng: random.Random, land: Land, cell_count: int) -> Tiling:
    """Cut the land into cell_count gap-free, non-overlapping cells, each around one seed."""
    seeds = scatter_seeds(rng, land.mainland, cell_count)
    faces = _faces(land, _border_lines(rng, land, seeds))
    nearest = shapely.STRtree(shapely.points(seeds)).query_nearest(
        shapely.point_on_surface(faces), all_matches=False
    )
    owner = [0] * len(faces)
    for face_index, seed_index in zip(*nearest):
        owner[int(face_index)] = int(seed_index)
    _absorb_fragments(faces, owner, seeds)
    by_cell: dict[int, list[Polygon]] = {}
    for face, o in zip(faces, owner):
        by_cell.setdefault(o, []).append(face)
    cells = []
    for cell in range(cell_count):
        members = by_cell.get(cell)
        if not members:
            raise RuntimeError(f"adm3 cell {cell} received no land; try another seed")
        cells.append(as_multipolygon(round_coords(shapely.coverage_union_all(members))))
    return Tiling(cells=cells, neighbours=_neighbours(cells))

"""Group adm3 cells into contiguous adm2 and adm1 areas, then give every area a P-code and names.

P-codes follow COD-AB rules: country prefix XZ (ISO 3166 user-assigned), digits only, each level
starting with its parent's code (XZ01 -> XZ0103 -> XZ010302).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPolygon

from geo.demo_names import NameMaker, adm1_names
from geo.demo_shapes import CENTRE, Tiling, as_multipolygon, round_coords

COUNTRY_PCODE = "XZ"


@dataclass(frozen=True)
class AdminArea:
    level: int
    pcode: str
    name_en: str
    name_fr: str
    parent_pcode: str
    geometry: MultiPolygon


@dataclass(frozen=True)
class AdminLevels:
    adm1: list[AdminArea]
    adm2: list[AdminArea]
    adm3: list[AdminArea]


def _centroids(tiling: Tiling) -> list[tuple[float, float]]:
    return [(c.centroid.x, c.centroid.y) for c in tiling.cells]


def _spread_seeds(members: list[int], count: int, centroids: list[tuple[float, float]]) -> list[int]:
    """Farthest-point picks, starting in the north-west, so regions start far apart."""
    first = min(members, key=lambda m: (-centroids[m][1] + centroids[m][0], m))
    chosen = [first]
    while len(chosen) < count:
        chosen.append(max(
            (m for m in members if m not in chosen),
            key=lambda m: (min(math.dist(centroids[m], centroids[c]) for c in chosen), -m),
        ))
    return chosen


def grow_regions(
    members: list[int], count: int, tiling: Tiling, centroids: list[tuple[float, float]]
) -> list[list[int]]:
    """Split members into count contiguous, similar-sized regions.

    The smallest region that can still grow claims its unclaimed neighbour nearest to its seed;
    growing only across shared borders keeps every region in one piece.
    """
    member_set = set(members)
    seeds = _spread_seeds(members, count, centroids)
    regions = [[s] for s in seeds]
    claimed = {s: r for r, s in enumerate(seeds)}
    frontiers = [{n for n in tiling.neighbours[s] if n in member_set} for s in seeds]
    while len(claimed) < len(members):
        grown = False
        for r in sorted(range(count), key=lambda r: (len(regions[r]), r)):
            frontiers[r] -= claimed.keys()
            if not frontiers[r]:
                continue
            pick = min(frontiers[r], key=lambda n: (math.dist(centroids[n], centroids[seeds[r]]), n))
            regions[r].append(pick)
            claimed[pick] = r
            frontiers[r] |= {n for n in tiling.neighbours[pick] if n in member_set and n not in claimed}
            grown = True
            break
        if not grown:  # members cut off from every region: join the nearest seed
            for m in sorted(member_set - claimed.keys()):
                r = min(range(count), key=lambda r: (math.dist(centroids[m], centroids[seeds[r]]), r))
                regions[r].append(m)
                claimed[m] = r
    return regions


def _split_counts(sizes: list[int], total: int) -> list[int]:
    """How many children each parent gets: proportional to its size, at least 1, at most its size."""
    if not len(sizes) <= total <= sum(sizes):
        raise ValueError(f"cannot split {sum(sizes)} areas into {total} groups across {len(sizes)} parents")
    shares = [total * s / sum(sizes) for s in sizes]
    counts = [max(1, min(s, int(share))) for s, share in zip(sizes, shares)]
    while sum(counts) != total:
        if sum(counts) < total:
            i = max((i for i in range(len(sizes)) if counts[i] < sizes[i]), key=lambda i: (shares[i] - counts[i], -i))
            counts[i] += 1
        else:
            i = min((i for i in range(len(sizes)) if counts[i] > 1), key=lambda i: (shares[i] - counts[i], i))
            counts[i] -= 1
    return counts


def _north_west_first(groups: list[list[int]], centroids: list[tuple[float, float]]) -> list[list[int]]:
    def key(group: list[int]) -> tuple[float, float]:
        lat = sum(centroids[m][1] for m in group) / len(group)
        lon = sum(centroids[m][0] for m in group) / len(group)
        return (-round(lat, 6), round(lon, 6))

    return sorted(groups, key=key)


def _code_width(child_counts: list[int]) -> int:
    # Two digits per level as in most CODs; more only if a parent has 100+ children.
    return max(2, len(str(max(child_counts))))


def _union(tiling: Tiling, members: list[int]) -> MultiPolygon:
    return as_multipolygon(round_coords(shapely.coverage_union_all([tiling.cells[m] for m in members])))


def build_admin_levels(tiling: Tiling, adm1_count: int, adm2_count: int, names: NameMaker) -> AdminLevels:
    centroids = _centroids(tiling)
    everything = list(range(len(tiling.cells)))
    adm1_groups = _north_west_first(grow_regions(everything, adm1_count, tiling, centroids), centroids)
    adm2_per_adm1 = _split_counts([len(g) for g in adm1_groups], adm2_count)
    adm2_groups = [
        _north_west_first(grow_regions(group, n, tiling, centroids), centroids)
        for group, n in zip(adm1_groups, adm2_per_adm1)
    ]
    adm3_groups = [[sorted(g, key=lambda m: (-round(centroids[m][1], 6), round(centroids[m][0], 6), m))
                    for g in groups] for groups in adm2_groups]

    adm2_geoms = [[_union(tiling, g) for g in groups] for groups in adm2_groups]
    # adm1 is the union of its adm2 (not of the cells directly) so the nesting holds by construction.
    adm1_geoms = [as_multipolygon(round_coords(shapely.coverage_union_all(g))) for g in adm2_geoms]
    offsets = [(g.centroid.x - CENTRE[0], g.centroid.y - CENTRE[1]) for g in adm1_geoms]
    adm1_labels = adm1_names(offsets, centre_radius=0.6, names=names)

    w1 = _code_width([len(adm1_groups)])
    w2 = _code_width([len(g) for g in adm2_groups])
    w3 = _code_width([len(g) for groups in adm3_groups for g in groups])
    adm1, adm2, adm3 = [], [], []
    for i, (geom, (en, fr)) in enumerate(zip(adm1_geoms, adm1_labels), start=1):
        code1 = f"{COUNTRY_PCODE}{i:0{w1}d}"
        adm1.append(AdminArea(1, code1, en, fr, COUNTRY_PCODE, geom))
        for j, (cells, geom2) in enumerate(zip(adm3_groups[i - 1], adm2_geoms[i - 1]), start=1):
            code2 = f"{code1}{j:0{w2}d}"
            en2, fr2 = names.admin_name(qualified_share=0.25)
            adm2.append(AdminArea(2, code2, en2, fr2, code1, geom2))
            for k, cell in enumerate(cells, start=1):
                en3, fr3 = names.admin_name(qualified_share=0.15)
                adm3.append(AdminArea(3, f"{code2}{k:0{w3}d}", en3, fr3, code2, tiling.cells[cell]))
    return AdminLevels(adm1=adm1, adm2=adm2, adm3=adm3)

"""Point-in-polygon placement of sites in admin areas (shapely STRtree, in memory:
1,000 polygons and 10,000 points take milliseconds, the same on both databases)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import shapely
from shapely.strtree import STRtree


@dataclass(frozen=True)
class Area:
    pcode: str
    level: int
    geometry: object  # shapely geometry


class AreaIndex:
    def __init__(self, areas: Sequence[Area]):
        self.levels: dict[int, tuple[list[str], STRtree]] = {}
        by_level: dict[int, list[Area]] = {}
        for area in areas:
            by_level.setdefault(area.level, []).append(area)
        for level, items in by_level.items():
            self.levels[level] = ([a.pcode for a in items], STRtree([a.geometry for a in items]))

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[dict[int, str]]:
        """For each point, the P-code of the area containing it at every level."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        placed: list[dict[int, str]] = [{} for _ in range(len(points))]
        for level, (pcodes, tree) in self.levels.items():
            point_idx, area_idx = tree.query(points, predicate="intersects")
            for p, a in zip(point_idx.tolist(), area_idx.tolist()):
                # A point on a shared border touches two areas: keep the first, deterministically.
                placed[p].setdefault(level, pcodes[a])
        return placed

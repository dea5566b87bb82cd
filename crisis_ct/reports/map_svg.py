"""The risk map as an SVG drawing (pure): admin areas filled by phase, drawn from their
polygons on the server — no tiles, no script, nothing fetched — so it prints and goes into
a PDF as it is. Shapely draws each polygon's path; this module only places the areas on
the page (longitude scaled by the cosine of the middle latitude, north up)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape
from shapely import affinity, set_precision
from shapely.geometry.base import BaseGeometry

# ColorBrewer YlOrRd, as the interactive map (crisis_ct/web/static/js/risk-style.js).
PHASE_COLOURS = {1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026"}
NO_PHASE_COLOUR = "#bdbdbd"
WIDTH, HEIGHT = 600, 420
MARGIN = 6


@dataclass(frozen=True)
class MapArea:
    pcode: str
    label: str  # "name — phase", the area's tooltip and accessible name
    phase: int | None  # as the reader may see it; None: grey
    geometry: BaseGeometry
    highlighted: bool = False


def colour(phase: int | None) -> str:
    return PHASE_COLOURS.get(phase, NO_PHASE_COLOUR)


def _to_page(areas: Sequence[MapArea], width: int, height: int) -> list[BaseGeometry]:
    min_x = min(a.geometry.bounds[0] for a in areas)
    min_y = min(a.geometry.bounds[1] for a in areas)
    max_x = max(a.geometry.bounds[2] for a in areas)
    max_y = max(a.geometry.bounds[3] for a in areas)
    stretch = math.cos(math.radians((min_y + max_y) / 2))  # a degree of longitude is shorter
    span_x = max((max_x - min_x) * stretch, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    scale = min((width - 2 * MARGIN) / span_x, (height - 2 * MARGIN) / span_y)
    offset_x = (width - span_x * scale) / 2
    offset_y = (height - span_y * scale) / 2
    placed = []
    for area in areas:
        shape = affinity.translate(area.geometry, -min_x, -max_y)
        shape = affinity.scale(shape, stretch * scale, -scale, origin=(0, 0))  # north up: y grows downwards
        shape = affinity.translate(shape, offset_x, offset_y)
        placed.append(set_precision(shape, 0.1))
    return placed


def render(areas: Sequence[MapArea], *, title: str, width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """An <svg> element; empty when there is nothing to draw."""
    drawable = [area for area in areas if area.geometry is not None and not area.geometry.is_empty]
    if not drawable:
        return Markup("")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="risk-map-image" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             f'<title>{escape(title)}</title>']
    for area, shape in zip(drawable, _to_page(drawable, width, height)):
        path = shape.svg(scale_factor=0.4, fill_color=colour(area.phase), opacity=1.0)
        if area.highlighted:  # the area the product is about, outlined among its neighbours
            path += shape.boundary.svg(scale_factor=1.5, stroke_color="#000000", opacity=1.0)
        css = "map-area highlighted" if area.highlighted else "map-area"
        parts.append(f'<g class="{css}" data-pcode="{escape(area.pcode)}"><title>{escape(area.label)}</title>'
                     f'{path}</g>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""The snapshot's map as plain functions: placement, colours, escaping, and area scope."""
from __future__ import annotations

import re

from shapely.geometry import MultiPolygon, box

from crisis_ct.reports import map_svg
from crisis_ct.reports.scope import AreaRef, below


def test_areas_are_filled_by_phase_north_up_inside_the_frame():
    north = map_svg.MapArea("N", "North", 4, MultiPolygon([box(0, 1, 1, 2)]))
    south = map_svg.MapArea("S", "South", None, box(0, 0, 1, 1))
    svg = str(map_svg.render([north, south], title="Map"))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    groups = dict(re.findall(r'data-pcode="(\w)".*?fill="(#[0-9a-f]+)"', svg))
    assert groups == {"N": map_svg.PHASE_COLOURS[4], "S": map_svg.NO_PHASE_COLOUR}
    ys = {code: [float(y) for y in re.findall(r"[\d.]+,([\d.]+)", part)]
          for code, part in re.findall(r'data-pcode="(\w)"(.*?)</g>', svg)}
    assert max(ys["N"]) <= min(ys["S"])  # the northern area is drawn above
    numbers = [float(n) for n in re.findall(r"(?<=[ M])(-?[\d.]+),(-?[\d.]+)", svg) for n in n]
    assert all(0 <= n <= map_svg.WIDTH for n in numbers)


def test_longitude_is_shortened_by_latitude():
    """One degree square at 60° N is drawn half as wide as it is tall."""
    svg = str(map_svg.render([map_svg.MapArea("A", "A", 1, box(10, 59.5, 11, 60.5))], title="t"))
    xs = [float(x) for x in re.findall(r"([\d.]+),[\d.]+", svg)]
    ys = [float(y) for y in re.findall(r"[\d.]+,([\d.]+)", svg)]
    assert abs((max(xs) - min(xs)) / (max(ys) - min(ys)) - 0.5) < 0.01


def test_names_are_escaped_and_the_chosen_area_is_outlined():
    hostile = map_svg.MapArea("X1", "<script>alert(1)</script>", 2, box(0, 0, 1, 1), highlighted=True)
    svg = str(map_svg.render([hostile], title="<b>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert 'class="map-area highlighted"' in svg and 'stroke="#000000"' in svg


def test_nothing_to_draw_is_no_image():
    assert str(map_svg.render([], title="t")) == ""


def test_an_area_and_everything_below_it_by_parent_pcode():
    areas = [AreaRef(1, "A", 1, None, "A", None), AreaRef(2, "B1", 2, "A", "B1", None),
             AreaRef(3, "ZZ9", 3, "B1", "odd code", None), AreaRef(4, "C", 1, None, "C", None),
             AreaRef(5, "C1", 2, "C", "C1", None)]
    assert [a.pcode for a in below(areas, areas[0])] == ["A", "B1", "ZZ9"]
    assert areas[2].name("fr") == "odd code"

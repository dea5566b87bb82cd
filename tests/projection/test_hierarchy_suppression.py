"""Small counts across admin levels (crisis_ct.projection.hierarchy, issue 12): an attacker who
knows the rule and adds up every level at once pins no "<3" down."""
from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from crisis_ct.projection import counts, hierarchy


@st.composite
def operations(draw, max_areas: int = 14):
    """A random admin 1/2/3 hierarchy with random counts; parents hold their children's sites
    and sometimes a few more (sites without a lower admin code)."""
    leaves_per_parent = st.integers(min_value=0, max_value=3)
    rows, pcode = [], 0
    for a1 in range(draw(st.integers(min_value=1, max_value=3))):
        p1 = f"A{a1}"
        total1, rows1 = 0, []
        for a2 in range(draw(leaves_per_parent)):
            p2 = f"{p1}B{a2}"
            kids = [draw(st.integers(min_value=0, max_value=6)) for _ in range(draw(leaves_per_parent))]
            rows1 += [(f"{p2}C{i}", p2, v) for i, v in enumerate(kids)]
            own = sum(kids) + draw(st.sampled_from([0, 0, 0, 1, 2])) if kids else draw(st.integers(0, 6))
            rows1.append((p2, p1, own))
            total1 += own
        total1 += draw(st.sampled_from([0, 0, 1]))
        rows += [(p1, None, total1), *rows1]
        pcode += 1
    return rows[:max_areas * 3]


def _brute_force(tree: hierarchy.Tree, labels) -> dict:
    """Every value each hidden count can take, by enumerating the leaves' and remainders'
    consistent values (small trees only)."""
    bounds = {node: hierarchy._domain(labels[node]) for node in tree.order}
    free = [node for node in tree.order if not tree.children.get(node) or tree.remainder(node) is None]
    cap = max(tree.value.values()) + 3
    ranges = [range(bounds[n][0], min(bounds[n][1], cap) + 1) for n in free]
    seen = {node: set() for node in tree.order}
    for values in itertools.product(*ranges):
        value = dict(zip(free, values))
        for node in reversed(tree.order):
            if node not in value:
                value[node] = tree.remainder(node) + sum(value[c] for c in tree.children[node])
        if all(bounds[n][0] <= value[n] <= bounds[n][1] for n in tree.order):
            for node, v in value.items():
                seen[node].add(v)
    return seen


@settings(max_examples=400, deadline=None)
@given(operations())
def test_no_small_count_can_be_pinned_from_all_levels_at_once(rows):
    tree = hierarchy.Tree.build(rows)
    shown = hierarchy.suppress(tree)
    assert all(label not in (1, 2) for label in shown.values())
    for node, label in shown.items():
        if isinstance(label, int):
            assert label == tree.value[node]
    found = hierarchy.intervals(tree, shown)
    for node, label in shown.items():
        low, high = found[node]
        assert low <= tree.value[node] <= high, (rows, shown, node)
        if label == counts.SMALL:
            assert low < high, (rows, shown, node)


@settings(max_examples=60, deadline=None)
@given(operations(max_areas=3))
def test_the_interval_reasoning_is_as_strong_as_trying_every_value(rows):
    """The check above is only as good as `intervals`: on small trees it must find exactly
    the values a brute-force attacker finds."""
    tree = hierarchy.Tree.build(rows)
    if sum(1 for n in tree.order if not tree.children.get(n)) > 4:
        return
    for labels in ({n: counts.small_count(tree.value[n]) for n in tree.order}, hierarchy.suppress(tree)):
        found = hierarchy.intervals(tree, labels)
        seen = _brute_force(tree, labels)
        for node in tree.order:
            if labels[node] in (counts.SMALL, counts.COMPLEMENT) and seen[node]:
                low, high = found[node]
                assert low == min(seen[node]), (rows, labels, node, found[node], seen[node])
                assert high >= hierarchy.INF or high == max(seen[node]), (rows, labels, node, found[node])


def test_a_district_of_five_beside_a_sub_area_of_four_hides_the_four():
    tree = hierarchy.Tree.build([("D", None, 5), ("D1", "D", 4), ("D2", "D", 1)])
    before = {n: counts.small_count(tree.value[n]) for n in tree.order}
    assert hierarchy.pinned(tree, before) == ["D2"]  # 5 - 4: the "<3" is 1
    shown = hierarchy.suppress(tree)
    assert shown["D"] == 5 and shown["D1"] == counts.COMPLEMENT and shown["D2"] == counts.SMALL
    assert hierarchy.pinned(tree, shown) == []

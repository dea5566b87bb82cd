"""Small-count suppression across admin levels (shared/domain.md §4.3, issue 12).

A partner sees sites_known, sites_assessed, sites_expired and sites_without_population for
areas at every level, and can add them up: a district showing 5 assessed sites beside one
sub-area showing 4 gives the other sub-area's "<3" away as 1. So the counts are suppressed
once over the whole hierarchy of an operation (the operation total, admin 1, 2 and 3), and
every route then shows its part of that one decision: no combination of requests (levels,
bounding boxes, pages) shows more than the whole, and the whole gives no "<3" away.

The reasoning is the attacker's: each area with sub-areas is a table whose total is the
area's count; a shown count is exact, "<3" holds 1 or 2, "suppressed" 3 or more, a count not
shown (None) anything from 0. The remainder (sites in the area but in none of its sub-areas,
e.g. without an admin 3 code) is taken as known: partners see where every site is and its
admin codes, and for the usual case — every site has all codes — it is 0. `intervals` works out
the values each count can still take from all tables at once (up and down the tree until
nothing changes; on a tree of sums over intervals this is exact), and `suppress` hides counts
as "suppressed" until no "<3" is pinned to one value. Hiding more never tells more, so the
repair only ever adds hidden counts. A "suppressed" count pinned to a value of 3 or more is
not a small count and is allowed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from crisis_ct.projection.counts import COMPLEMENT, SMALL, small_count

INF = 10 ** 12
ROOT = None  # the operation: the total of its admin 1 areas (the dashboard's total row)

Label = int | str | None


@dataclass
class Tree:
    """Areas of one operation with one count each; `parent[pcode]` is None for the top."""
    value: dict[str | None, int]
    parent: dict[str | None, str | None]
    children: dict[str | None, list[str]] = field(default_factory=dict)
    order: list[str | None] = field(default_factory=list)  # parents before children

    @classmethod
    def build(cls, areas: Iterable[tuple[str, str | None, int]]) -> "Tree":
        """`areas`: (pcode, parent pcode, count). An area whose parent is not among them hangs
        under the operation total."""
        rows = list(areas)
        value: dict[str | None, int] = {pcode: count for pcode, _, count in rows}
        parent: dict[str | None, str | None] = {pcode: (up if up in value and up != pcode else ROOT)
                                                for pcode, up, _ in rows}
        children: dict[str | None, list[str]] = {}
        for pcode, up in parent.items():
            children.setdefault(up, []).append(pcode)
        value[ROOT] = sum(value[pcode] for pcode in children.get(ROOT, ()))
        order: list[str | None] = [ROOT]
        for node in order:  # breadth first; a cycle in the parent codes is left out
            order.extend(children.get(node, ()))
        return cls(value=value, parent=parent, children=children, order=order)

    def remainder(self, node: str | None) -> int | None:
        """The parent's count minus its children's; None when they add up to more (stale or
        inconsistent data: no table to reason with)."""
        rest = self.value[node] - sum(self.value[child] for child in self.children.get(node, ()))
        return rest if rest >= 0 else None


def _domain(label: Label) -> tuple[int, int]:
    if label == SMALL:
        return 1, 2
    if label == COMPLEMENT:
        return 3, INF
    if label is None:
        return 0, INF
    return int(label), int(label)


def intervals(tree: Tree, labels: Mapping[str | None, Label]) -> dict[str | None, tuple[int, int]]:
    """The values each count can take, for someone who knows the rule and sees every label."""
    bounds = {node: _domain(labels.get(node)) for node in tree.order}
    groups = [node for node in tree.order if tree.children.get(node) and tree.remainder(node) is not None]
    changed = True
    while changed:
        changed = False
        for node in reversed(groups):  # up: a parent is its children plus the remainder
            changed |= _narrow_parent(tree, bounds, node)
        for node in groups:  # down: a child is its parent minus its siblings and the remainder
            changed |= _narrow_children(tree, bounds, node)
    return bounds


def _sum_high(bounds: dict, kids) -> tuple[int, int]:
    """(sum of the finite upper bounds, how many are unbounded)."""
    finite, unbounded = 0, 0
    for child in kids:
        high = bounds[child][1]
        if high >= INF:
            unbounded += 1
        else:
            finite += high
    return finite, unbounded


def _narrow_parent(tree: Tree, bounds: dict, node) -> bool:
    rest = tree.remainder(node)
    kids = tree.children[node]
    finite, unbounded = _sum_high(bounds, kids)
    low = rest + sum(bounds[child][0] for child in kids)
    high = INF if unbounded else rest + finite
    old = bounds[node]
    new = (max(old[0], low), min(old[1], high))
    bounds[node] = new
    return new != old


def _narrow_children(tree: Tree, bounds: dict, node) -> bool:
    rest = tree.remainder(node)
    kids = tree.children[node]
    top_low, top_high = bounds[node]
    changed = False
    low_sum = sum(bounds[c][0] for c in kids)
    finite, unbounded = _sum_high(bounds, kids)
    for child in kids:
        low, high = bounds[child]
        if high >= INF:
            others_unbounded, others_finite = unbounded - 1, finite
        else:
            others_unbounded, others_finite = unbounded, finite - high
        least = low if others_unbounded else top_low - rest - others_finite
        most = high if top_high >= INF else top_high - rest - (low_sum - low)
        new = (max(low, least), min(high, most))
        if new != (low, high):
            bounds[child] = new
            changed = True
            low_sum += new[0] - low  # the siblings after it see the narrowed bounds
            if high >= INF and new[1] < INF:
                unbounded, finite = unbounded - 1, finite + new[1]
            elif high < INF:
                finite += new[1] - high
    return changed


def pinned(tree: Tree, labels: Mapping[str | None, Label]) -> list[str | None]:
    """The small counts (1–2, whether shown as "<3" or not shown) that only one value fits."""
    found = intervals(tree, labels)
    return [node for node in tree.order
            if (labels.get(node) == SMALL or (labels.get(node) is None and 0 < tree.value[node] < 3))
            and found[node][0] == found[node][1]]


def suppress(tree: Tree) -> dict[str | None, Label]:
    """Each count as partners see it: 1–2 as "<3", others exact or "suppressed", and nothing
    below a "<3" with several sub-areas: two "<3" under a "<3" could only be 1 each, and a
    sub-area of a "<3" holds at most 2 anyway (a rule on what is shown and on the public
    list of areas, so not showing tells nothing more)."""
    labels: dict[str | None, Label] = {}
    under_small: set = set()
    for node in tree.order:  # parents first
        up = ROOT if node is ROOT else tree.parent[node]
        # An only sub-area may say what its parent says: the number of sub-areas is public.
        if node is not ROOT and (up in under_small or (labels[up] == SMALL and len(tree.children[up]) > 1)):
            under_small.add(node)
            labels[node] = None
        else:
            labels[node] = small_count(tree.value[node])
    while True:
        stuck = pinned(tree, labels)
        if not stuck:
            return labels
        before = sum(1 for label in labels.values() if label == COMPLEMENT)
        for node in stuck:
            _free(tree, labels, node)
        if sum(1 for label in labels.values() if label == COMPLEMENT) == before:
            # No more counts to hide that could help: show this count nowhere in the operation.
            return {node: None for node in tree.order}


def _shown(labels, node) -> bool:
    label = labels.get(node)
    return isinstance(label, int) and label >= 3


def _hide_down(tree: Tree, labels: dict, node) -> None:
    """Hide a chain from `node` down, each time through its largest child, so that the node's
    count cannot be read off its children."""
    while tree.children.get(node):
        node = max(tree.children[node], key=lambda child: (tree.value[child], str(child)))
        if tree.value[node] <= 0:
            return
        if _shown(labels, node):
            labels[node] = COMPLEMENT


def _free(tree: Tree, labels: dict, node) -> None:
    """Hide what gives the pinned count `node` room: its own chain down, then the largest shown
    sibling that can move the other way (with its chain down) at the nearest level up that
    has one, else that level's parent."""
    _hide_down(tree, labels, node)
    # A 1 can only be 2 if a sibling can be one less: a "suppressed" 3 cannot.
    least = 4 if tree.value[node] == 1 else 3
    current = node
    while current is not ROOT:
        up = tree.parent[current]
        siblings = [s for s in tree.children.get(up, ())
                    if s != current and _shown(labels, s) and tree.value[s] >= least]
        if siblings:
            chosen = max(siblings, key=lambda s: (tree.value[s], str(s)))
            labels[chosen] = COMPLEMENT
            _hide_down(tree, labels, chosen)
            return
        if _shown(labels, up):
            labels[up] = COMPLEMENT
            return
        current = up

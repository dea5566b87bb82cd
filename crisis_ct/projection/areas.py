"""An admin area's risk as each audience sees it (the area API, the map's GeoJSON, the area
page, the dashboard, and exports). Experts and above see the stored summary; partners see
the admin-level figures of §4.3: a phase only where at least 3 sites were assessed, counts of
1–2 as "<3" with complementary suppression, people rounded to 10, percentages only over 5 or
more sites and only when no count behind them is hidden.

Counts per phase (sites and people) are shown to partners for admin 1 areas only: an admin 2
area's cells and its parent's would give a hidden cell away by difference (the parent's count
minus the siblings'), and suppression that holds across levels is an audit this module does not
attempt. Below admin 1 partners see the phase, the hotspot flag, the confidence and how many
sites were known, assessed, expired and without a population figure ("<3" for 1–2). Those
site counts are suppressed once over the operation's whole hierarchy (`site_counts`,
crisis_ct.projection.hierarchy) and every route shows its part of that decision, so that
a district's count minus its sub-areas' gives no "<3" away, whatever levels or bounding
boxes are asked for."""
from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

from crisis_ct.accounts.principal import Principal
from crisis_ct.projection import counts, hierarchy
from crisis_ct.projection.audience import sees_site_level

# What names or dates the area or its computation, or says how it was computed: shown to
# partners as they are.
DESCRIPTIVE_KEYS = ("pcode", "level", "name", "name_en", "name_fr", "parent_pcode", "valid_on", "score_id",
                    "computed_at", "catalogue_version", "disclaimer", "coverage_basis")
# Counts of sites beside the phase cells (issue 12: expired assessments, sites without a
# population figure): "<3" for 1–2, like sites_known.
SITE_COUNT_KEYS = ("sites_known", "sites_assessed", "sites_expired", "sites_without_population")
INSUFFICIENT = "insufficient_data"
CELLS_LEVEL = 1  # the only admin level whose counts per phase partners see


SiteCounts = Mapping[str | None, Mapping[str, int | str | None]]  # pcode (None: the operation) -> key -> shown


def site_counts(areas: Iterable[tuple[str, str | None, Mapping | None]]) -> SiteCounts:
    """The site counts partners see, for every area of one operation at once: `areas` are
    (pcode, parent pcode, current summary or None) for all its areas, whatever a request
    shows of them; under None the operation's total (the total of its admin 1 areas)."""
    rows = [(pcode, parent, summary or {}) for pcode, parent, summary in areas]
    shown: dict[str | None, dict] = {pcode: {} for pcode, _, _ in rows}
    shown[hierarchy.ROOT] = {}
    for key in SITE_COUNT_KEYS:
        tree = hierarchy.Tree.build((pcode, parent, int(summary.get(key) or 0)) for pcode, parent, summary in rows)
        for node, label in hierarchy.suppress(tree).items():
            shown[node][key] = label
    return shown


def total_site_counts(per_operation: Sequence[Mapping[str, int | str | None]]) -> dict:
    """The operations' totals added up (a person may see several): only where every one of
    them is shown, else not shown — a rule on what is shown, so it tells nothing more."""
    if len(per_operation) == 1:
        return dict(per_operation[0])
    return {key: (sum(values) if all(isinstance(v, int) for v in values) else None)
            for key in SITE_COUNT_KEYS for values in [[total.get(key) for total in per_operation]]}


def area(principal: Principal, operation_id: int, summary: Mapping,
         counts_of: Callable[[int], SiteCounts]) -> dict:
    """The area (its risk summary and descriptive fields) as the principal may see it.
    `counts_of(operation_id)`: `site_counts` of the operation, asked only for partners."""
    if sees_site_level(principal, operation_id):
        return dict(summary)
    pcode = summary.get("pcode")  # without one, no count: None is the operation's total
    return for_partners(summary, site_counts=counts_of(operation_id).get(pcode, {}) if pcode is not None else {})


def for_partners(summary: Mapping, *, site_counts: Mapping[str, int | str | None],
                 also_hide: Sequence[str] = ()) -> dict:
    """Only the fields listed here; anything else a summary carries stays out.
    `site_counts`: the area's counts as `site_counts` decided them over the whole hierarchy
    (a count missing there is not shown). `also_hide`: phase cells to hide whatever their
    count (see total_for_partners)."""
    shown = {key: summary[key] for key in DESCRIPTIVE_KEYS if key in summary}
    if "status" not in summary and "sites_assessed" not in summary:
        return shown  # not scored: nothing more to show or hide
    assessed = summary.get("sites_assessed") or 0
    enough = assessed >= counts.MIN_SHOWN
    status = summary.get("status")
    if not enough and status == "classified":
        status = INSUFFICIENT  # a catalogue asking fewer sites must not classify for partners
    shown.update({
        "status": status,
        "phase": summary.get("phase") if enough and status == "classified" else None,
        # With 1–2 sites a hotspot flag or a confidence is one site's result.
        "hotspot": summary.get("hotspot") if enough else None,
        "confidence": summary.get("confidence") if enough else None,
        **{key: site_counts.get(key) for key in SITE_COUNT_KEYS if key in summary},
        "sites_assessed": site_counts.get("sites_assessed"),
        "population_known": counts.rounded_people(summary.get("population_known")),
        "population_assessed": None, "population_coverage": None, "population_imputed_per_site": None,
        "sites_by_phase": None, "population_by_phase": None,
        "pct_sites_3plus": None, "pct_sites_4plus": None,
    })
    cells = summary.get("sites_by_phase")
    if not enough or cells is None or summary.get("level", CELLS_LEVEL) != CELLS_LEVEL \
            or not isinstance(shown["sites_assessed"], int):
        return shown  # cells add up to sites_assessed: not beside a hidden one
    hidden_cells = counts.suppress_cells(cells, assessed, also_hide=also_hide)
    if hidden_cells is None:
        return shown
    people = summary.get("population_by_phase") or {}
    shown["sites_by_phase"] = hidden_cells
    shown["population_by_phase"] = {
        phase: counts.COMPLEMENT if counts.is_hidden(value) else counts.rounded_people(people.get(phase, 0))
        for phase, value in hidden_cells.items()}
    shown["population_assessed"] = counts.rounded_people(summary.get("population_assessed"))
    # The median site population the sites without a figure weigh: one site's figure, so rounded as
    # people are, and only beside the area's other population figures.
    shown["population_imputed_per_site"] = counts.rounded_people(summary.get("population_imputed_per_site"))
    if summary.get("population_coverage") is not None:
        shown["population_coverage"] = round(summary["population_coverage"], 2)
    if assessed >= counts.MIN_SITES_FOR_PERCENT and not any(counts.is_hidden(v) for v in hidden_cells.values()):
        shown["pct_sites_3plus"] = summary.get("pct_sites_3plus")
        shown["pct_sites_4plus"] = summary.get("pct_sites_4plus")
    return shown


def total_for_partners(rows_shown: Sequence[Mapping], exact_total: Mapping,
                       site_counts: Mapping[str, int | str | None]) -> dict:
    """A total row under areas already shown to partners: a phase whose cell is hidden in any
    row is hidden in the total too (else the total minus the other rows gives that cell
    away), and the total row gets its own complementary suppression. `site_counts`: the
    operations' totals (`site_counts` under None, added up by `total_site_counts`)."""
    hidden = sorted({phase for row in rows_shown for phase, value in (row.get("sites_by_phase") or {}).items()
                     if counts.is_hidden(value)})
    if any(row.get("sites_by_phase") is None and (row.get("sites_assessed") or 0) != 0 for row in rows_shown):
        # A row showing no cells at all: every phase could hide its sites.
        hidden = sorted((exact_total.get("sites_by_phase") or {}).keys())
    return for_partners(exact_total, site_counts=site_counts, also_hide=hidden)

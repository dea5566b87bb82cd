"""What each role may see of each kind of thing: shared/domain.md §4.3, in one place.

Every endpoint, page, GeoJSON property and export reads sites, admin areas, tasks, task
history and submissions through these functions, never by choosing fields itself:

- experts, coordinators and admins of an operation see its site-level results (scores,
  indicators, tasks) — "site level" (`audience.sees_site_level`);
- viewers (cluster partners) see admin-level results only: area phases where at least three
  sites were assessed, counts of 1–2 sites as "<3" with complementary suppression so that no
  total or percentage gives a hidden count away, counts per phase at admin 1 only (`counts`,
  `areas`), where sites are but not
  their risk (`sites`), area-level tasks without evidence, holders or comments (`tasks`), and
  no submissions (`submissions`);
- for everyone, a site under 20 households shows its exploitation (E) domain as a domain
  phase only, never an indicator answer: a "yes" there points at one family (`sites`).

The functions are plain (no Flask, no database) and keep what they are not told about out of a
partner's view: a field added to a site, area or task later is hidden from viewers until it is
listed here.
"""

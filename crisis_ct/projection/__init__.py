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
- the public (published products: `?profile=public`, `crisis-ct export --public`) sees admin 1
  and admin 2 areas only, narrower than partners: phase, sites assessed, people rounded to 10,
  percentages over at least 5 sites, no counts per phase (`public`);
- submissions' key-informant answers leave the system only in the submissions export, to
  coordinators and admins, under the small-site rule (`submissions.exported_answers`).

The functions are plain (no Flask, no database) and keep what they are not told about out of a
partner's view: a field added to a site, area or task later is hidden from viewers until it is
listed here.
"""

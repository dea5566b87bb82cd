"""Sites without a population figure in the 25 % area rule (issue 12, item 2)."""
from catalogue_factory import settings

from crisis_ct.scoring.area import SiteForArea, score_area

SETTINGS = settings()


def site(site_id, population, phase, recency="current", confidence="high"):
    return SiteForArea(site_id, population, phase, recency, confidence)


def test_unknown_population_sites_at_phase_5_are_not_outweighed_by_a_known_one():
    area = score_area(SETTINGS, [site(1, 1000, 1), site(2, 0, 5), site(3, None, 5)])
    assert area.status == "classified"
    assert area.phase == 5  # each counts with the median known population (1,000)
    assert area.sites_without_population == 2
    assert area.coverage_basis == "sites"
    assert area.population_imputed_per_site == 1000


def test_coverage_counts_sites_when_populations_are_missing():
    # 1,000 people assessed, two unassessed sites of unknown size: not "1.0 covered".
    area = score_area(SETTINGS, [site(1, 1000, 1), site(2, 1000, 1), site(3, 1000, 1),
                                 site(4, 0, None, None, None), site(5, 0, None, None, None),
                                 site(6, 0, None, None, None), site(7, 0, None, None, None)])
    assert area.population_coverage == round(3 / 7, 4)
    assert area.status == "insufficient_data"
    assert area.sites_without_population == 4


def test_with_every_population_known_the_rule_is_unchanged():
    area = score_area(SETTINGS, [site(1, 700, 1), site(2, 200, 3), site(3, 100, 4)])
    assert (area.phase, area.coverage_basis, area.sites_without_population) == (3, "population", 0)
    assert area.population_imputed_per_site is None


def test_without_any_population_every_site_weighs_the_same():
    area = score_area(SETTINGS, [site(1, 0, 1), site(2, 0, 1), site(3, 0, 1), site(4, 0, 5)])
    assert area.phase == 5  # 1 of 4 sites = 25 %
    assert area.coverage_basis == "sites"
    assert area.population_imputed_per_site is None


def test_the_summary_says_how_many_sites_had_no_population():
    summary = score_area(SETTINGS, [site(1, 1000, 1), site(2, 0, 5), site(3, 0, 5)]).to_dict()
    assert summary["sites_without_population"] == 2
    assert summary["coverage_basis"] == "sites"

"""score_area worked examples (domain.md §2.4, §2.5)."""
import json

from catalogue_factory import settings

from crisis_ct.scoring.area import AreaScore, SiteForArea, score_area

SETTINGS = settings()  # share 0.25, >= 3 sites, >= 50% population coverage


def site(site_id, population, phase, recency="current", confidence="high"):
    return SiteForArea(site_id, population, phase, recency, confidence)


def test_area_phase_is_highest_phase_reaching_a_quarter_of_the_population():
    area = score_area(SETTINGS, [site(1, 700, 1), site(2, 200, 3), site(3, 100, 4)])
    assert area.status == "classified"
    assert area.phase == 3  # 30% live at 3+, only 10% at 4+


def test_area_at_exactly_the_threshold_share_is_classified_at_that_phase():
    area = score_area(SETTINGS, [site(1, 600, 1), site(2, 150, 2), site(3, 250, 4)])
    assert area.phase == 4


def test_one_small_extreme_site_does_not_paint_the_area_but_flags_it():
    area = score_area(SETTINGS, [site(1, 5000, 1), site(2, 4000, 2), site(3, 50, 5)])
    assert area.phase == 2
    assert area.hotspot is True


def test_two_sites_at_4_make_a_hotspot():
    assert score_area(SETTINGS, [site(1, 10, 4), site(2, 10, 4), site(3, 1000, 1)]).hotspot is True


def test_one_site_at_4_is_not_a_hotspot():
    assert score_area(SETTINGS, [site(1, 10, 4), site(2, 10, 3), site(3, 1000, 1)]).hotspot is False


def test_too_few_assessed_sites_is_insufficient_data_not_phase_1():
    area = score_area(SETTINGS, [site(1, 1000, 1), site(2, 1000, 1)])
    assert (area.status, area.phase) == ("insufficient_data", None)


def test_low_population_coverage_is_insufficient_data():
    sites = [site(1, 100, 3), site(2, 100, 3), site(3, 100, 3), site(4, 1000, None, None, None)]
    area = score_area(SETTINGS, sites)
    assert area.status == "insufficient_data"
    assert area.population_coverage == round(300 / 1300, 4)


def test_hotspot_is_flagged_even_with_insufficient_data():
    area = score_area(SETTINGS, [site(1, 100, 5)])
    assert (area.status, area.hotspot) == ("insufficient_data", True)


def test_expired_sites_count_as_known_but_not_assessed():
    sites = [site(1, 100, 2), site(2, 100, 2), site(3, 100, 2), site(4, 100, 5, recency="expired")]
    area = score_area(SETTINGS, sites)
    assert (area.sites_known, area.sites_assessed) == (4, 3)
    assert area.hotspot is False
    assert area.phase == 2


def test_no_sites_status():
    area = score_area(SETTINGS, [])
    assert (area.status, area.phase, area.confidence) == ("no_sites", None, None)


def test_percent_of_assessed_sites_at_3_and_4_plus():
    sites = [site(1, 10, 1), site(2, 10, 3), site(3, 10, 4), site(4, 10, 5), site(5, 10, None, None, None)]
    area = score_area(SETTINGS, sites)
    assert (area.pct_sites_3plus, area.pct_sites_4plus) == (75.0, 50.0)


def test_sites_without_population_weigh_equally_when_none_has_a_figure():
    area = score_area(SETTINGS, [site(1, 0, 1), site(2, 0, 1), site(3, 0, 4)])
    assert area.population_coverage == 1.0
    assert area.phase == 4  # one site in three is >= 25%


def test_population_and_site_counts_by_phase():
    area = score_area(SETTINGS, [site(1, 100, 2), site(2, 300, 2), site(3, 50, 4)])
    assert area.population_by_phase == {1: 0, 2: 400, 3: 0, 4: 50, 5: 0}
    assert area.sites_by_phase == {1: 0, 2: 2, 3: 0, 4: 1, 5: 0}


def test_area_confidence_is_median_site_confidence():
    sites = [site(1, 100, 2, confidence="high"), site(2, 100, 2, confidence="medium"),
             site(3, 100, 2, confidence="high")]
    assert score_area(SETTINGS, sites).confidence == "high"


def test_area_confidence_is_capped_at_medium_below_80_percent_coverage():
    sites = [site(n, 100, 2) for n in (1, 2, 3)] + [site(4, 200, None, None, None)]
    assert score_area(SETTINGS, sites).confidence == "medium"


def test_area_with_insufficient_data_has_low_confidence():
    assert score_area(SETTINGS, [site(1, 100, 2)]).confidence == "low"


def test_area_score_round_trips_through_json():
    area = score_area(SETTINGS, [site(1, 100, 2), site(2, 300, 3), site(3, 50, 4)])
    data = json.loads(json.dumps(area.to_dict()))
    assert AreaScore.from_dict(data) == area
    assert data["population_by_phase"] == {"1": 0, "2": 100, "3": 300, "4": 50, "5": 0}

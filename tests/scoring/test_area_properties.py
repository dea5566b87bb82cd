"""Properties of score_area over random sites and settings."""
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue_factory import settings as make_settings
from crisis_ct.scoring.area import SiteForArea, score_area

RECENCIES = ("current", "ageing", "expired", None)
CONFIDENCES = ("high", "medium", "low", None)

area_settings = st.builds(
    make_settings,
    area_threshold_share=st.floats(0.05, 0.95),
    area_min_sites=st.integers(1, 6),
    area_min_population_coverage=st.floats(0.0, 1.0),
)


@st.composite
def area_sites(draw):
    rows = draw(st.lists(st.tuples(
        st.integers(0, 20000), st.one_of(st.none(), st.integers(1, 5)),
        st.sampled_from(RECENCIES), st.sampled_from(CONFIDENCES),
    ), max_size=12))
    return [SiteForArea(n, pop, phase, recency, conf) for n, (pop, phase, recency, conf) in enumerate(rows)]


def rank(phase):
    return 0 if phase is None else phase


@settings(max_examples=200, deadline=None)
@given(area_settings, area_sites())
def test_area_never_classifies_from_fewer_than_min_assessed_sites(config, sites):
    area = score_area(config, sites)
    if area.sites_assessed < config.area_min_sites:
        assert area.status != "classified"
        assert area.phase is None


@settings(max_examples=200, deadline=None)
@given(area_settings, area_sites())
def test_area_phase_is_set_exactly_when_classified(config, sites):
    area = score_area(config, sites)
    assert (area.phase is not None) == (area.status == "classified")
    assert area.phase in (None, 1, 2, 3, 4, 5)


@settings(max_examples=200, deadline=None)
@given(area_settings, area_sites(), st.data())
def test_area_phase_is_monotone_in_site_phases(config, sites, data):
    raised = [
        SiteForArea(s.site_id, s.population,
                    None if s.phase is None else data.draw(st.integers(s.phase, 5)),
                    s.recency, s.confidence)
        for s in sites
    ]
    before, after = score_area(config, sites), score_area(config, raised)
    assert after.status == before.status
    assert rank(after.phase) >= rank(before.phase)
    assert after.hotspot or not before.hotspot


@settings(max_examples=200, deadline=None)
@given(area_settings, area_sites(), st.randoms(use_true_random=False))
def test_site_order_does_not_matter(config, sites, random):
    shuffled = list(sites)
    random.shuffle(shuffled)
    assert score_area(config, shuffled) == score_area(config, sites)

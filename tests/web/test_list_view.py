import re

from tests.web.conftest import HOSTILE_NAME, csrf_token, load_operation


def _site_rows(page: str) -> list[str]:
    """The site codes in the sites table, in order."""
    return re.findall(r'<span class="site-code">([^<]+)</span>', page)


def test_sites_are_listed_worst_first_with_their_phase(expert, risk_properties):
    page = expert.get("/map/list").get_data(as_text=True)
    assert _site_rows(page) == ["S1", "S3", "S2", "S4"]
    assert "4 Extreme" in page and "Not assessed" in page


def test_the_phase_filter_keeps_phase_3_and_above(expert, risk_properties):
    page = expert.get("/map/list?phase=3plus").get_data(as_text=True)
    assert _site_rows(page) == ["S1", "S3"]


def test_not_assessed_sites_can_be_listed_alone(expert, risk_properties):
    assert _site_rows(expert.get("/map/list?phase=none").get_data(as_text=True)) == ["S4"]


def test_a_domain_filter_uses_that_domains_phase(expert, risk_properties):
    # Site safety (S): S2 is at 5 although its overall phase is 2.
    assert _site_rows(expert.get("/map/list?domain=S&phase=5").get_data(as_text=True)) == ["S2"]


def test_site_type_and_recency_filters(expert, risk_properties):
    assert _site_rows(expert.get("/map/list?site_type=border_point").get_data(as_text=True)) == ["S4"]
    assert _site_rows(expert.get("/map/list?recency=ageing").get_data(as_text=True)) == ["S2"]


def test_without_risk_data_every_site_is_not_assessed(expert):
    page = expert.get("/map/list").get_data(as_text=True)
    assert len(_site_rows(page)) == 4
    assert page.count('class="phase-badge phase-none') == 4


def test_a_site_name_is_escaped(expert, risk_properties):
    page = expert.get("/map/list").get_data(as_text=True)
    assert HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_areas_show_insufficient_data_rather_than_a_phase(viewer, risk_properties):
    page = viewer.get("/map/list?show=areas&level=1").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>(XZ0\d)</td>(.*?)</tr>", page, re.S)
    assert [pcode for pcode, _ in rows] == ["XZ01", "XZ02"]
    assert "3 Severe" in rows[0][1] and "Hotspot" in rows[0][1]
    assert "Insufficient data" in rows[1][1]


def test_the_area_phase_filter_drops_unclassified_areas(viewer, risk_properties):
    page = viewer.get("/map/list?show=areas&level=1&phase=3plus").get_data(as_text=True)
    assert "XZ01" in page and "XZ02" not in page


def test_the_list_pages_through_the_sites(expert, risk_properties, monkeypatch):
    from crisis_ct.web.views import risk_map

    monkeypatch.setattr(risk_map, "LIST_PAGE_SIZE", 3)
    first = expert.get("/map/list?phase=&site_type=").get_data(as_text=True)
    assert _site_rows(first) == ["S1", "S3", "S2"]
    assert 'rel="next" href="/map/list?show=sites&amp;page=2' in first
    second = expert.get("/map/list?page=2").get_data(as_text=True)
    assert _site_rows(second) == ["S4"]
    assert _site_rows(expert.get("/map/list?page=99").get_data(as_text=True)) == ["S4"]


def test_the_list_is_scoped_to_the_users_operations(seed, database, expert, tmp_path):
    seed.operation("other")
    load_operation(database, tmp_path / "other", "other", sites=[("Z9", "Secret camp", "planned_camp", 0.5, 0.5, 10, 2)])
    page = expert.get("/map/list").get_data(as_text=True)
    assert "Secret camp" not in page and len(_site_rows(page)) == 4


def test_numbers_and_dates_follow_the_language(expert, risk_properties):
    expert.post("/language", data={"lang": "fr", "next": "/map", "csrf_token": csrf_token(expert, "/map")})
    page = expert.get("/map/list").get_data(as_text=True)
    assert "12\u202f000" in page  # French groups thousands with a narrow no-break space
    assert "2 mars 2026" in page


def test_a_viewer_lists_admin_areas_only(viewer, risk_properties):
    """Site phases are site-level results (domain.md §4.3): a viewer's list is of admin areas."""
    page = viewer.get("/map/list?show=sites").get_data(as_text=True)
    assert _site_rows(page) == [] and "Camp Alpha" not in page
    assert re.findall(r"<tr>\s*<td>(XZ\d+)</td>", page)  # the default admin level's areas
    assert '<a href="/map/list?show=sites' not in page  # no "Sites" tab

"""The site page (experts and above) and the admin-area page (everyone signed in)."""
import sqlalchemy as sa

from crisis_ct.geography.models import Site
from crisis_ct.kobo.models import Submission
from tests.web.conftest import HOSTILE_NAME, csrf_token

DISCLAIMER = "Indicative, based on key informants — not prevalence, not case data."


def test_a_viewer_gets_the_403_page_on_a_site(signed_in):
    response = signed_in("viewer@example.org").get("/sites/S1")
    assert response.status_code == 403
    assert "You do not have access to this page." in response.get_data(as_text=True)


def test_an_unknown_site_is_a_404(signed_in):
    assert signed_in("a@example.org").get("/sites/NOPE").status_code == 404


def test_the_site_page_explains_the_phase_with_informant_counts(signed_in):
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    assert "big-phase" in page and "Phase " in page
    assert "Why this phase?" in page and "Indicators that set the phase:" in page
    assert " of 3</td>" in page  # n_yes of n_answered, three informants
    assert "Key informants" in page and "Indicator catalogue" in page and "Computed at" in page
    assert page.count(DISCLAIMER) >= 2  # on the page itself, not only in the footer


def test_the_site_page_draws_the_history_without_script(signed_in):
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    # The history chart's svg, not the first one (the header's bell is an svg too).
    start = page.rindex("<svg", 0, page.index('aria-labelledby="history-chart-title"'))
    svg = page[start:page.index("</svg>", start)]
    assert 'class="phase-point' in svg
    assert "<script" not in svg


def test_the_site_page_never_shows_interview_identity(signed_in, database):
    with database.session() as session:
        instance_ids = session.scalars(sa.select(Submission.instance_id)).all()
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    assert instance_ids and not any(instance_id in page for instance_id in instance_ids)
    assert "submission_ids" not in page


def test_a_site_without_interviews_says_not_assessed_yet(signed_in):
    page = signed_in("a@example.org").get("/sites/S3").get_data(as_text=True)
    assert "Not assessed yet" in page
    assert "big-phase" not in page


def test_a_hostile_site_name_is_escaped(signed_in, database):
    with database.session() as session:
        session.scalar(sa.select(Site).where(Site.site_code == "S1")).name = HOSTILE_NAME
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    assert HOSTILE_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_site_page_lists_its_tasks_with_links(signed_in):
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    assert 'href="/tasks/' in page
    assert 'href="/tasks?site=S1"' in page


def test_the_site_page_is_french_in_french(signed_in):
    expert = signed_in("a@example.org")
    expert.post("/language", data={"lang": "fr", "next": "/sites/S1", "csrf_token": csrf_token(expert, "/tasks")})
    page = expert.get("/sites/S1").get_data(as_text=True)
    assert "Pourquoi cette phase" in page and "Informateurs clés" in page
    assert any(label in page for label in ("Sévère", "Extrême", "Catastrophique", "Stress", "Minimal"))


def test_a_viewer_sees_small_area_counts_suppressed(signed_in):
    page = signed_in("viewer@example.org").get("/areas/XZ01").get_data(as_text=True)
    # 3 sites known, 2 assessed: the operation's total of 2 assessed is "<3" (the dashboard's
    # total row), so nothing under it shows a count (crisis_ct.projection.hierarchy).
    assert "Sites assessed</dt><dd>— / 3</dd>" in page
    assert "so that no small site can be singled out" in page


def test_an_expert_sees_exact_area_counts(signed_in):
    page = signed_in("a@example.org").get("/areas/XZ01").get_data(as_text=True)
    assert "&lt;3" not in page


def test_the_area_page_lists_child_areas_and_links_to_the_list(signed_in):
    page = signed_in("viewer@example.org").get("/areas/XZ01").get_data(as_text=True)
    assert 'href="/areas/XZ0101"' in page and 'href="/areas/XZ0102"' in page
    assert "/map/list?show=areas&amp;level=2" in page


def test_an_area_without_enough_data_says_so_not_phase_1(signed_in):
    page = signed_in("viewer@example.org").get("/areas/XZ02").get_data(as_text=True)
    assert "Insufficient data" in page


def test_an_unknown_area_is_a_404(signed_in):
    assert signed_in("viewer@example.org").get("/areas/XX99").status_code == 404


def test_the_site_page_says_which_interviews_kobo_review_left_out(signed_in, database, scored):
    from crisis_ct.scoring.service import score_all

    with database.session() as session:
        s1 = session.scalar(sa.select(Site.id).where(Site.site_code == "S1"))
        first, second = session.scalars(sa.select(Submission).where(Submission.site_id == s1)
                                        .order_by(Submission.id)).all()[:2]
        first.validation_status = "validation_status_not_approved"
        second.validation_status = "validation_status_on_hold"
        session.flush()
        score_all(session, scored.operation_id)
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    assert "1 interview(s) left out: marked not approved in Kobo" in page
    assert "1 counted interview(s) are on hold in Kobo" in page
def test_the_area_page_says_how_many_sites_had_no_population(signed_in, database):
    # issue 12 item 2: sites without a figure count with the median; the page says how many.
    from crisis_ct.scoring.service import rescore_areas

    with database.session() as session:
        for code in ("S3", "S4"):
            session.scalars(sa.select(Site).where(Site.site_code == code)).one().population_individuals = None
        session.flush()
        rescore_areas(session, session.scalar(sa.select(Site.operation_id).limit(1)))
    page = signed_in("a@example.org").get("/areas/XZ01").get_data(as_text=True)
    assert "Sites without a population figure" in page
    assert "coverage counts sites, not people" in page


def test_the_site_page_says_when_the_previous_round_still_counts(signed_in, database, scored):
    # issue 12 item 1: one late interview does not replace a round; the page says why.
    from datetime import date, datetime, timezone

    from crisis_ct.kobo.ingest import Ingestor
    from crisis_ct.kobo.models import KoboAsset
    from crisis_ct.scoring.service import rescore_sites
    from tests.support.kobo_world import SubmissionMaker

    maker = SubmissionMaker(99)
    maker.ids = iter(range(9000, 9010))  # Kobo ids the fixture's records do not use
    late = maker.make("S1", risk=0.05, assessment_date=date(2026, 12, 2))
    with database.session() as session:
        Ingestor(session, session.get(KoboAsset, scored.asset_id), via="test").ingest([late])
        site_id = session.scalar(sa.select(Site.id).where(Site.site_code == "S1"))
        rescore_sites(session, [site_id], now=datetime(2026, 12, 3, tzinfo=timezone.utc))
    page = signed_in("a@example.org").get("/sites/S1").get_data(as_text=True)
    assert "the previous round&#39;s answers still count" in page
    assert "cannot stand alone as a round: 1 KI (at least 3 needed)" in page

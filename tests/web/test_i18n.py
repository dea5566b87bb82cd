from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.web.conftest import csrf_token, sign_in

WEB = Path(__file__).resolve().parents[2] / "crisis_ct" / "web"
MESSAGES = WEB / "translations" / "fr" / "LC_MESSAGES"
FR_DISCLAIMER = "Indicatif, fondé sur des informateurs clés — ni une prévalence, ni des données de cas."


def _po():
    with open(MESSAGES / "messages.po", "rb") as handle:
        return read_po(handle)


def test_every_french_message_is_translated_and_not_fuzzy():
    untranslated = [m.id for m in _po() if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_the_compiled_mo_matches_the_po():
    with open(MESSAGES / "messages.mo", "rb") as handle:
        compiled = read_mo(handle)
    po = {m.id: m.string for m in _po() if m.id}
    mo = {m.id: m.string for m in compiled if m.id}
    assert mo == po


def test_every_message_in_the_code_and_templates_is_in_the_catalogue():
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    used = {message for _file, _line, message, *_ in extract_from_dir(str(WEB), method_map, keywords=keywords)}
    catalogued = {m.id for m in _po() if m.id}
    assert used - catalogued == set()


def test_the_language_switch_stores_the_choice_in_the_session(client):
    response = client.post("/language", data={"lang": "fr", "next": "/login", "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert FR_DISCLAIMER in page
    assert "Mot de passe" in page


def test_the_browser_language_is_the_default_before_sign_in(client):
    page = client.get("/login", headers={"Accept-Language": "fr-CD,fr;q=0.9"}).get_data(as_text=True)
    assert FR_DISCLAIMER in page


def _prefer(database, email: str, language: str) -> None:
    from crisis_ct.accounts import people

    with database.session() as session:
        people.set_profile(session, people.Actor.system("test"), email, preferred_language=language)


def test_the_users_preferred_language_beats_the_browsers(seed, operation, client, database):
    seed.member("fr@example.org", "viewer", operation, languages=("fr", "en"))
    _prefer(database, "fr@example.org", "fr")
    sign_in(client, "fr@example.org")
    page = client.get("/map", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Carte des risques" in page


def test_until_a_user_chooses_pages_follow_the_browser(seed, operation, client):
    # Working in English (task matching) is not a choice of page language.
    seed.member("new@example.org", "viewer", operation, languages=("en",))
    sign_in(client, "new@example.org")
    assert "Carte des risques" in client.get("/map", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(
        as_text=True)
    assert "Risk map" in client.get("/map", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_choosing_a_language_signed_in_keeps_it_for_the_next_sign_in(seed, operation, client, app):
    seed.member("new@example.org", "viewer", operation)
    sign_in(client, "new@example.org")
    client.post("/language", data={"lang": "fr", "next": "/map", "csrf_token": csrf_token(client, "/map")})
    other_browser = app.test_client()
    sign_in(other_browser, "new@example.org")
    assert "Carte des risques" in other_browser.get("/map", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_an_explicit_choice_beats_the_users_preferred_language(seed, operation, client, database):
    seed.member("fr@example.org", "viewer", operation, languages=("fr",))
    _prefer(database, "fr@example.org", "fr")
    sign_in(client, "fr@example.org")
    client.post("/language", data={"lang": "en", "next": "/map", "csrf_token": csrf_token(client, "/map")})
    assert "Risk map" in client.get("/map").get_data(as_text=True)


def test_the_disclaimer_is_on_every_page_in_english(viewer):
    for path in ("/map", "/map/list", "/map/list?show=areas", "/admin/audit"):
        assert "Indicative, based on key informants — not prevalence, not case data." in \
            viewer.get(path).get_data(as_text=True), path


def test_phase_labels_are_french_in_french(viewer):
    viewer.post("/language", data={"lang": "fr", "next": "/map", "csrf_token": csrf_token(viewer, "/map")})
    page = viewer.get("/map").get_data(as_text=True)
    for label in ("Minimal", "Stress", "Sévère", "Extrême", "Catastrophique", "Données insuffisantes"):
        assert label in page

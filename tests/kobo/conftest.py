"""Fixtures for the Kobo side: a small bilingual XLSForm, its FormSpec, a fake Kobo server."""
from __future__ import annotations

import random
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

# tests/kobo has no __init__.py (importlib mode): make the fake server importable by name.
sys.path.insert(0, str(Path(__file__).parent))

from fake_kobo import FakeKobo  # noqa: E402

from crisis_ct.kobo.formspec import FormSpec  # noqa: E402
from crisis_ct.kobo.synthetic import make_submission  # noqa: E402

EN, FR = "English (en)", "Français (fr)"
CONSENTED = "${consent} = 'yes'"

# type, name, label EN, label FR, required, relevant
SURVEY = [
    ("start", "start", None, None, None, None),
    ("end", "end", None, None, None, None),
    ("text", "enumerator_code", "Enumerator code", "Code enquêteur", "yes", None),
    ("select_one yn", "consent", "Consent given?", "Consentement donné ?", "yes", None),
    ("begin_group", "site", "Site", "Site", None, CONSENTED),
    ("text", "site_id", "Site id", "Identifiant du site", "yes", None),
    ("select_one site_type", "site_type", "Site type", "Type de site", "yes", None),
    ("date", "assessment_date", "Assessment date", "Date de l'évaluation", "yes", None),
    ("select_one ki_role", "ki_role", "KI role", "Rôle de l'IC", None, None),
    ("select_one ki_sex", "ki_sex", "KI sex", "Sexe de l'IC", None, None),
    ("geopoint", "location", "Location", "Position", None, None),
    ("select_one yn", "sensitive_ok", "Sensitive module allowed?", "Module sensible autorisé ?", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_group", "pop", "Population", "Population", None, CONSENTED),
    ("select_one freq4", "pop_uasc", "UASC?", "ENAS ?", "yes", None),
    ("integer", "pop_new_arrivals", "New arrivals", "Nouvelles arrivées", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_group", "liv", "Livelihoods", "Moyens de subsistance", None, CONSENTED),
    ("select_multiple neg_coping", "liv_neg_coping", "Negative coping", "Stratégies négatives", None, None),
    ("decimal", "liv_debt_share", "Share in debt", "Part endettée", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_group", "exp", "Exploitation", "Exploitation", None, CONSENTED + " and ${sensitive_ok} = 'yes'"),
    ("select_one yn", "exp_confinement", "Confinement?", "Séquestration ?", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_group", "env", "Environment", "Environnement", None, CONSENTED),
    ("select_one obs3", "env_lighting", "Lighting", "Éclairage", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_group", "svc", "Services", "Services", None, CONSENTED),
    ("select_one yn", "svc_referral", "Referral pathway?", "Circuit de référencement ?", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_group", "trn", "Transit", "Transit", None,
     "${site_type} = 'transit_centre' or ${site_type} = 'border_point'"),
    ("select_one yn", "trn_smugglers", "Smugglers?", "Passeurs ?", None, None),
    ("end_group", None, None, None, None, None),
    ("begin_repeat", "actors", "Actors present", "Acteurs présents", None, CONSENTED),
    ("select_one actor_type", "actor_type", "Actor type", "Type d'acteur", None, None),
    ("integer", "actor_staff", "Staff", "Personnel", None, None),
    ("end_repeat", None, None, None, None, None),
    ("note", "thanks", "Thank you", "Merci", None, None),
]

CHOICES = {
    "yn": [("yes", "Yes", "Oui"), ("no", "No", "Non"), ("dnk", "Don't know", "Ne sait pas"),
           ("pnta", "Prefer not to answer", "Préfère ne pas répondre")],
    "freq4": [("none", "None", "Aucun"), ("few", "A few", "Quelques-uns"), ("many", "Many", "Beaucoup"),
              ("most", "Most", "La plupart"), ("dnk", "Don't know", "Ne sait pas"),
              ("pnta", "Prefer not to answer", "Préfère ne pas répondre")],
    "obs3": [("none", "None", "Aucun"), ("partial", "Partial", "Partiel"), ("adequate", "Adequate", "Suffisant")],
    "site_type": [("planned_camp", "Planned camp", "Camp planifié"),
                  ("collective_centre", "Collective centre", "Centre collectif"),
                  ("transit_centre", "Transit centre", "Centre de transit"),
                  ("border_point", "Border point", "Point frontalier")],
    "ki_role": [("site_manager", "Site manager", "Gestionnaire de site"),
                ("women_rep", "Women's representative", "Représentante des femmes")],
    "ki_sex": [("female", "Female", "Femme"), ("male", "Male", "Homme"),
               ("pnta", "Prefer not to answer", "Préfère ne pas répondre")],
    "neg_coping": [("children_work", "Children work", "Travail des enfants"), ("begging", "Begging", "Mendicité"),
                   ("selling_assets", "Selling assets", "Vente de biens"), ("none", "None", "Aucune")],
    "actor_type": [("ngo", "NGO", "ONG"), ("un", "UN", "ONU"), ("gov", "Government", "Gouvernement")],
}

FORM_VERSION = "2026030101"
ASSET_UID = "aTestAsset123"


def write_sample_xlsform(path: Path) -> Path:
    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", f"label::{EN}", f"label::{FR}", "required", "relevant"])
    for row in SURVEY:
        survey.append(list(row))
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", f"label::{EN}", f"label::{FR}"])
    for list_name, items in CHOICES.items():
        for name, en, fr in items:
            choices.append([list_name, name, en, fr])
    settings = workbook.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append(["CT site assessment (test)", "ct_site_assessment_test", FORM_VERSION, EN])
    workbook.save(path)
    return path


@pytest.fixture(scope="session")
def sample_xlsform(tmp_path_factory) -> Path:
    return write_sample_xlsform(tmp_path_factory.mktemp("forms") / "sample_form.xlsx")


@pytest.fixture(scope="session")
def sample_form(sample_xlsform) -> FormSpec:
    return FormSpec.from_xlsform(sample_xlsform)


@pytest.fixture
def make_record(sample_form):
    """Synthetic record factory for the sample form (deterministic per seed)."""
    def make(kobo_id: int = 1, *, seed: int | None = None, site_type: str = "planned_camp",
             **overrides) -> dict:
        return make_submission(
            sample_form, site_code=f"SITE-{kobo_id:03d}", site_type=site_type,
            assessment_date=date(2026, 3, 1), submitted_at=datetime(2026, 3, 2, 10, 0, kobo_id % 60),
            kobo_id=kobo_id, asset_uid=ASSET_UID, version=FORM_VERSION,
            rng=random.Random(kobo_id if seed is None else seed), **overrides)
    return make


@pytest.fixture
def fake_kobo():
    with FakeKobo(tokens=("test-token",)) as server:
        yield server


@pytest.fixture
def served_world(database, seed, tmp_path, fake_kobo):
    """tests/support/kobo_world's operation, its asset connected to the fake Kobo."""
    from tests.support.kobo_world import build_world, serve_world_asset

    world = build_world(database, seed, tmp_path)
    serve_world_asset(database, fake_kobo)
    return world


@pytest.fixture
def webhook_world(database, seed, tmp_path):
    """kobo_world's op1 with a submitter token (`token`, for the webhook) and a coordinator's."""
    from tests.support.kobo_world import build_world

    world = build_world(database, seed, tmp_path)
    world.token = seed.member("kobo@example.org", "submitter")
    world.coordinator = seed.member("coord@example.org", "coordinator")
    return world

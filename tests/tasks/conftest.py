"""Shared fixtures for the tasks tests: the real rules file and answer scales written out
from shared/domain.md §1.3 (lowest risk first), so these tests do not move when someone
retunes phases in forms/indicators.yaml."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from crisis_ct.tasks.catalogue import load_mitigation_rules
from crisis_ct.tasks.triggers import Facts, IndicatorFact

YN = ("no", "yes")
FREQ4 = ("none", "few", "many", "most")
OBS3 = ("adequate", "partial", "none")

SCALES: dict[str, tuple[str, ...]] = {
    **{i: FREQ4 for i in ("POP_UASC", "POP_CHH", "POP_FHH_ALONE", "POP_SEPARATION", "DOC_LACK",
                          "LIV_NO_INCOME", "LIV_DEBT", "EXP_CHILD_LABOUR", "ENV_OVERCROWD", "TRN_STRANDED")},
    **{i: YN for i in ("DOC_HELD_BY_OTHERS", "LIV_AID_GAP", "REC_OFFERS", "REC_LEFT_NO_NEWS", "REC_ORGANS",
                       "EXP_CHILD_BEGGING", "EXP_CHILD_MARRIAGE", "EXP_SEX_EXCHANGE", "EXP_FORCED_WORK",
                       "EXP_CONFINEMENT", "EXP_ARMED_RECRUIT", "ENV_UNSAFE_AREAS", "ENV_MOVEMENT",
                       "TRN_SMUGGLERS")},
    # Protective items: "no" is the risky answer.
    **{i: ("yes", "no") for i in ("SVC_REFERRAL", "SVC_CP_GBV", "SVC_REGISTRATION", "SVC_INFO", "SVC_CFM_PSEA")},
    "SVC_SCHOOL": ("most", "many", "few", "none"),
    "ENV_LIGHTING": OBS3,
    "ENV_WASH_SAFE": OBS3,
    "POP_NEW_ARRIVALS": (),
    "LIV_NEG_COPING": ("none", "selling_assets", "reducing_meals", "children_work", "begging",
                       "sending_member_away_for_work"),
    "REC_RED_FLAGS": ("none", "upfront_fee", "no_written_contract", "unknown_employer",
                      "recruiter_pays_travel_to_be_repaid", "only_young_women_or_children",
                      "recruiter_keeps_documents"),
    "REC_OFFERS_TYPES": ("job_in_country", "job_abroad", "marriage", "travel_transport", "education",
                         "child_placement"),
    "ENV_ARMED_ACTORS": ("none", "nearby", "at_entrance", "inside"),
}


@pytest.fixture(scope="session")
def catalogue():
    return load_mitigation_rules(indicator_scales=SCALES)


@pytest.fixture
def scales():
    return SCALES


def _site(answers: dict | None = None, **kwargs) -> Facts:
    """Site facts from plain answers: {'POP_UASC': 'few'} or {'X': IndicatorFact(...)}."""
    indicators = {
        key: value if isinstance(value, IndicatorFact) else IndicatorFact(value=value, phase=None, n_yes=0, n_answered=3)
        for key, value in (answers or {}).items()
    }
    return Facts(scope="site", indicators=indicators, **kwargs)


def _area(**kwargs) -> Facts:
    return Facts(scope="admin_area", **kwargs)


# Test modules are imported with --import-mode=importlib, so helpers travel as fixtures.
@pytest.fixture
def site():
    return _site


@pytest.fixture
def area():
    return _area


@pytest.fixture
def served(app):
    """The app served over HTTP on a free port (threaded), for real concurrent requests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)

"""English and French: which language a request gets, and the labels of the risk
vocabulary (JIAF phases, site types, confidence, recency) in both."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_babel import (Babel, format_date, format_datetime, format_decimal, format_percent,
                         lazy_gettext as _l)

from crisis_ct.languages import DEFAULT_LANGUAGE, LANGUAGES as SUPPORTED_LANGUAGES
SESSION_KEY = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

# JIAF phase names (domain.md §2.1), as coordinators know them from HNO maps.
PHASE_LABELS = {
    1: _l("Minimal"),
    2: _l("Stress"),
    3: _l("Severe"),
    4: _l("Extreme"),
    5: _l("Catastrophic"),
}
NOT_ASSESSED = _l("Not assessed")
INSUFFICIENT_DATA = _l("Insufficient data")
NO_SITES = _l("No sites")

DOMAIN_LABELS = {
    "V": _l("Vulnerability"),
    "R": _l("Recruitment and exposure"),
    "E": _l("Exploitation signals"),
    "S": _l("Site safety"),
    "C": _l("Response capacity"),
}
SITE_TYPE_LABELS = {
    "planned_camp": _l("Planned camp"),
    "self_settled": _l("Self-settled site"),
    "collective_centre": _l("Collective centre"),
    "transit_centre": _l("Reception / transit centre"),
    "border_point": _l("Border crossing point"),
    "informal_settlement": _l("Informal settlement"),
    "host_community": _l("Dispersed in host community"),
}
CONFIDENCE_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
RECENCY_LABELS = {"current": _l("Current"), "ageing": _l("Ageing"), "expired": _l("Expired")}
DISCLAIMER = _l("Indicative, based on key informants — not prevalence, not case data.")


def phase_label(phase: int | None) -> str:
    return str(PHASE_LABELS.get(phase, NOT_ASSESSED))


def area_status_label(status: str | None, phase: int | None) -> str:
    """An area is shown by its phase only when classified; never as phase 1 for lack of data."""
    if status == "insufficient_data":
        return str(INSUFFICIENT_DATA)
    if status == "no_sites":
        return str(NO_SITES)
    return phase_label(phase)


def _label(table: dict, code: str | None) -> str:
    if code is None:
        return "—"
    return str(table.get(code, code))


def site_type_label(code: str | None) -> str:
    return _label(SITE_TYPE_LABELS, code)


def confidence_label(code: str | None) -> str:
    return _label(CONFIDENCE_LABELS, code)


def recency_label(code: str | None) -> str:
    return _label(RECENCY_LABELS, code)


def domain_label(code: str | None) -> str:
    return _label(DOMAIN_LABELS, code)


def format_iso_date(value: str | None) -> str:
    """An ISO date from the GeoJSON ('2026-03-01' or a timestamp) in the page's locale."""
    if not value:
        return "—"
    try:
        return format_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def format_share(percent: float | None) -> str:
    """A percentage given as 0–100 (as scoring stores it), e.g. '25 %' in French."""
    if percent is None:
        return "—"
    return format_percent(percent / 100, format="#,##0.#%")


def _preferred_language_of_user() -> str | None:
    # Imported here: accounts needs the database, the labels above must not.
    from crisis_ct.accounts.auth import current_principal

    principal = current_principal()
    # Only a language the person chose: the languages they work in are for matching tasks,
    # and a default would override the browser (a French browser got English pages).
    return None if principal is None else principal.preferred_language


def select_locale() -> str:
    """Chosen in the session, else the user's preferred language, else the browser's."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = session.get(SESSION_KEY)
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    preferred = _preferred_language_of_user()
    if preferred in SUPPORTED_LANGUAGES:
        return preferred
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES, default=DEFAULT_LANGUAGE)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        phase_label=phase_label,
        area_status_label=area_status_label,
        site_type_label=site_type_label,
        confidence_label=confidence_label,
        recency_label=recency_label,
        domain_label=domain_label,
        format_iso_date=format_iso_date,
        format_share=format_share,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        SUPPORTED_LANGUAGES=SUPPORTED_LANGUAGES,
    )

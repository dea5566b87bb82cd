"""Wording every product of crisis-ct carries (domain.md §2.5, §4.5)."""

DISCLAIMER = {
    "en": "Indicative, based on key informants — not prevalence, not case data.",
    "fr": "Indicatif, fondé sur des informateurs clés — ni prévalence, ni données de cas.",
}

"""The languages crisis-ct speaks: its pages, the catalogues' labels, score explanations and
task texts. Adding one means translating all of them (forms/ and crisis_ct/web/translations)."""

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"

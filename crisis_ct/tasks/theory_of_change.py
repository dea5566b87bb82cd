"""IOM's counter-trafficking theory-of-change areas (forms/theory_of_change.yaml): the ids a
mitigation rule's `toc_area` may name, with their EN/FR labels. Checked when loaded, with
errors naming the file and the field, like the rules file that refers to them."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping

from crisis_ct.catalogues import read_yaml

DEFAULT = Path(__file__).resolve().parents[2] / "forms" / "theory_of_change.yaml"
LANGUAGES = ("en", "fr")


class TheoryOfChangeError(ValueError):
    def __init__(self, path: Path | str, message: str, *, field: str | None = None):
        super().__init__(f"{path}: field {field}: {message}" if field else f"{path}: {message}")
        self.path = str(path)
        self.field = field


def load_toc_areas(path: Path | str = DEFAULT) -> dict[str, dict[str, str]]:
    """Area id -> {"en": label, "fr": label}, in the file's order."""
    path = Path(path)
    return parse_toc_areas(read_yaml(path, lambda message: TheoryOfChangeError(path, message)), path)


def parse_toc_areas(raw: object, path: Path | str = "<data>") -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict) or set(raw) != {"areas"}:
        raise TheoryOfChangeError(path, "expected one top-level key, areas")
    areas = raw["areas"]
    if not isinstance(areas, dict) or not areas:
        raise TheoryOfChangeError(path, "expected a mapping of area ids to en/fr labels", field="areas")
    result: dict[str, dict[str, str]] = {}
    for area_id, labels in areas.items():
        field = f"areas.{area_id}"
        if not isinstance(area_id, str) or not area_id.replace("_", "").isalnum():
            raise TheoryOfChangeError(path, "an id is letters, digits and _ only", field=field)
        if not isinstance(labels, dict) or set(labels) != set(LANGUAGES):
            raise TheoryOfChangeError(path, "expected exactly en and fr labels", field=field)
        for language in LANGUAGES:
            if not isinstance(labels[language], str) or not labels[language].strip():
                raise TheoryOfChangeError(path, f"missing {language.upper()} label", field=f"{field}.{language}")
        result[area_id] = {language: labels[language].strip() for language in LANGUAGES}
    return result


@lru_cache(maxsize=1)
def toc_areas() -> Mapping[str, Mapping[str, str]]:
    """The default file, loaded once per process."""
    return load_toc_areas()


def toc_label(area_id: str | None, language: str) -> str:
    if area_id is None:
        return ""
    labels = toc_areas().get(area_id)
    return labels.get(language, labels["en"]) if labels else area_id

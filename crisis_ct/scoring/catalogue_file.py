"""Reading forms/indicators.yaml into a Catalogue, checking every entry: a mistake is
reported with the file, the entry (indicator id or key path) and the field, all problems
of one file at once."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

from crisis_ct.catalogues import read_yaml
from crisis_ct.scoring.catalogue import (
    COMBINES, DEFAULT_CATALOGUE_PATH, DOMAINS, LANGUAGES, MAX_PHASE, MIN_PHASE, REPO_ROOT, Catalogue,
    CatalogueError, Choice, Detail, Indicator, Settings, _CODE_PATTERN, _EntryError, _ID_PATTERN,
)

def load_catalogue(path: Path | str = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    path = Path(path)
    source = _display_path(path)
    return parse_catalogue(read_yaml(path, lambda message: CatalogueError([f"{source}: {message}"])), source)


def parse_catalogue(data: Any, source: str = "<catalogue>") -> Catalogue:
    """Validate already-parsed YAML data; `source` names the file in error messages."""
    problems: list[str] = []

    def collect(entry: str, build):
        try:
            return build()
        except _EntryError as exc:
            problems.append(f"{source}: {entry}: field {exc.field_name!r}: {exc.message}")
            return None

    if not isinstance(data, dict):
        raise CatalogueError([f"{source}: top level: field '(file)': expected a mapping"])
    collect("top level", lambda: _check_keys(data, _TOP_KEYS, _TOP_KEYS, prefix=""))
    version = collect("top level", lambda: _text(data.get("version"), "version"))
    settings = collect("settings", lambda: _settings(data.get("settings")))
    answer_types = collect("answer_types", lambda: _answer_types(data.get("answer_types"))) or {}
    raw_indicators = data.get("indicators")
    if not isinstance(raw_indicators, list) or not raw_indicators:
        problems.append(f"{source}: indicators: field 'indicators': expected a non-empty list")
        raw_indicators = []

    indicators: list[Indicator] = []
    for position, raw in enumerate(raw_indicators, start=1):
        entry = _entry_name(raw, position)
        built = collect(entry, lambda: _indicator(raw, answer_types))
        if built is not None:
            indicators.append(built)
    for entry, field_name, message in _cross_checks(indicators):
        problems.append(f"{source}: {entry}: field {field_name!r}: {message}")
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        version=version,
        settings=settings,
        indicators=tuple(indicators),
        answer_types=tuple((name, choices) for name, choices in answer_types.items()),
        source=source,
    )


# --------------------------------------------------------------------- validation

_TOP_KEYS = {"version", "settings", "answer_types", "indicators"}
_INDICATOR_REQUIRED = {
    "id", "domain", "critical", "type", "combine", "missing", "sensitive",
    "transit_only", "name", "question",
}
_INDICATOR_OPTIONAL = {"phases", "thresholds", "choices", "details", "asked_if", "hint"}
_SETTINGS_RANGES: dict[str, tuple[type, float, float]] = {
    # name: (type, lowest allowed, highest allowed)
    "area_threshold_share": (float, 0.0, 1.0),
    "area_min_sites": (int, 1, math.inf),
    "area_min_population_coverage": (float, 0.0, 1.0),
    "current_days": (int, 1, math.inf),
    "expired_days": (int, 1, math.inf),
    "min_kis": (int, 1, math.inf),
    "round_window_days": (int, 1, math.inf),
}


def _entry_name(raw: Any, position: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return f"indicator {raw['id']}"
    return f"indicator #{position}"


def _check_keys(raw: Any, required: set[str], allowed: set[str], prefix: str) -> None:
    if not isinstance(raw, dict):
        raise _EntryError(prefix or "(entry)", "expected a mapping")
    for key in raw:
        if key not in allowed:
            raise _EntryError(f"{prefix}{key}", f"unknown key; expected one of {sorted(allowed)}")
    for key in sorted(required):
        if key not in raw:
            raise _EntryError(f"{prefix}{key}", "missing")


def _text(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _EntryError(field_name, "expected non-empty text (quote it in YAML)")
    return value


def _flag(value: Any, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise _EntryError(field_name, "expected true or false")
    return value


def _code(value: Any, field_name: str) -> str:
    # Unquoted yes/no are booleans in YAML; in code positions they can only mean the codes.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if not isinstance(value, str) or not _CODE_PATTERN.match(value):
        raise _EntryError(field_name, f"code {value!r} must be lower-case letters, digits, _")
    return value


def _labels(value: Any, field_name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _EntryError(field_name, f"expected labels {{{', '.join(LANGUAGES)}}}")
    for lang in value:
        if lang not in LANGUAGES:
            raise _EntryError(field_name, f"unknown language {lang!r}; expected {LANGUAGES}")
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise _EntryError(field_name, f"label '{lang}' missing or empty (quote it in YAML)")
    return {lang: value[lang] for lang in LANGUAGES}


def _phase(value: Any, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PHASE <= value <= MAX_PHASE:
        raise _EntryError(field_name, f"phase {value!r} must be a whole number {MIN_PHASE}..{MAX_PHASE}")
    return value


def _settings(raw: Any) -> Settings:
    _check_keys(raw, set(_SETTINGS_RANGES), set(_SETTINGS_RANGES), prefix="")
    values: dict[str, Any] = {}
    for name, (kind, low, high) in _SETTINGS_RANGES.items():
        value = raw[name]
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (kind is int and not isinstance(value, int)):
            raise _EntryError(name, f"expected a {'whole ' if kind is int else ''}number")
        if not low <= value <= high:
            raise _EntryError(name, f"{value} is outside {low}..{high}")
        values[name] = kind(value)
    if values["area_threshold_share"] == 0:
        raise _EntryError("area_threshold_share", "must be above 0")
    if values["expired_days"] <= values["current_days"]:
        raise _EntryError("expired_days", "must be greater than current_days")
    return Settings(**values)


def _choice_labels(raw: Any, field_name: str) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict) or not raw:
        raise _EntryError(field_name, "expected a non-empty mapping of code -> labels")
    return {_code(code, field_name): value for code, value in raw.items()}


def _answer_types(raw: Any) -> dict[str, tuple[Choice, ...]]:
    if not isinstance(raw, dict) or not raw:
        raise _EntryError("answer_types", "expected a mapping of answer types")
    result = {}
    for name, spec in raw.items():
        _code(name, "answer_types")
        _check_keys(spec, {"choices"}, {"choices"}, prefix=f"{name}.")
        choices = _choice_labels(spec["choices"], f"{name}.choices")
        result[name] = tuple(
            Choice(code, _labels(labels, f"{name}.choices.{code}"), None)
            for code, labels in choices.items()
        )
    return result


def _indicator(raw: Any, answer_types: dict[str, tuple[Choice, ...]]) -> Indicator:
    _check_keys(raw, _INDICATOR_REQUIRED, _INDICATOR_REQUIRED | _INDICATOR_OPTIONAL, prefix="")
    indicator_id = raw["id"]
    if not isinstance(indicator_id, str) or not _ID_PATTERN.match(indicator_id):
        raise _EntryError("id", f"{indicator_id!r} must look like POP_UASC (A-Z, 0-9, _)")
    if raw["domain"] not in DOMAINS:
        raise _EntryError("domain", f"{raw['domain']!r} is not one of {DOMAINS}")
    if raw["combine"] not in COMBINES:
        raise _EntryError("combine", f"{raw['combine']!r} is not one of {COMBINES}")
    if not isinstance(raw["missing"], list):
        raise _EntryError("missing", "expected a list of codes")
    missing = frozenset(_code(code, "missing") for code in raw["missing"])

    type_name = raw["type"]
    thresholds: tuple[tuple[int, int], ...] = ()
    if type_name == "int":
        answer_type, list_name, choices = "integer", None, ()
        thresholds = _thresholds(raw.get("thresholds"))
        _forbid(raw, ("phases", "choices", "details"), "int")
        if missing:
            raise _EntryError("missing", "an int question has no codes; leave the list empty")
    elif type_name == "select_multiple":
        answer_type, list_name = "select_multiple", indicator_id.lower()
        choices = _own_choices(raw.get("choices"), missing)
        _forbid(raw, ("phases", "thresholds"), "select_multiple")
    elif type_name in answer_types:
        answer_type, list_name = "select_one", type_name
        choices = _phased_choices(raw.get("phases"), answer_types[type_name], missing, type_name)
        _forbid(raw, ("choices", "thresholds"), type_name)
    else:
        known = sorted(answer_types) + ["int", "select_multiple"]
        raise _EntryError("type", f"{type_name!r} is not one of {known}")

    _check_combine(raw["combine"], answer_type, choices)
    asked_if = None
    if "asked_if" in raw:
        _check_keys(raw["asked_if"], {"indicator", "answer"}, {"indicator", "answer"}, "asked_if.")
        asked_if = (raw["asked_if"]["indicator"], _code(raw["asked_if"]["answer"], "asked_if.answer"))
    return Indicator(
        id=indicator_id,
        name=indicator_id.lower(),
        domain=raw["domain"],
        critical=_flag(raw["critical"], "critical"),
        answer_type=answer_type,
        list_name=list_name,
        choices=choices,
        combine=raw["combine"],
        missing=missing,
        thresholds=thresholds,
        sensitive=_flag(raw["sensitive"], "sensitive"),
        transit_only=_flag(raw["transit_only"], "transit_only"),
        label=_labels(raw["name"], "name"),
        question=_labels(raw["question"], "question"),
        hint=_labels(raw["hint"], "hint") if "hint" in raw else None,
        details=_details(raw.get("details"), answer_type, choices),
        asked_if=asked_if,
    )


def _forbid(raw: dict, keys: tuple[str, ...], type_name: str) -> None:
    for key in keys:
        if key in raw:
            raise _EntryError(key, f"not used with type {type_name}; remove it")


def _check_combine(combine: str, answer_type: str, choices: tuple[Choice, ...]) -> None:
    if (combine == "mean_1sd") != (answer_type == "integer"):
        raise _EntryError("combine", "mean_1sd is for int questions and int questions use mean_1sd")
    if answer_type == "select_multiple" and combine != "max":
        raise _EntryError("combine", "select_multiple answers are combined with max")
    if combine == "yes_prevails" and "yes" not in {c.code for c in choices}:
        raise _EntryError("combine", "yes_prevails needs a 'yes' choice; use max for scales")


def _phased_choices(raw: Any, scale: tuple[Choice, ...], missing: frozenset[str],
                    type_name: str) -> tuple[Choice, ...]:
    if not isinstance(raw, dict) or not raw:
        raise _EntryError("phases", "expected a mapping of answer code -> phase")
    codes = [c.code for c in scale]
    phases: dict[str, int] = {}
    for raw_code, value in raw.items():
        code = _code(raw_code, "phases")
        if code not in codes:
            raise _EntryError("phases", f"code {code!r} is not a choice of answer type {type_name}")
        phases[code] = _phase(value, f"phases.{code}")
    for code in missing:
        if code not in codes:
            raise _EntryError("missing", f"code {code!r} is not a choice of answer type {type_name}")
        if code in phases:
            raise _EntryError("missing", f"code {code!r} is both scored and missing")
    for code in codes:
        if code not in phases and code not in missing:
            raise _EntryError("phases", f"code {code!r} has no phase and is not in missing")
    return tuple(Choice(c.code, c.label, phases.get(c.code)) for c in scale)


def _own_choices(raw: Any, missing: frozenset[str]) -> tuple[Choice, ...]:
    choices = []
    for code, spec in _choice_labels(raw, "choices").items():
        where = f"choices.{code}"
        if not isinstance(spec, dict):
            raise _EntryError(where, "expected {en, fr, phase}")
        labels = _labels({k: v for k, v in spec.items() if k != "phase"}, where)
        if code in missing:
            if spec.get("phase") is not None:
                raise _EntryError(f"{where}.phase", "a code in missing carries no phase")
            choices.append(Choice(code, labels, None))
        elif "phase" not in spec:
            raise _EntryError(f"{where}.phase", "missing (or list the code in missing)")
        else:
            choices.append(Choice(code, labels, _phase(spec["phase"], f"{where}.phase")))
    unknown = missing - {c.code for c in choices}
    if unknown:
        raise _EntryError("missing", f"codes {sorted(unknown)} are not choices")
    return tuple(choices)


def _thresholds(raw: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list) or not raw:
        raise _EntryError("thresholds", "expected a list of {min, phase}")
    result: list[tuple[int, int]] = []
    for position, item in enumerate(raw, start=1):
        where = f"thresholds[{position}]"
        _check_keys(item, {"min", "phase"}, {"min", "phase"}, prefix=f"{where}.")
        minimum = item["min"]
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            raise _EntryError(f"{where}.min", f"{minimum!r} must be a whole number >= 0")
        if result and minimum <= result[-1][0]:
            raise _EntryError(f"{where}.min", "mins must increase")
        result.append((minimum, _phase(item["phase"], f"{where}.phase")))
    if result[0][0] != 0:
        raise _EntryError("thresholds[1].min", "the first min must be 0 so every count has a phase")
    return tuple(result)


def _details(raw: Any, answer_type: str, choices: tuple[Choice, ...]) -> tuple[Detail, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise _EntryError("details", "expected a non-empty list")
    if answer_type != "select_one" or "yes" not in {c.code for c in choices}:
        raise _EntryError("details", "details follow a yes/no question")
    details = []
    for position, item in enumerate(raw, start=1):
        where = f"details[{position}]"
        keys = {"name", "question", "choices"}
        _check_keys(item, keys, keys, prefix=f"{where}.")
        name = _code(item["name"], f"{where}.name")
        labels = _choice_labels(item["choices"], f"{where}.choices")
        detail_choices = tuple(
            Choice(code, _labels(value, f"{where}.choices.{code}"), None)
            for code, value in labels.items()
        )
        details.append(Detail(name, name, _labels(item["question"], f"{where}.question"),
                              detail_choices))
    return tuple(details)


def _cross_checks(indicators: list[Indicator]) -> Iterable[tuple[str, str, str]]:
    """Checks across entries: unique ids and question names, asked_if targets."""
    seen_names: dict[str, str] = {}
    by_id = {ind.id: ind for ind in indicators}
    for ind in indicators:
        entry = f"indicator {ind.id}"
        names = [("id", ind.name)] + [("details", d.name) for d in ind.details]
        for field_name, name in names:
            if name in seen_names:
                yield entry, field_name, f"question name {name!r} already used by {seen_names[name]}"
            else:
                seen_names[name] = entry
        if ind.asked_if is None:
            continue
        target_id, answer = ind.asked_if
        target = by_id.get(target_id)
        if target is None or target is ind:
            yield entry, "asked_if.indicator", f"{target_id!r} is not another indicator"
        elif answer not in {c.code for c in target.choices}:
            yield entry, "asked_if.answer", f"{answer!r} is not a choice of {target_id}"


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)



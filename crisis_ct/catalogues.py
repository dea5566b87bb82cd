"""The data files coordinators tune (forms/indicators.yaml, forms/mitigation_rules.yaml and
the theory-of-change areas its rules name, forms/theory_of_change.yaml),
loaded once and checked together when the app starts: a mistake stops the service with
a message naming the file, the entry and the field, instead of surfacing mid-request."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import yaml


def validate_all() -> None:
    from crisis_ct.scoring.service import catalogue
    from crisis_ct.tasks.service import catalogues

    catalogue()
    catalogues()


def read_yaml(path: Path, error: Callable[[str], Exception]) -> object:
    """A data file's YAML; an unreadable file or broken YAML raises `error(message)`, which
    names the file the way its loader names everything else."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {exc}") from exc

"""The data files coordinators tune (forms/indicators.yaml, forms/mitigation_rules.yaml,
forms/service_types.yaml),
loaded once and checked together when the app starts: a mistake stops the service with
a message naming the file, the entry and the field, instead of surfacing mid-request."""
from __future__ import annotations


def validate_all() -> None:
    from crisis_ct.scoring.service import catalogue
    from crisis_ct.referral.service_types import validate_with_rules
    from crisis_ct.tasks.service import catalogues

    catalogue()
    catalogues()
    validate_with_rules()  # forms/service_types.yaml, and the rules' service_types against it

"""The OpenAPI spec says what the API really does (issue 13, item 9): schemathesis generates
requests for every operation from /api/v1/openapi.json and sends them to the app, as a
coordinator and as a viewer, on both databases. No answer may be a server error, and every
answer must match what the spec documents for it: status, content type and body (errors
included: {"error": {code, message, details}}).

Cases are valid requests and invalid ones (wrong types, out-of-range numbers, missing
fields), which must be refused with a documented 4xx. Bounded and deterministic: a fixed
number of cases per operation and role, derandomized, so a failure is the same failure on
the next run."""
from __future__ import annotations

import pytest

from tests.conftest import auth
from tests.web.conftest import scored  # noqa: F401 - the fixture: an operation scored with tasks

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,  # noqa: E402
                                               status_code_conformance)

CASES_PER_OPERATION = 6  # × ~24 operations × 2 roles ≈ 300 requests per backend
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = {"coordinator": "coord@example.org", "viewer": "viewer@example.org"}


def _token(seed, email: str) -> str:
    from crisis_ct.accounts.audit import Actor
    from crisis_ct.accounts.operations import create_token

    with seed.database.session() as session:
        return create_token(session, Actor.system("test"), email)[1]


def _exercise(operation, headers: dict) -> list[str]:
    """Runs the operation's cases; returns what failed (empty: all passed)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    failures: list[str] = []

    @settings(max_examples=CASES_PER_OPERATION, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
           | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Exception as error:  # noqa: BLE001 - collected, reported together below
        failures.append(f"{operation.label}: {error}")
    return failures


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_operation_answers_as_the_spec_says(app, seed, scored, role):  # noqa: F811 - the fixture
    headers = auth(_token(seed, ROLES[role]))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = [failure for operation in operations for failure in _exercise(operation, headers)]
    assert failures == [], "\n\n".join(failures)

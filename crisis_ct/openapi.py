"""flask-smorest wired to our error shape, with Bearer auth declared in the spec."""
from __future__ import annotations

from flask import request
from flask_smorest import Api

from crisis_ct.accounts.auth import require_principal

from crisis_ct.errors import http_exception_response


class CrisisApi(Api):
    def handle_http_exception(self, error):
        return http_exception_response(error)


def create_api(app) -> CrisisApi:
    api = CrisisApi(app, spec_kwargs={"info": {"description": (
        "crisis-ct: trafficking-risk indicators, scores and mitigation tasks per crisis site. "
        "Scores are indicative, based on key informants — not prevalence, not case data."
    )}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]

    @app.before_request
    def _spec_needs_a_token():
        # Only /healthz is open: even the API description stays behind a token.
        if (request.endpoint or "").startswith("api-docs."):
            require_principal()

    return api

"""flask-smorest wired to our error shape, with Bearer auth declared in the spec."""
from __future__ import annotations

from flask import request
from flask_smorest import Api
from marshmallow import Schema, fields

from crisis_ct.accounts.auth import require_principal

from crisis_ct.errors import http_exception_response


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "Machine-readable, e.g. not_found, invalid"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    details = fields.Dict(required=True, metadata={
        "description": "More about it, e.g. {fields: {name: [problems]}} for invalid input; may be empty"})


class Error(Schema):
    """What every 4xx/5xx answer of the API carries (crisis_ct.errors)."""

    error = fields.Nested(ErrorDetail, required=True)


class CrisisApi(Api):
    # The spec documents this shape for every operation's error answers ("default") and for
    # its 422 on invalid parameters, as the handlers in crisis_ct.errors produce it.
    ERROR_SCHEMA = Error

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

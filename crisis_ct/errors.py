"""One error shape for every 4xx/5xx the API returns:
{"error": {"code": "...", "message": "...", "details": {...}}}"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError, InterfaceError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def error_response(status: int, code: str, message: str, details: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="crisis-ct"'
    return response


def http_exception_response(exc: HTTPException):
    status = exc.code or 500
    details = {}
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and data.get("messages"):
        # webargs/marshmallow validation: say field by field what is wrong.
        details = {"fields": data["messages"]}
    message = exc.description or exc.name
    if status == 413:
        message = "The request body is larger than this server accepts."
    return error_response(status, _CODES.get(status, "error"), message, details)


def _wants_json() -> bool:
    return not getattr(request, "blueprint", None) == "web"


def register_error_handlers(app: Flask, html_handler=None) -> None:
    """JSON errors for the API; HTML pages (when given a handler) for the web UI."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if html_handler and not _wants_json():
            return html_handler(exc.status, exc.message)
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if html_handler and not _wants_json():
            return html_handler(exc.code or 500, exc.description or exc.name)
        return http_exception_response(exc)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc):
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return error_response(503, "unavailable", "The database is unavailable; retry later.")

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")

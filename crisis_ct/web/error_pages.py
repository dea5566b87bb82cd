"""HTML error pages for the web blueprint (the API keeps its JSON errors)."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _


def _message(status: int) -> str:
    if status == 403:
        return _("You do not have access to this page. Ask a coordinator of your operation if you need it.")
    if status == 404:
        return _("This page does not exist.")
    if status == 400:
        return _("The form could not be accepted (it may have expired). Reload the page and try again.")
    if status == 401:
        return _("Please sign in.")
    return _("Something went wrong. Try again later.")


def html_error_page(status: int, _description: str | None = None):
    # The exception's own text is English and technical: show a translated one instead.
    return render_template("error.html", status=status, message=_message(status)), status


def register_web_error_pages(blueprint) -> None:
    """On the blueprint itself: flask-smorest's Api registers an app-wide JSON handler
    for HTTPException after ours, and a blueprint's handler is consulted first."""
    from werkzeug.exceptions import HTTPException

    from crisis_ct.errors import ApiError

    @blueprint.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return html_error_page(exc.code or 500)

    @blueprint.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return html_error_page(exc.status)

"""The web interface: server-rendered pages for coordinators and field experts.

init_app wires translations, CSRF, compression, security headers, fingerprinted
static files and the `web` blueprint; crisis_ct.app calls it once.
"""
from __future__ import annotations

from flask import Flask
from flask_compress import Compress

from crisis_ct.web.error_pages import html_error_page

__all__ = ["init_app", "html_error_page"]

_EXTRA_COMPRESSED_TYPES = ("application/geo+json",)


def _init_compression(app: Flask) -> None:
    compress = Compress()
    compress.init_app(app)
    # Compress builds its type set at init: extend it afterwards with what the map fetches.
    compress.compress_mimetypes_set.update(_EXTRA_COMPRESSED_TYPES)
    compress.streaming_endpoint_with_conditional.add("web.static")


def init_app(app: Flask) -> None:
    from crisis_ct.web.access import may_open
    from crisis_ct.web.blueprint import blueprint
    from crisis_ct.web.i18n import init_i18n
    from crisis_ct.web.labels import init_labels
    from crisis_ct.web.security import init_security
    from crisis_ct.web.static_assets import init_static_assets
    # Importing the view modules registers their routes on the blueprint.
    from crisis_ct.web.views import (admin, auth, dashboard, invitation, my, notifications,  # noqa: F401
                                     operations, people, places, referral, reports, risk_map, tasks)

    init_i18n(app)
    init_labels(app)
    init_security(app)
    _init_compression(app)
    init_static_assets(app)
    app.jinja_env.globals["may_open"] = may_open
    app.register_blueprint(blueprint)

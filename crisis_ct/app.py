"""The application factory: configuration, extensions, blueprints. Nothing else."""
from __future__ import annotations

from flask import Flask

from crisis_ct import catalogues, errors, health, http_policy, openapi, schemas, web, web_db
from crisis_ct.config import load_settings
from crisis_ct.exports.api import blueprint as exports_api
from crisis_ct.geography import queries as geography_queries
from crisis_ct.geography.api import blueprint as geography_api
from crisis_ct.kobo.api import blueprint as kobo_api
from crisis_ct.notifications.api import blueprint as notifications_api
from crisis_ct.referral.api import blueprint as referral_api
from crisis_ct.reports.api import blueprint as reports_api
from crisis_ct.scoring.api import blueprint as scoring_api
from crisis_ct.scoring.reads import area_map_properties, site_risk_columns
from crisis_ct.tasks.api import blueprint as tasks_api
from crisis_ct.tasks.my_api import blueprint as my_tasks_api

API_BLUEPRINTS = (geography_api, kobo_api, scoring_api, tasks_api, my_tasks_api, notifications_api, exports_api,
                  reports_api, referral_api)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # Before any route exists: every `<int:…>` path segment is bounded by what the database holds.
    app.url_map.converters["int"] = schemas.DatabaseIntConverter
    app.config.update(load_settings(config))
    catalogues.validate_all()
    web_db.init_app(app)
    http_policy.init_app(app)
    errors.register_error_handlers(app, html_handler=web.html_error_page)
    app.register_blueprint(health.blueprint)
    api = openapi.create_api(app)
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    # The map's GeoJSON carries the current risk without geography importing scoring.
    geography_queries.register_site_columns(site_risk_columns)
    geography_queries.register_area_enricher(area_map_properties)
    web.init_app(app)
    return app

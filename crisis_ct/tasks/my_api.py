"""`GET /api/v1/my`: the field expert's own view (crisis_ct.tasks.my_tasks), the data of the
/my page, which a phone keeps for when the network is gone."""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from crisis_ct.accounts.auth import require_principal, requires
from crisis_ct.tasks.my_tasks import my_tasks
from crisis_ct.tasks.schemas import MyTasksQuery
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import db_session

blueprint = Blueprint("my_tasks", __name__, url_prefix="/api/v1/my", description=(
    "Your claimed tasks with their expiry, open tasks near you that fit your expertise and "
    "languages, the key facts of their sites, and their referral contacts."))


@blueprint.get("")
@requires("expert")
@blueprint.arguments(MyTasksQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="{generated_at, user, near, held, nearby, sites, referral_contacts}")
def my_view(near=None, within_km=None):
    return jsonify(my_tasks(db_session(), require_principal(), now=utcnow(), near=near, within_km=within_km))

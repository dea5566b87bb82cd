"""The trust issue's projection property for the directory's routes: every GET route of the
referral blueprint and the referral pages, enumerated from the url_map (so a route added later is
covered), answers a viewer 403 with nothing of the directory in the body — no organisation, no
office email, no count."""
from __future__ import annotations

from tests.referral.conftest import CASE_MANAGER, add_providers
from tests.web.conftest import sign_in

REFERRAL_PAGES = {"web.service_providers", "web.new_service_provider", "web.edit_service_provider",
                  "web.import_service_providers", "web.referral_card"}


def test_every_referral_get_route_refuses_a_viewer(app, referral_world, database, seed):
    [provider_id] = add_providers(database, referral_world.operation_id, CASE_MANAGER)
    values = {"provider_id": provider_id, "pcode": "XZ01"}
    token_headers = {"Authorization": f"Bearer {seed.member('viewer2@example.org', 'viewer', 'op1')}"}
    browser = app.test_client()
    sign_in(browser, "viewer@example.org")
    seen = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not (rule.endpoint.startswith("referral.") or rule.endpoint in REFERRAL_PAGES):
            continue
        path = rule.build({name: values[name] for name in rule.arguments})[1]
        for client, headers in ((browser, {}), (app.test_client(), token_headers)):
            response = client.get(path, headers=headers)
            body = response.get_data(as_text=True)
            assert response.status_code == 403, (path, response.status_code)
            assert "Alliance CT" not in body and "alliance.example.org" not in body, path
        seen.add(rule.endpoint)
    assert {"referral.list_service_providers", "referral.get_service_provider", "referral.export_service_mapping",
            "referral.service_points"} | REFERRAL_PAGES <= seen

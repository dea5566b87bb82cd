"""What the /my page needs besides its data: its strings in the page's language (the script
draws the page, offline too, so every word it writes comes from here), and the service
worker with the list of files it keeps.

The service worker is a file of the package (static/js/my-sw.js), served under /my so its
scope covers the page; the URLs it pre-caches, fingerprinted, are written in front of it,
so a changed stylesheet or script changes the worker's bytes and the phone fetches them anew.
"""
from __future__ import annotations

import hashlib
import json

from flask import url_for
from flask_babel import gettext as _

from crisis_ct.web.i18n import (CONFIDENCE_LABELS, DOMAIN_LABELS, PHASE_LABELS, RECENCY_LABELS, SITE_TYPE_LABELS,
                                NOT_ASSESSED)
from crisis_ct.web.labels import TASK_STATUS_LABELS, priority_label
from crisis_ct.web.static_assets import STATIC_DIR, static_url

SERVICE_WORKER_FILE = "js/my-sw.js"
# What the page loads before its data: kept by the service worker at install.
SHELL_ASSETS = ("css/app.css", "css/my.css", "js/my.js", "my.webmanifest", "icons/icon-192.png",
                "icons/icon-512.png")
SCOPE = "/my"


def shell_urls() -> list[str]:
    return [url_for("web.my_page"), *(static_url(name) for name in SHELL_ASSETS)]


def service_worker_source() -> str:
    """The worker's script: the shell's URLs and a version made of them and the script, then
    the script itself."""
    script = (STATIC_DIR / SERVICE_WORKER_FILE).read_text(encoding="utf-8")
    urls = shell_urls()
    version = hashlib.sha256((json.dumps(urls) + script).encode("utf-8")).hexdigest()[:12]
    header = (f"var SHELL = {json.dumps(urls)};\nvar VERSION = {json.dumps(version)};\n"
              f"var DATA_URL = {json.dumps(url_for('web.my_data'))};\n")
    return header + script


def _table(labels: dict) -> dict:
    return {str(code): str(label) for code, label in labels.items()}


def page_strings(priorities) -> dict:
    """Every word the page's script writes, in the page's language."""
    return {
        "phases": _table(PHASE_LABELS), "not_assessed": str(NOT_ASSESSED), "domains": _table(DOMAIN_LABELS),
        "site_types": _table(SITE_TYPE_LABELS), "confidence": _table(CONFIDENCE_LABELS),
        "recency": _table(RECENCY_LABELS), "statuses": _table(TASK_STATUS_LABELS),
        "priorities": {code: priority_label(code) for code in priorities},
        "data_age": _("Data from %(age)s ago"),
        "data_now": _("Data from just now"),
        "offline": _("Offline: showing the data kept on this phone."),
        "online": _("Online."),
        "no_data": _("No data kept on this phone yet: open this page once with the network."),
        "signed_out": _("You are signed out. Sign in again to send your notes and refresh the data; "
                        "your unsent notes stay on this phone."),
        "expires_in": _("Claim expires in %(time)s"),
        "expired": _("Claim expired. Renewing needs the network."),
        "needs_network": _("Claim and renew need the network."),
        "no_held": _("You hold no task."),
        "no_nearby": _("No open task for your expertise and languages here."),
        "note_label": _("Progress note"),
        "note_hint": _("Describe site-level actions only: no names, phone numbers, exact dwellings or case "
                       "details of any person."),
        "save_note": _("Save note"),
        "mark_done": _("Mark done"),
        "claim": _("Claim"),
        "renew": _("Renew claim"),
        "queued": _("Kept on this phone, to be sent when the network returns."),
        "sending": _("Sending…"),
        "sent": _("Sent."),
        "refused": _("Refused by the server:"),
        "send_again": _("Send again"),
        "discard": _("Discard"),
        "discard_confirm": _("Discard this note for good?"),
        "outbox_title": _("Waiting to be sent"),
        "refused_title": _("Not accepted: your text is kept"),
        "completion": _("Completion"),
        "households": _("%(count)s households"),
        "assessed": _("assessed on %(date)s"),
        "km": _("%(km)s km"),
        "site_facts": _("Site"),
        "due": _("Due %(date)s"),
        "confidence_label": _("confidence"),
        "locating": _("Finding your location…"),
        "location_failed": _("Your location is not available."),
        "minutes": _("%(n)s min"),
        "hours": _("%(n)s h"),
        "days": _("%(n)s d"),
        "sites_count": _("%(n)s sites"),
        "where_to_refer": _("Where to refer"),
        "no_referral": _("No provider in the referral directory covers this place for these services."),
        "languages_label": _("Languages:"),
        "requirements_label": _("Referral requirements:"),
        "last_verified": _("Last verified on"),
        "never_verified": _("never verified"),
        # Refusals by the server's error code; others show the server's own message.
        "errors": {
            "claim_expired": _("Your claim on this task expired before this arrived. Claim the task again, "
                               "then send it again."),
            "not_holder": _("You no longer hold this task."),
            "conflict": _("The task changed meanwhile (done, released or cancelled)."),
            "not_found": _("This task no longer exists or is not yours to see."),
        },
    }

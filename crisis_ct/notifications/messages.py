"""The words of a notification, in the person's language (English or French): the line the
bell shows, and the email. An email carries the notification's subject (task title, admin
area) and a link to crisis-ct, nothing more: mail passes through servers crisis-ct does not
control, so no answers, no site-level risk, nobody's identity — the link opens the details
after sign-in."""
from __future__ import annotations

from typing import Mapping, Sequence

from crisis_ct.notifications.rules import NotificationRules

LANGUAGES = ("en", "fr")
_WORDS = {
    "en": {
        "open": "Open in crisis-ct (sign-in needed):",
        "digest_subject": "crisis-ct: {count} notifications",
        "digest_intro": "What happened in crisis-ct for you:",
        "footer": "You receive this because of your notification settings in crisis-ct: {url}",
        "unknown": "A notification from crisis-ct",
    },
    "fr": {
        "open": "Ouvrir dans crisis-ct (connexion requise) :",
        "digest_subject": "crisis-ct : {count} notifications",
        "digest_intro": "Ce qui s’est passé pour vous dans crisis-ct :",
        "footer": "Vous recevez ce message selon vos réglages de notification dans crisis-ct : {url}",
        "unknown": "Une notification de crisis-ct",
    },
}


def language_of(preferred: str | None, working_languages: Sequence[str] | None) -> str:
    """The page language the person chose, else the first of their working languages we speak."""
    if preferred in LANGUAGES:
        return preferred
    return next((lang for lang in working_languages or () if lang in LANGUAGES), "en")


def subject_line(rules: NotificationRules, kind: str, payload: Mapping, language: str) -> str:
    rule = rules.get(kind)
    if rule is None:  # a rule switched off since: its stored rows still read sensibly
        return _WORDS[language]["unknown"]
    return rule.subject_in(language, payload)


def email_text(rules: NotificationRules, notifications: Sequence, language: str, public_url: str) -> tuple[str, str]:
    """(subject, body) of one email about one or several notifications."""
    words, base = _WORDS[language], public_url.rstrip("/")
    lines = [(subject_line(rules, n.kind, n.payload, language), f"{base}/notifications/{n.id}") for n in notifications]
    footer = words["footer"].format(url=f"{base}/notifications/preferences")
    if len(lines) == 1:
        subject, link = lines[0]
        return subject, f"{subject}\n\n{words['open']}\n{link}\n\n-- \n{footer}\n"
    body = [words["digest_intro"], ""]
    for subject, link in lines:
        body += [f"- {subject}", f"  {link}"]
    return (words["digest_subject"].format(count=len(lines)),
            "\n".join(body) + f"\n\n-- \n{footer}\n")


def notification_json(rules: NotificationRules, row, language: str) -> dict:
    """One notification as the API and the page show it to its own recipient."""
    return {
        "id": row.id, "kind": row.kind, "priority": row.priority,
        "subject": subject_line(rules, row.kind, row.payload, language),
        "link": (row.payload or {}).get("link"), "payload": row.payload,
        "created_at": row.created_at.isoformat(), "read_at": row.read_at.isoformat() if row.read_at else None,
    }

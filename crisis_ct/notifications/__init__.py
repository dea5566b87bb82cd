"""Notifications: what to tell whom (forms/notification_rules.yaml, rules.py), found by the
worker in what the other domains record (detect*.py), stored once per person and event
(store.py), shown under the bell and mailed by the worker (delivery.py), as each person
chose (preferences.py)."""

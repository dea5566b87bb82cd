"""Wire formats of the notifications API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from crisis_ct.notifications.preferences import DELIVERIES
from crisis_ct.schemas import PageQuery

_CLOCK = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a time HH:MM")


class NotificationsQuery(PageQuery):
    unread = fields.Boolean(metadata={"description": "Only notifications not yet read"})
    lang = fields.String(validate=validate.OneOf(("en", "fr")),
                         metadata={"description": "Language of `subject` (default: your page language)"})


class PreferencesBody(Schema):
    """Any of the fields; those left out keep their value."""
    in_app = fields.Boolean(metadata={"description": "Show notifications under the bell"})
    email = fields.Boolean(metadata={"description": "Email them"})
    delivery = fields.String(validate=validate.OneOf(DELIVERIES),
                             metadata={"description": "immediate, or digest: one email a day (urgent ones at once)"})
    digest_hour = fields.Integer(validate=validate.Range(min=0, max=23),
                                 metadata={"description": "Local hour of the daily digest"})
    quiet_start = fields.String(allow_none=True, validate=_CLOCK,
                                metadata={"description": "Local HH:MM from which no email is sent (with quiet_end)"})
    quiet_end = fields.String(allow_none=True, validate=_CLOCK, metadata={"description": "Local HH:MM"})
    timezone = fields.String(validate=validate.Length(min=1, max=64),
                             metadata={"description": "IANA time zone, e.g. Africa/Kinshasa"})
    areas = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=200),
                        metadata={"description": "P-codes whose tasks and sites interest you (empty: everywhere)"})
    near_lon = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    near_lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    radius_km = fields.Float(allow_none=True, validate=validate.Range(min=0, max=2000, min_inclusive=False),
                             metadata={"description": "With near_lon/near_lat: tasks and sites within this distance"})

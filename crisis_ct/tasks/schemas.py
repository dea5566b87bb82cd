"""Wire formats of the task API."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crisis_ct.schemas import OperationQuery, PageQuery
from crisis_ct.tasks import states

COMMENT_HELP = ("Optional free-text note, stored in the task history. Do not write names, phone numbers, "
                "exact dwellings or case details of any person: describe site-level actions only.")


class LonLatField(fields.Field):
    """`near=LON,LAT` in degrees."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            lon, lat = (float(v) for v in str(value).split(","))
        except ValueError as exc:
            raise ValidationError("near must be two numbers: LON,LAT") from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError("near must be LON,LAT in degrees")
        return lon, lat


class TasksQuery(OperationQuery, PageQuery):
    status = fields.String(validate=validate.OneOf(states.STATES),
                           metadata={"description": "A task whose claim lapsed counts as open"})
    priority = fields.String(metadata={"description": "Priority code, e.g. P1"})
    expertise = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_]{1,20}$", error="an expertise tag such as CP"),
                              metadata={"description": "Tasks needing this expertise tag, e.g. CP"})
    language = fields.String(metadata={"description": (
        "Only tasks of operations that work in this language (the operation's languages, e.g. fr); "
        "`mine` = operations using any of your own languages")})
    site_id = fields.String(metadata={"description": "Site id (code)"})
    pcode = fields.String(metadata={"description": "Tasks of sites in this admin area (any level) or of the area"})
    needs_review = fields.Boolean(metadata={"description": "Only tasks flagged (or not) for review"})
    near = LonLatField(metadata={"description": "LON,LAT: site tasks sorted by distance, then priority"})
    within_km = fields.Float(validate=validate.Range(min=0, max=20000),
                             metadata={"description": "With near: only tasks within this distance"})

    @validates_schema
    def _within_needs_near(self, data, **_kwargs):
        if "within_km" in data and "near" not in data:
            raise ValidationError("within_km needs near=LON,LAT", "within_km")


class CommentBody(Schema):
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                            metadata={"description": COMMENT_HELP})


class NoteBody(CommentBody):
    client_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": (
        "A UUID the client made for this note. The first request with it is applied; a resend "
        "(the answer was lost, the phone was offline) gets the first answer back and changes nothing.")})


class AssignBody(CommentBody):
    email = fields.Email(required=True)
    expires_hours = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=24 * 90),
                                   metadata={"description": "Claim length; default: the priority's claim hours"})


class MyTasksQuery(Schema):
    near = LonLatField(metadata={"description": "LON,LAT where you are: nearby open tasks nearest first"})
    within_km = fields.Float(validate=validate.Range(min=0, max=20000),
                             metadata={"description": "With near: how far to look (default 50 km)"})

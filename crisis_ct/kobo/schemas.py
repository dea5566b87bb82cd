from __future__ import annotations

from marshmallow import Schema, fields, validate

from crisis_ct.schemas import OperationQuery, PageQuery
from crisis_ct.scoring.counted import is_counted


class SubmissionsQuery(OperationQuery, PageQuery):
    site_id = fields.String(metadata={"description": "Site id (code) of the operation"})
    since = fields.Date(metadata={"description": "Assessment date on or after (YYYY-MM-DD)"})
    until = fields.Date(metadata={"description": "Assessment date on or before (YYYY-MM-DD)"})


class QuarantineQuery(OperationQuery, PageQuery):
    pass


class SubmissionSchema(Schema):
    id = fields.Integer()
    site_id = fields.String()
    kobo_id = fields.Integer(allow_none=True)
    instance_id = fields.String()
    assessment_date = fields.Date()
    submitted_at = fields.DateTime(allow_none=True)
    ki_role = fields.String(allow_none=True)
    matched_by = fields.String(validate=validate.OneOf(["site_id", "location"]))
    version_count = fields.Integer()
    received_via = fields.String()
    validation_status = fields.Method("review_status", metadata={
        "description": "Kobo's review: approved, not_approved (not counted in scores), on_hold (counted, "
                       "flagged) or null"})
    validation_timestamp = fields.Integer(allow_none=True, metadata={"description": "When it was reviewed "
                                                                                     "(Unix seconds, Kobo's)"})
    withdrawn_at = fields.DateTime(allow_none=True, metadata={"description": "Gone from Kobo (deleted there): "
                                                                             "kept, not counted"})
    withdrawn_reason = fields.String(allow_none=True)
    counted = fields.Method("is_counted", metadata={"description": "Whether scores count this interview"})

    def review_status(self, submission) -> str | None:
        status = submission.validation_status
        return status.removeprefix("validation_status_") if status else None

    def is_counted(self, submission) -> bool:
        return is_counted(submission.validation_status, submission.withdrawn_at)


class QuarantinedSchema(Schema):
    id = fields.Integer()
    asset_uid = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    kobo_id = fields.Integer(allow_none=True)
    reason_code = fields.String()
    reason = fields.String()
    received_via = fields.String()
    received_at = fields.DateTime()
    attempts = fields.Integer()
    last_attempt_at = fields.DateTime(allow_none=True)
    details = fields.Dict(allow_none=True, metadata={
        "description": "Facts behind the reason: nearest known sites (unknown_site), unknown questions and "
                       "choices (unknown_form_version), the version waited for (version_pending)"})
    site_id = fields.String(allow_none=True, metadata={"description": "The site id the submission names"})


class ResolveSiteSchema(Schema):
    site_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                            metadata={"description": "The operation's site the submission is about"})


class OutcomeSchema(Schema):
    status = fields.String()
    instance_id = fields.String(allow_none=True)
    submission_id = fields.Integer(allow_none=True)
    quarantine_id = fields.Integer(allow_none=True)
    reason_code = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)

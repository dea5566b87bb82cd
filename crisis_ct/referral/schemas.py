"""Wire formats of the referral directory API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from crisis_ct.schemas import OperationQuery

CONTACT_HELP = ("Institutional contacts only: the focal point's role (never a person's name), the office phone and "
                "the office email. A personal mailbox (gmail.com …) is refused.")
NEVER_LOCATED_HELP = ("A provider offering a service marked never_located in forms/service_types.yaml (safe "
                      "accommodation for victims) may have no service point: name and coordinates are refused.")


class ProvidersQuery(OperationQuery):
    service_type = fields.String(validate=validate.Regexp(r"^[a-z0-9_]{1,40}$"),
                                 metadata={"description": "Only providers offering this service type"})
    pcode = fields.String(validate=validate.Length(min=1, max=32),
                          metadata={"description": "Only providers covering this admin area (or an area above it)"})


class ExportQuery(OperationQuery):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ImportQuery(Schema):
    operation = fields.String(required=True, metadata={"description": "Operation code"})


class ProviderBody(Schema):
    operation = fields.String(metadata={"description": "Operation code (required to create)"})
    code = fields.String(allow_none=True, metadata={
        "description": "The provider's key in the operation; derived from organisation and service point if empty"})
    organisation = fields.String(allow_none=True)
    service_types = fields.List(fields.String(), metadata={"description": "Codes of forms/service_types.yaml"})
    area_pcodes = fields.List(fields.String(), metadata={"description": "P-codes of the admin areas covered"})
    service_point_name = fields.String(allow_none=True, metadata={"description": NEVER_LOCATED_HELP})
    longitude = fields.Float(allow_none=True)
    latitude = fields.Float(allow_none=True)
    languages = fields.List(fields.String())
    opening_hours = fields.String(allow_none=True)
    focal_point_role = fields.String(allow_none=True, metadata={"description": CONTACT_HELP})
    office_phone = fields.String(allow_none=True)
    office_email = fields.String(allow_none=True)
    referral_requirements = fields.String(allow_none=True)
    last_verified_on = fields.Date(allow_none=True)

from __future__ import annotations

from marshmallow import fields, validate

from crisis_ct.languages import LANGUAGES
from crisis_ct.schemas import BBoxField, OperationQuery


class SitesQuery(OperationQuery):
    bbox = BBoxField()
    pcode = fields.String(metadata={"description": "Only sites in this admin area (any level)"})


class AdminAreasQuery(OperationQuery):
    level = fields.Integer(validate=validate.Range(min=1, max=5))
    bbox = BBoxField()
    lang = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    simplify = fields.Float(validate=validate.Range(min=0, max=1),
                            metadata={"description": "Simplification tolerance in degrees (smaller maps)"})

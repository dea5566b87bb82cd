"""Wire-format pieces shared by several modules' schemas."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate


class BBoxField(fields.Field):
    """`bbox=minLon,minLat,maxLon,maxLat` as in OGC API Features."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            parts = [float(v) for v in str(value).split(",")]
        except ValueError as exc:
            raise ValidationError("bbox must be four numbers: minLon,minLat,maxLon,maxLat") from exc
        if len(parts) != 4:
            raise ValidationError("bbox must be four numbers: minLon,minLat,maxLon,maxLat")
        min_lon, min_lat, max_lon, max_lat = parts
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ValidationError("bbox must be minLon,minLat,maxLon,maxLat in degrees, min before max")
        return tuple(parts)


class OperationQuery(Schema):
    operation = fields.String(metadata={"description": "Operation code; default: all operations you belong to"})


class PageQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))

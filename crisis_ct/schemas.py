"""Wire-format pieces shared by several modules' schemas."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

# Ids are PostgreSQL `integer` (int4): a larger number cannot name a row, and sent to the
# database it fails (int4/int8 out of range, or SQLite's 64-bit limit) instead of finding none.
DB_INT_MAX = 2**31 - 1


class DatabaseIntConverter(IntegerConverter):
    """The app's `<int:…>` path converter: a number beyond DB_INT_MAX matches no route (404),
    and the OpenAPI spec states the bound."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, DB_INT_MAX if max is None else max, signed)


class DatabaseInteger(fields.Integer):
    """A query or body integer that goes into SQL: out of the database's range is a 422."""

    def __init__(self, *, minimum: int = 0, maximum: int = DB_INT_MAX, **kwargs):
        validators = [validate.Range(min=minimum, max=min(maximum, DB_INT_MAX)), *kwargs.pop("validate", ())]
        super().__init__(validate=validators, **kwargs)


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
    limit = DatabaseInteger(load_default=100, minimum=1, maximum=1000)
    offset = DatabaseInteger(load_default=0)

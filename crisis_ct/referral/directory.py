"""The directory in the database: add, change, verify, remove and import providers, and
read them back with their service point. Every change goes to the audit log in the same
transaction; the caller commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts import audit
from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.models import AdminArea
from crisis_ct.referral.entries import EntryInvalid, ProviderEntry, check_entry
from crisis_ct.referral.models import ServiceProvider, padded
from crisis_ct.referral.service_types import ServiceTypeCatalogue
from crisis_ct.referral.sheet import PCODE_COLUMNS, SheetRow, provider_cells
from crisis_ct.spatial import point_ewkt


class DuplicateCode(ValueError):
    pass


@dataclass
class ProviderView:
    """A provider with its service point's coordinates, as the pages and the API read it."""
    provider: ServiceProvider
    lon: float | None
    lat: float | None

    def __getattr__(self, name):
        return getattr(self.provider, name)


def area_levels(session: Session, operation_id: int) -> dict[str, int]:
    """P-code -> admin level, for the operation's areas."""
    return dict(session.execute(sa.select(AdminArea.pcode, AdminArea.level)
                                .where(AdminArea.operation_id == operation_id)).all())


def list_providers(session: Session, operation_ids, *, provider_id: int | None = None,
                   service_type: str | None = None, pcodes=()) -> list[ProviderView]:
    """Providers of the operations, by organisation; `pcodes`: those covering any of them."""
    if not operation_ids:
        return []
    query = (sa.select(ServiceProvider, sa.func.ST_X(ServiceProvider.geom), sa.func.ST_Y(ServiceProvider.geom))
             .where(ServiceProvider.operation_id.in_(list(operation_ids))))
    if provider_id is not None:
        query = query.where(ServiceProvider.id == provider_id)
    if service_type:
        query = query.where(ServiceProvider.service_types.like(f"% {service_type} %"))
    if pcodes:
        query = query.where(sa.or_(*(ServiceProvider.area_pcodes.like(f"% {pcode} %") for pcode in pcodes)))
    rows = session.execute(query.order_by(ServiceProvider.organisation, ServiceProvider.code)).all()
    return [ProviderView(provider, lon, lat) for provider, lon, lat in rows]


def sheet_rows(session: Session, operation_ids) -> list[dict[str, str]]:
    """The providers of the operations as the service-mapping sheet's rows."""
    levels: dict[str, int] = {}
    for operation_id in operation_ids:
        levels.update(area_levels(session, operation_id))
    return [provider_cells(view, levels) for view in list_providers(session, operation_ids)]


def _apply(provider: ServiceProvider, entry: ProviderEntry) -> None:
    provider.code = entry.code
    provider.organisation = entry.organisation
    provider.service_types = padded(entry.service_types)
    provider.area_pcodes = padded(entry.area_pcodes)
    provider.service_point_name = entry.service_point_name
    provider.geom = point_ewkt(entry.lon, entry.lat) if entry.lon is not None else None
    provider.languages = list(entry.languages)
    provider.opening_hours = entry.opening_hours
    provider.focal_point_role = entry.focal_point_role
    provider.office_phone = entry.office_phone
    provider.office_email = entry.office_email
    provider.referral_requirements = entry.referral_requirements
    provider.last_verified_on = entry.last_verified_on


def _code_taken(session: Session, operation_id: int, code: str, except_id: int | None) -> bool:
    query = sa.select(ServiceProvider.id).where(ServiceProvider.operation_id == operation_id,
                                                ServiceProvider.code == code)
    if except_id is not None:
        query = query.where(ServiceProvider.id != except_id)
    return session.scalar(query) is not None


def save_provider(session: Session, actor: Actor, operation_id: int, raw: dict, *, types: ServiceTypeCatalogue,
                  today: date, provider: ServiceProvider | None = None) -> ServiceProvider:
    """Create (provider None) or change one provider. EntryInvalid names wrong fields;
    DuplicateCode when another provider of the operation has the code."""
    entry = check_entry(raw, types=types, known_pcodes=area_levels(session, operation_id), today=today)
    if _code_taken(session, operation_id, entry.code, provider.id if provider else None):
        raise DuplicateCode(f"another provider of this operation has the code {entry.code!r}")
    created = provider is None
    if created:
        provider = ServiceProvider(operation_id=operation_id)
        session.add(provider)
    _apply(provider, entry)
    session.flush()
    audit.record(session, actor, "referral.provider_created" if created else "referral.provider_changed",
                 target_type="service_provider", target_id=provider.id, operation_id=operation_id,
                 details={"code": provider.code})
    return provider


def mark_verified(session: Session, actor: Actor, provider: ServiceProvider, today: date) -> None:
    provider.last_verified_on = today
    audit.record(session, actor, "referral.provider_verified", target_type="service_provider",
                 target_id=provider.id, operation_id=provider.operation_id, details={"on": today.isoformat()})


def delete_provider(session: Session, actor: Actor, provider: ServiceProvider) -> None:
    audit.record(session, actor, "referral.provider_deleted", target_type="service_provider",
                 target_id=provider.id, operation_id=provider.operation_id, details={"code": provider.code})
    session.delete(provider)


# --- the sheet import: every row checked first, nothing stored when one is wrong -----------------

@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)  # [{row, field, message}]

    @property
    def ok(self) -> bool:
        return not self.errors


def row_entry_fields(cells: dict[str, str]) -> dict:
    """A sheet row in the field names of check_entry; P-codes of every level together."""
    pcodes = [p for column in PCODE_COLUMNS for p in cells.get(column, "").replace(",", ";").split(";")]
    return {"code": cells.get("provider_code"), "organisation": cells.get("organisation"),
            "service_types": cells.get("service_types"), "area_pcodes": [p for p in pcodes if p.strip()],
            **{name: cells.get(name) for name in ("service_point_name", "longitude", "latitude", "languages",
                                                  "opening_hours", "focal_point_role", "office_phone",
                                                  "office_email", "referral_requirements", "last_verified_on")}}


def _sheet_field(name: str) -> str:
    return {"code": "provider_code", "area_pcodes": "adm1_pcodes/adm2_pcodes/adm3_pcodes",
            "service_point": "service_point_name/latitude/longitude"}.get(name, name)


def _level_errors(cells: dict[str, str], levels: dict[str, int]) -> dict[str, str]:
    errors = {}
    for column, level in PCODE_COLUMNS.items():
        for pcode in filter(None, (p.strip() for p in cells.get(column, "").replace(",", ";").split(";"))):
            if pcode in levels and levels[pcode] != level:
                errors[column] = f"{pcode} is an admin {levels[pcode]} P-code, not admin {level}"
    return errors


def import_rows(session: Session, actor: Actor, operation_id: int, rows: list[SheetRow], *,
                types: ServiceTypeCatalogue, today: date, source: str = "sheet") -> ImportResult:
    """All rows or none: with any error the result lists them (row, field, message) and
    nothing is written. A row whose provider_code (or derived code) exists updates it;
    providers not in the sheet are left as they are."""
    result = ImportResult()
    levels = area_levels(session, operation_id)
    entries: list[ProviderEntry] = []
    first_row: dict[str, int] = {}
    for row in rows:
        problems = _level_errors(row.cells, levels)
        try:
            entry = check_entry(row_entry_fields(row.cells), types=types, known_pcodes=levels, today=today)
        except EntryInvalid as exc:
            problems = {**{_sheet_field(name): message for name, message in exc.errors.items()}, **problems}
            entry = None
        if entry is not None and entry.code in first_row:
            problems["provider_code"] = f"the same provider as row {first_row[entry.code]} ({entry.code})"
        result.errors += [{"row": row.number, "field": name, "message": message} for name, message in problems.items()]
        if entry is not None and not problems:
            first_row[entry.code] = row.number
            entries.append(entry)
    if result.errors:
        return result
    existing = {provider.code: provider for provider in session.scalars(
        sa.select(ServiceProvider).where(ServiceProvider.operation_id == operation_id))}
    for entry in entries:
        provider = existing.get(entry.code)
        if provider is None:
            provider = ServiceProvider(operation_id=operation_id)
            session.add(provider)
            result.created += 1
        else:
            result.updated += 1
        _apply(provider, entry)
    session.flush()
    audit.record(session, actor, "referral.sheet_imported", target_type="operation", target_id=operation_id,
                 operation_id=operation_id, details={"source": source, "created": result.created,
                                                     "updated": result.updated})
    return result

"""Each dataset's columns: the key a row carries, the header a person reads, and the HXL
hashtag (shared/domain.md §5.2, §5.4) that the CSV's second row carries for HXL tools.
Attributes are lower case; custom ones follow HXL's rule (letters, digits, _)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    hxl: str


def columns(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


PHASES = ("1", "2", "3", "4", "5")
OPERATION = ("operation", "Operation", "#operation+code")


def admin_codes(*levels: int) -> tuple[tuple[str, str, str], ...]:
    return tuple((f"adm{level}_pcode", f"Admin {level} P-code", f"#adm{level}+code") for level in levels)


def admin_codes_and_names(*levels: int) -> tuple[tuple[str, str, str], ...]:
    return tuple(column for level in levels
                 for column in (*admin_codes(level), (f"adm{level}_name", f"Admin {level}", f"#adm{level}+name")))


SITES = columns(
    OPERATION,
    *admin_codes(1, 2, 3),
    ("site_id", "Site ID", "#loc+code"),
    ("name", "Site name", "#loc+name"),
    ("site_type", "Site type", "#loc+type"),
    ("lat", "Latitude", "#geo+lat"),
    ("lon", "Longitude", "#geo+lon"),
    ("population", "Individuals", "#population+num"),
    ("households", "Households", "#population+households+num"),
    ("assessment_date", "Assessment date", "#date+reported"),
    ("phase", "TIP risk severity phase", "#severity+num"),
    ("confidence", "Confidence", "#meta+confidence"),
    ("recency", "Recency", "#meta+recency"),
    *(("domain_" + d, f"Domain {d} phase", f"#severity+num+domain_{d.lower()}") for d in "VRESC"),
)

ADMIN_AREAS = columns(
    OPERATION,
    ("level", "Admin level", "#meta+level"),
    ("pcode", "P-code", "#x_pcode"),
    # The area and its parents, one pair per level: an admin 2 row fills admin 1 and 2.
    *admin_codes_and_names(1, 2, 3),
    ("status", "Status", "#status"),
    ("phase", "TIP risk severity phase", "#severity+num"),
    ("hotspot", "Hotspot", "#severity+hotspot"),
    ("confidence", "Confidence", "#meta+confidence"),
    ("sites_known", "Sites known", "#indicator+sites_known+num"),
    ("sites_assessed", "Sites assessed", "#indicator+sites_assessed+num"),
    ("population_known", "People (known)", "#population+num"),
    ("pct_sites_3plus", "% sites at phase 3+", "#indicator+sites_3plus+pct"),
    ("pct_sites_4plus", "% sites at phase 4+", "#indicator+sites_4plus+pct"),
    *((f"sites_phase_{p}", f"Sites at phase {p}", f"#indicator+sites_phase_{p}+num") for p in PHASES),
    ("computed_at", "Computed", "#date+computed"),
)

TASKS = columns(
    OPERATION,
    ("id", "Task", "#activity+code"),
    ("rule_id", "Rule", "#activity+rule+code"),
    ("title", "Title", "#activity+name"),
    ("sector", "Sector", "#sector+code"),
    ("toc_area", "Theory-of-change area", "#sector+toc+code"),
    ("priority", "Priority", "#x_priority"),
    ("status", "Status", "#status"),
    ("scope", "Scope", "#meta+scope"),
    *admin_codes(1, 2),
    ("pcode", "Admin area P-code", "#x_pcode"),
    ("site_id", "Site ID", "#loc+code"),
    ("site_name", "Site name", "#loc+name"),
    ("expertise", "Expertise", "#meta+expertise"),
    ("holder", "Held by", "#contact+name"),
    ("claimed_at", "Claimed", "#date+claimed"),
    ("due_at", "Due", "#date+due"),
    ("overdue", "Overdue", "#status+overdue"),
    ("assessment_date", "Assessment date", "#date+reported"),
    ("created_at", "Opened", "#date+opened"),
    ("updated_at", "Updated", "#date+updated"),
)

SUBMISSION_META = columns(
    OPERATION,
    ("id", "Submission", "#meta+id"),
    ("site_id", "Site ID", "#loc+code"),
    *admin_codes(1, 2),
    ("assessment_date", "Assessment date", "#date+reported"),
    ("submitted_at", "Submitted", "#date+submitted"),
    ("ki_role", "Key-informant role", "#meta+ki_role"),
    ("matched_by", "Matched by", "#meta+matched_by"),
    ("received_via", "Received via", "#meta+source"),
    ("version_count", "Versions", "#meta+versions+num"),
)


def answer_columns(indicators: Iterable) -> tuple[Column, ...]:
    """One column per catalogue indicator (crisis_ct.scoring.catalogue.Indicator): its answer."""
    return tuple(Column(f"answer_{i.id}", i.id, f"#indicator+value+{i.id.lower()}") for i in indicators)


FOUR_W = columns(
    OPERATION,
    ("organisation", "Who (organisation)", "#org+name"),
    ("rule_id", "What (rule)", "#activity+rule+code"),
    ("sector", "Sector", "#sector+code"),
    ("toc_area", "Theory-of-change area", "#sector+toc+code"),
    ("toc_label", "Theory-of-change area (label)", "#sector+toc+name"),
    ("adm1_pcode", "Where (admin 1)", "#adm1+code"),
    ("adm2_pcode", "Where (admin 2)", "#adm2+code"),
    ("pcode", "Where (admin area)", "#x_pcode"),
    ("area_name", "Admin area name", "#x_pcode+name"),
    ("status", "Status", "#status"),
    ("opened_at", "Opened", "#date+opened"),
    ("claimed_at", "Claimed", "#date+claimed"),
    ("completed_at", "Completed", "#date+completed"),
    ("overdue", "Overdue", "#status+overdue"),
)

FOUR_W_AGGREGATE = columns(
    OPERATION,
    ("organisation", "Who (organisation)", "#org+name"),
    ("sector", "Sector", "#sector+code"),
    ("toc_area", "Theory-of-change area", "#sector+toc+code"),
    ("toc_label", "Theory-of-change area (label)", "#sector+toc+name"),
    ("adm1_pcode", "Where (admin 1)", "#adm1+code"),
    ("adm2_pcode", "Where (admin 2)", "#adm2+code"),
    ("pcode", "Where (admin area)", "#x_pcode"),
    ("area_name", "Admin area name", "#x_pcode+name"),
    ("opened", "Opened", "#activity+opened+num"),
    ("claimed", "Claimed", "#activity+claimed+num"),
    ("completed", "Completed", "#activity+completed+num"),
    ("overdue", "Overdue", "#activity+overdue+num"),
)

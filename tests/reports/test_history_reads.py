"""The reduced score history read from the database holds exactly what history.as_of,
baseline and latest need, on both databases."""
from __future__ import annotations

from datetime import timedelta

from crisis_ct.geography.models import AdminArea
from crisis_ct.geography.operations import get_operation
from crisis_ct.reports import reads, scope as scopes
from crisis_ct.reports.history import as_of, baseline, latest
from crisis_ct.scoring.models import AdminAreaRiskScore
from crisis_ct.timeutil import utcnow

DAYS = (100, 95, 40, 31, 29, 10, 1)


def test_around_each_instant_the_last_before_and_the_first_after_and_the_current(database, seed):
    seed.operation("op1")
    now = utcnow()
    with database.session() as session:
        operation = get_operation(session, "op1")
        area = AdminArea(operation_id=operation.id, pcode="XZ99", level=1, name_en="Test area")
        session.add(area)
        session.flush()
        for index, days in enumerate(DAYS):
            phase = 1 + index % 5
            session.add(AdminAreaRiskScore(
                admin_area_id=area.id, operation_id=operation.id, computed_at=now - timedelta(days=days),
                is_current=days == 1, phase=phase, status="classified", hotspot=False, catalogue_version="t",
                summary={"phase": phase, "status": "classified", "sites_assessed": 3 + index}))
        session.flush()
        scope = scopes.resolve(session, operation.id, None)
        cutoff = now - timedelta(days=30)
        [points] = reads.area_histories(session, scope, [cutoff]).values()
    assert [round((now - p.computed_at).total_seconds() / 86400) for p in points] == [31, 29, 1]
    assert as_of(points, cutoff).detail == {"phase": 4, "status": "classified", "hotspot": False,
                                            "sites_assessed": 6}
    assert baseline(points, cutoff).phase == 4 and latest(points, now).phase == 2
    # 200 days back there was no score yet: the baseline is the first one after.
    with database.session() as session:
        early = now - timedelta(days=200)
        [points] = reads.area_histories(session, scopes.resolve(session, operation.id, None), [early]).values()
    assert as_of(points, early) is None
    assert baseline(points, early).phase == 1 and baseline(points, early).detail["sites_assessed"] == 3

"""Runs one full `score_all` in its own process and prints, as JSON, how long it took, how
much of it was task generation, and the process's peak memory.

    python bench/score_child.py DATABASE_URL OPERATION_CODE
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import orjson  # noqa: E402

from crisis_ct.db import Database  # noqa: E402


def _timing(function, box: list[float]):
    """Wrap `function` so the time spent in it accumulates in box[0]."""
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            box[0] += time.perf_counter() - started
    return wrapper


def main(url: str, operation_code: str) -> dict:
    import crisis_ct.tasks.service as task_service
    from crisis_ct.geography.operations import get_operation
    from crisis_ct.scoring import service

    # Scoring hands each batch of new scores to task generation (`generate`); timing those
    # calls separates it from scoring without changing what runs.
    in_tasks = [0.0]
    task_service.generate = _timing(task_service.generate, in_tasks)
    service.catalogue()
    task_service.catalogues()  # loading the catalogues is start-up, not scoring

    database = Database(url)
    started = time.perf_counter()
    with database.session() as session:
        sites = service.score_all(session, get_operation(session, operation_code).id, parallel=True)
    total = time.perf_counter() - started
    database.dispose()
    # score_all reads and scores sites in worker processes: their memory counts too. The
    # largest worker's peak times the number of workers, plus this process's peak, bounds the
    # tree's peak from above (forked pages shared with this process are counted twice).
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    workers = service.scoring_workers()
    return {"sites": sites, "total_s": total, "tasks_s": in_tasks[0], "scoring_s": total - in_tasks[0],
            "peak_rss_mb": own_mb + workers * worker_mb, "own_peak_rss_mb": own_mb,
            "worker_peak_rss_mb": worker_mb, "workers": workers}


if __name__ == "__main__":
    sys.stdout.write(orjson.dumps(main(sys.argv[1], sys.argv[2])).decode() + "\n")

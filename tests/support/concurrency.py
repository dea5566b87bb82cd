"""Running the same work in several threads at once, as two worker processes would."""
from __future__ import annotations

import threading
from typing import Callable


def run_in_threads(work: Callable[[], object], count: int = 2, timeout: float = 120) -> tuple[list, list]:
    """`work` in `count` threads started together; (what each returned, what each raised)."""
    results, errors = [], []

    def run():
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - the caller asserts there is none
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors

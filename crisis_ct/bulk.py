"""Helpers for the few bulk paths (a full re-score, task generation for thousands of places)."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[bool]:
    """Pause Python's cyclic garbage collector for one bulk step.

    A bulk step allocates millions of small objects (answers, interviews, indicator results,
    task plans, rows) that mostly live until it ends; every few hundred allocations the
    collector starts a pass, and its full passes walk that ever larger heap again and again
    and find nothing (measured: about a third of a full re-score's scoring CPU, and 3.5 s of
    7 s of task generation's Python time). Scoring and task generation make no reference
    cycles, so reference counting frees everything all the same; the collector resumes, as
    it was, when the step ends. Yields whether it was running (a long step may then still
    collect now and then, with gc.collect)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield was_enabled
    finally:
        if was_enabled:
            gc.enable()

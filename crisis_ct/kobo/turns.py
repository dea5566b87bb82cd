"""Taking turns with the GIL: a helper thread that works only while the storing thread
waits for the database.

The bulk import reads and prepares the next batch in a helper thread. Left to the GIL,
the two threads share the interpreter whenever both have Python to run, so the helper
slows the storing thread's own work (placing, sending rows) by as much as it overlaps
the database's. The storing thread opens the gate around its database waits; the helper
passes it between small pieces of work, so it runs in those waits and otherwise stays
out of the way.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

__all__ = ["Turns"]


class Turns:
    def __init__(self) -> None:
        self._open = threading.Event()
        self._ended = False

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Entered by the storing thread while it waits (for the database, or the helper)."""
        self._open.set()
        try:
            yield
        finally:
            if not self._ended:
                self._open.clear()

    def end(self) -> None:
        """The storing thread stops (done, or failed): the helper runs freely from now on."""
        self._ended = True
        self._open.set()

    def pause(self) -> None:
        """Called by the helper between pieces of work: blocks while the storing thread runs
        Python, and hands it the interpreter at once if it has just stopped waiting."""
        self._open.wait()
        time.sleep(0)  # releases the GIL: a storing thread that wants it takes it now

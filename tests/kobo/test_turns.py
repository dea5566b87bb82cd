"""turns.Turns: the helper thread runs only while the storing thread waits."""
from __future__ import annotations

import threading

from crisis_ct.kobo.turns import Turns


def helper_passed(turns: Turns, timeout: float) -> bool:
    passed = threading.Event()
    thread = threading.Thread(target=lambda: (turns.pause(), passed.set()), daemon=True)
    thread.start()
    return passed.wait(timeout)


def test_the_helper_waits_while_the_storing_thread_runs():
    assert not helper_passed(Turns(), 0.05)


def test_the_helper_passes_while_the_storing_thread_waits():
    turns = Turns()
    with turns.waiting():
        assert helper_passed(turns, 5)


def test_the_helper_waits_again_once_the_wait_is_over():
    turns = Turns()
    with turns.waiting():
        pass
    assert not helper_passed(turns, 0.05)


def test_after_the_end_the_helper_is_never_held_back():
    turns = Turns()
    turns.end()
    with turns.waiting():
        pass
    assert helper_passed(turns, 5)

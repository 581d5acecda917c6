"""The stop flag: a Ctrl-C that has reached the sender counts before its handler has run."""

from __future__ import annotations

import hashlib
import signal
import threading
import time

from magbuilder.deliver.stopping import StopFlag


def test_a_signal_delivered_but_not_yet_handled_is_arriving():
    """Between the kernel delivering SIGINT to the main thread and Python running its handler
    (the main thread busy in C code), a connection thread must already see the stop coming:
    else it takes one more message (seen under load: 27 sent where 26 were in hand)."""
    flag = StopFlag()
    hashing, hashed = threading.Event(), threading.Event()
    seen: list[tuple[bool, bool, bool]] = []

    def connection() -> None:
        hashing.wait()
        time.sleep(0.05)  # the main thread is inside the C code by now
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        deadline = time.monotonic() + 0.2
        while not flag.arriving() and time.monotonic() < deadline:
            time.sleep(0.005)
        seen.append((flag.requested, flag.arriving(), hashed.is_set()))

    with flag.installed():
        assert not flag.arriving()
        data = b"x" * 600_000_000
        thread = threading.Thread(target=connection)
        thread.start()
        hashing.set()
        # C code that lets go of the GIL and runs no Python handler until it returns (~0.3 s).
        hashlib.sha256(data).hexdigest()
        hashed.set()
        thread.join()
        assert flag.requested  # the handler ran once the main thread was back in Python
    [(requested, arriving, done)] = seen
    assert not done, "the hash ended before the signal was looked at: use more data"
    assert (requested, arriving) == (False, True)

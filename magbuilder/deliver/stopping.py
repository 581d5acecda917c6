"""Stopping a send cleanly on Ctrl-C (SIGINT) or SIGTERM: finish the message in hand, then stop.

The first signal only raises a flag: the message being handed to the server completes and its
state is committed before the run stops. A second signal abandons the message in hand at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SLICE = 0.05  # how often a wait looks at the flag
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Stopped(Exception):
    """Raised by :meth:`StopFlag.sleep` when a stop was requested during a wait."""


class StopFlag:
    """Set by SIGINT/SIGTERM (or by code); waits end early when it is set."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self._requested = False
        self._installed = False

    @property
    def requested(self) -> bool:
        return self._requested

    def arriving(self) -> bool:
        """A stop requested, or a SIGINT/SIGTERM sent that the main thread has yet to handle.

        For other threads (which block these signals, see ``sending.Connection``): between
        the signal and its handler, a thread that finished its message must not take another.
        """
        if self._requested:
            return True
        return self._installed and bool(signal.sigpending() & STOP_SIGNALS)

    def request(self, signum: int = signal.SIGINT) -> None:
        self.signal = signal.Signals(signum)
        self._requested = True

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, raising :class:`Stopped` as soon as a stop is requested."""
        end = time.monotonic() + seconds
        while True:
            if self._requested:
                raise Stopped
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SLICE, left))

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C (the shell convention), 1 after SIGTERM or another stop."""
        return 130 if self.signal == signal.SIGINT else 1

    @contextmanager
    def installed(self) -> Iterator[StopFlag]:
        """Handle SIGINT and SIGTERM while the block runs (main thread only; else a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if self._requested:  # a second signal: abandon the message in hand
                raise KeyboardInterrupt
            self.request(signum)

        previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
        self._installed = True
        try:
            yield self
        finally:
            self._installed = False
            for sig, old in previous.items():
                signal.signal(sig, old)

"""Stopping a send cleanly on Ctrl-C (SIGINT) or SIGTERM: finish the message in hand, then stop.

The first signal only raises a flag: the message being handed to the server completes and its
state is committed before the run stops. A second signal abandons the message in hand at once.
"""

from __future__ import annotations

import select
import signal
import socket
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
        self._delivered: socket.socket | None = None  # the wakeup fd's reading end

    @property
    def requested(self) -> bool:
        return self._requested

    def arriving(self) -> bool:
        """A stop requested, or a SIGINT/SIGTERM sent that the main thread has yet to handle.

        For other threads (which block these signals, see ``sending.Connection``): between
        the signal and its handler, a thread that finished its message must not take another.
        A signal is pending until the kernel delivers it to the main thread, whose C-level
        handler then writes its number to the wakeup socket; Python runs the handler later
        still (between two bytecodes of the main thread, which a busy machine may delay).
        """
        if self._requested:
            return True
        if not self._installed:
            return False
        if signal.sigpending() & STOP_SIGNALS:
            return True
        delivered = self._delivered
        if delivered is None or not select.select([delivered], [], [], 0)[0]:
            return False
        try:
            numbers = delivered.recv(64, socket.MSG_PEEK)
        except OSError:
            return False
        return any(number in STOP_SIGNALS for number in numbers)

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
        reading, writing = socket.socketpair()
        reading.setblocking(False)
        writing.setblocking(False)
        old_wakeup = signal.set_wakeup_fd(writing.fileno(), warn_on_full_buffer=False)
        self._delivered = reading
        self._installed = True
        try:
            yield self
        finally:
            self._installed = False
            signal.set_wakeup_fd(old_wakeup)
            self._delivered = None
            reading.close()
            writing.close()
            for sig, old in previous.items():
                signal.signal(sig, old)

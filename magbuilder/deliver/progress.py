"""The progress line on stderr: a bar with counts by state, speed and ETA.

On a terminal the line redraws in place (at most ten times a second); in a log or a pipe a full
line is written at every tenth of the way and at least every 15 seconds.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24
TTY_INTERVAL = 0.1
LOG_INTERVAL = 15.0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Progress of a campaign over ``total`` recipients, ``done`` of them finished before."""

    def __init__(
        self,
        total: int,
        *,
        done: int = 0,
        rate_limit: float = 0.0,
        stream: TextIO | None = None,
        enabled: bool = True,
        label: str = "sending",
    ) -> None:
        self.total = total
        self.done = done
        self.rate_limit = rate_limit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = label
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.counts: dict[str, int] = {}
        self.note = ""
        self._start = time.monotonic()
        self._processed = 0
        self._first_done = done
        self._last_draw = 0.0
        self._last_decile = -1
        self._drawn = False

    def speed(self) -> float:
        """Messages per second over this run."""
        elapsed = time.monotonic() - self._start
        return self._processed / elapsed if elapsed > 0 and self._processed else 0.0

    def eta(self) -> float | None:
        """Seconds left at the current speed (never faster than the rate limit)."""
        speed = self.speed()
        if self.rate_limit:
            speed = min(speed, self.rate_limit) if speed else self.rate_limit
        left = self.total - self.done
        return left / speed if speed else None

    def line(self) -> str:
        """``sending [#####-----] 120/200  sent 118 · failed 1 · refused 1 · 9.8/s · ETA 0:08``."""
        fraction = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * fraction)
        bar = "#" * filled + "-" * (WIDTH - filled)
        states = " · ".join(f"{state} {n}" for state, n in self.counts.items())
        eta = self.eta()
        parts = [f"{self.label} [{bar}] {self.done}/{self.total}", states, f"{self.speed():.1f}/s"]
        if eta is not None and self.done < self.total:
            parts.append(f"ETA {_duration(eta)}")
        if self.note:
            parts.append(self.note)
        return "  ".join(p for p in parts if p)

    def update(
        self,
        counts: dict[str, int],
        done: int,
        *,
        processed: int = 0,
        note: str = "",
        force: bool = False,
    ) -> None:
        """New counts after a message (``processed`` messages handled by this call)."""
        self.counts = counts
        self.done = done
        self._processed += processed
        self.note = note
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if force or now - self._last_draw >= TTY_INTERVAL or done >= self.total:
                self.stream.write("\r" + self.line() + "\x1b[K")
                self.stream.flush()
                self._last_draw = now
                self._drawn = True
            return
        decile = int(10 * done / self.total) if self.total else 10
        if force or decile != self._last_decile or now - self._last_draw >= LOG_INTERVAL:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last_draw = now
            self._last_decile = decile

    def finish(self) -> None:
        """End the bar's line (terminal only) so later output starts on its own line."""
        if self.enabled and self.tty and self._drawn:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
            self.stream.flush()
            self._drawn = False

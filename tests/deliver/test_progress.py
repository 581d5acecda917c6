"""The progress line: counts by state, speed and ETA; redrawn on a terminal, sparse in a log."""

from __future__ import annotations

import io
import signal

import pytest

from magbuilder.deliver.progress import Progress
from magbuilder.deliver.stopping import StopFlag, Stopped


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_has_bar_counts_speed_and_eta():
    progress = Progress(200, done=50, rate_limit=5, stream=io.StringIO())
    line = progress.line()
    assert line.startswith("sending [######------------------] 50/200")
    assert "ETA 0:30" in line  # 150 left at the 5/s limit
    progress.update({"sent": 51, "failed": 0, "refused": 0}, 51, processed=1)
    assert "sent 51 · failed 0 · refused 0" in progress.line()


def test_a_terminal_gets_one_line_redrawn_in_place():
    stream = Terminal()
    progress = Progress(3, stream=stream)
    for n in range(1, 4):
        progress.update({"sent": n}, n, processed=1, force=True)
    progress.finish()
    out = stream.getvalue()
    assert out.count("\r") == 4 and out.count("\n") == 1
    last = out.rsplit("\r", 1)[1]
    assert last.startswith("sending [########################] 3/3  sent 3")
    assert last.endswith("\x1b[K\n")


def test_a_log_gets_a_line_per_tenth():
    stream = io.StringIO()
    progress = Progress(100, stream=stream)
    for n in range(1, 101):
        progress.update({"sent": n}, n, processed=1)
    assert len(stream.getvalue().splitlines()) == 11  # the first, then each tenth


def test_disabled_writes_nothing():
    stream = io.StringIO()
    Progress(10, stream=stream, enabled=False).update({"sent": 1}, 1, force=True)
    assert stream.getvalue() == ""


def test_stop_flag_cuts_waits_short_and_maps_exit_codes():
    flag = StopFlag()
    flag.sleep(0.01)
    flag.request(signal.SIGTERM)
    with pytest.raises(Stopped):
        flag.sleep(10)
    assert flag.exit_code == 1
    flag.request(signal.SIGINT)
    assert flag.exit_code == 130

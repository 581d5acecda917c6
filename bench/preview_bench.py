"""`make bench`, the preview: from saving a review to its pages served, and memory over saves.

A real `magbuilder preview` serves a generated 20-review issue; a client follows its event
stream. Each save changes one word of a different review's body (so a chunk really has to be
laid out again); the time from the save to the `update` event (pages redrawn, served) is
measured, and the resident memory of the preview and its workers after 5 and after 50 saves.
Adds a "preview" entry to build/bench/results.json.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.generate import generate_project  # noqa: E402

OUT = REPO / "build" / "bench"
REVIEWS = 20
TIMED_SAVES = 15
MEMORY_SAVES = (5, 50)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) if found else 0
    return round(total / 1024, 1)


class Events:
    """The preview's event stream, read in a thread."""

    def __init__(self, url: str) -> None:
        self.updates: list[tuple[float, dict]] = []
        threading.Thread(target=self._read, args=(url,), daemon=True).start()

    def _read(self, url: str) -> None:
        with urllib.request.urlopen(url + "events") as reply:  # noqa: S310 - our own server
            for raw in reply:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event["type"] == "update":
                        self.updates.append((time.monotonic(), event))

    def wait(self, count: int, timeout: float = 120) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while len(self.updates) < count:
            if time.monotonic() > deadline:
                raise SystemExit("the preview did not answer in time")
            time.sleep(0.005)
        return self.updates[count - 1]


def main() -> None:
    root = OUT / "preview"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copytree(REPO / "layouts", root / "layouts")
    shutil.copy(REPO / "magbuilder.yaml", root)
    manifest = generate_project(root, REVIEWS, words=900)
    proc = subprocess.Popen(
        [sys.executable, "-m", "magbuilder", "preview", str(manifest.relative_to(root))]
        + ["--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        url = re.search(r"http://\S+/", proc.stdout.readline() if ready else "")
        if not url:
            raise SystemExit("the preview printed no address")
        events = Events(url.group(0))
        events.wait(1)  # the first, cold build
        reviews = sorted((root / "content" / "reviews").glob("*.md"))
        latencies, redrawn, memory = [], [], {}
        saves = max(TIMED_SAVES, *MEMORY_SAVES)
        for n in range(1, saves + 1):
            review = reviews[n % len(reviews)]
            text = review.read_text()
            # One word of the body changes (never back to a text laid out before), and no page
            # count does: a typical correction.
            review.write_text(text.replace(" the ", f" th{n:03d} ", 1), "utf-8")
            saved = time.monotonic()
            arrived, event = events.wait(n + 1)
            if event["error"]:
                raise SystemExit(f"save {n} failed: {event['error']}")
            if n <= TIMED_SAVES:
                latencies.append(arrived - saved)
                redrawn.append(len(event["changed"]))
            if n in MEMORY_SAVES:
                time.sleep(0.5)
                memory[n] = rss_mb(proc.pid)
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    first, last = (memory[n] for n in MEMORY_SAVES)
    result = {
        "reviews": REVIEWS,
        "save_to_pages_s": {
            "median": round(statistics.median(latencies), 3),
            "min": round(min(latencies), 3),
            "max": round(max(latencies), 3),
            "saves": len(latencies),
        },
        "pages_redrawn_median": statistics.median(redrawn),
        "rss_mb_after_saves": memory,
        "rss_growth_5_to_50": round(last / first - 1, 3),
    }
    path = OUT / "results.json"
    report = json.loads(path.read_text()) if path.is_file() else {}
    report["preview"] = result
    path.write_text(json.dumps(report, indent=2))
    print(
        f"preview, {REVIEWS} reviews: save → updated pages median "
        f"{result['save_to_pages_s']['median']:.2f} s (min {result['save_to_pages_s']['min']:.2f}, "
        f"max {result['save_to_pages_s']['max']:.2f}, {len(latencies)} saves, "
        f"{result['pages_redrawn_median']:g} pages redrawn); memory {first} MB after 5 saves, "
        f"{last} MB after 50 ({result['rss_growth_5_to_50']:+.1%})"
    )


if __name__ == "__main__":
    main()

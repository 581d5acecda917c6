"""Benchmark: send the sample issue to 1,000 subscribers through a local aiosmtpd server.

Prints messages per second and writes ``build/bench/send.json``. The server runs in its own
process (aiosmtpd's Sink handler, which accepts and discards), so it does not share the sender's
interpreter; the send is a real campaign: ledger, one SMTP transaction per message, no rate limit.

    .venv/bin/python bench/send_bench.py [--recipients 1000] [--rate 0] [--out build/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
MEDIA = re.compile(r"media/[A-Za-z0-9._/-]+\.(?:jpe?g|png)")
SECRET = "bench-secret-not-for-production-0123456789"


def sample_project(folder: Path) -> Path:
    """A copy of the sample project, with placeholder pictures for any not generated yet."""
    for name in ("magbuilder.yaml", "issues", "layouts", "content/reviews"):
        source = REPO / name
        target = folder / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    texts = [p.read_text("utf-8") for p in (folder / "content/reviews").glob("*.md")]
    texts += [p.read_text("utf-8") for p in (folder / "issues").glob("*.yaml")]
    for rel in sorted({m for text in texts for m in MEDIA.findall(text)}):
        target = folder / "content" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / "content" / rel).is_file():
            shutil.copy2(REPO / "content" / rel, target)
        else:
            Image.new("RGB", (1200, 800), (70, 90, 110)).save(target, quality=80)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> subprocess.Popen[bytes]:
    """``python -m aiosmtpd`` with the Sink handler, waited for until it answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        + ["-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(3) == b"220":
                    return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the aiosmtpd server did not start")


def run(recipients: int = 1000, rate: float = 0.0, out: Path | None = None) -> dict[str, object]:
    """Send to ``recipients`` generated subscribers; return and write the measurements."""
    from magbuilder.deliver import SendOptions, parse_smtp_url, send_issue
    from magbuilder.deliver.messages import load_content
    from magbuilder.deliver.subscribers import read_subscribers

    out = out or REPO / "build" / "bench"
    environ = {**os.environ, "MAGBUILDER_UNSUBSCRIBE_SECRET": SECRET}
    with tempfile.TemporaryDirectory(prefix="magbuilder-bench-") as tmp:
        project = sample_project(Path(tmp) / "project")
        manifest = project / "issues" / "2026-12.yaml"
        if not manifest.is_file():
            manifest = sorted((project / "issues").glob("*.yaml"))[-1]
        csv = project / "subscribers.csv"
        rows = [f"reader{i:05d}@subscribers.example,Reader {i}" for i in range(recipients)]
        csv.write_text("email,name\n" + "\n".join(rows) + "\n", "utf-8")

        # Building the messages alone, to tell composing from handing over.
        content = load_content(manifest, SECRET.encode())
        sample = read_subscribers(csv).subscribers[:200]
        start = time.perf_counter()
        sizes = [len(content.message(s)) for s in sample]
        compose_rate = len(sample) / (time.perf_counter() - start)

        port = free_port()
        server = start_server(port)
        try:
            options = SendOptions(
                subscribers=csv,
                smtp=parse_smtp_url(f"smtp://127.0.0.1:{port}", "none", environ={}),
                rate=rate,
                state_dir=Path(tmp) / "state",
            )
            with open(os.devnull, "w") as quiet:
                start = time.perf_counter()
                result = send_issue(manifest, options, environ=environ, progress_stream=quiet)
                seconds = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=10)
    report: dict[str, object] = {
        "benchmark": "send",
        "issue": content.issue.id,
        "recipients": recipients,
        "sent": result.counts.get("sent", 0),
        "seconds": round(seconds, 3),
        "messages_per_second": round(recipients / seconds, 1),
        "compose_messages_per_second": round(compose_rate, 1),
        "message_bytes": round(sum(sizes) / len(sizes)),
        "rate_limit": rate or None,
        "server": "aiosmtpd Sink on 127.0.0.1, separate process",
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "send.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.0, help="messages a second, 0: no limit")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    args = parser.parse_args(argv)
    report = run(args.recipients, args.rate, args.out)
    print(
        f"send: {report['sent']}/{report['recipients']} messages in {report['seconds']} s = "
        f"{report['messages_per_second']} messages/second "
        f"(composing alone: {report['compose_messages_per_second']}/s, "
        f"{report['message_bytes']} bytes each) → {args.out / 'send.json'}"
    )
    return 0 if report["sent"] == report["recipients"] else 1


if __name__ == "__main__":
    sys.exit(main())

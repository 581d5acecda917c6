"""Benchmark: send the sample issue to 10,000 and 100,000 generated subscribers on a local sink.

Each case runs in its own process (so its peak memory is its own): a real campaign — suppression
list, ledger, one SMTP transaction per message, no rate limit — over 1 and 4 connections to
``bench/smtp_sink.py`` in another process (or aiosmtpd's Sink with ``--server aiosmtpd``). The
sink counts what it accepted: the case fails unless every recipient got exactly one message.
Prints messages per second and peak memory; writes ``build/bench/send.json``.

    .venv/bin/python bench/send_bench.py [--cases 10000x1,10000x4,100000x4] [--server sink]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
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


def start_server(port: int, kind: str) -> subprocess.Popen[str]:
    """The sink in its own process, waited for until it answers."""
    if kind == "aiosmtpd":
        command = [
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
    else:
        command = [str(REPO / "bench" / "smtp_sink.py"), str(port)]
    server = subprocess.Popen(
        [sys.executable, *command], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
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
    raise RuntimeError(f"the {kind} server did not start")


def stop_server(server: subprocess.Popen[str]) -> dict[str, int] | None:
    """Stop the sink; what it says it accepted (the aiosmtpd Sink does not say)."""
    server.send_signal(signal.SIGTERM)
    out, _ = server.communicate(timeout=30)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def run_case(recipients: int, connections: int, server_kind: str, rate: float = 0.0) -> dict:
    """One send, in this process: ``recipients`` generated subscribers over ``connections``."""
    from magbuilder.deliver import SendOptions, parse_smtp_url, send_issue
    from magbuilder.deliver.messages import load_content
    from magbuilder.deliver.subscribers import read_subscribers

    environ = {**os.environ, "MAGBUILDER_UNSUBSCRIBE_SECRET": SECRET}
    with tempfile.TemporaryDirectory(prefix="magbuilder-bench-") as tmp:
        project = sample_project(Path(tmp) / "project")
        manifest = project / "issues" / "2026-12.yaml"
        if not manifest.is_file():
            manifest = sorted((project / "issues").glob("*.yaml"))[-1]
        csv = project / "subscribers.csv"
        rows = [f"reader{i:06d}@subscribers.example,Reader {i}" for i in range(recipients)]
        csv.write_text("email,name\n" + "\n".join(rows) + "\n", "utf-8")

        # Composing alone, to tell it from handing over.
        content = load_content(manifest, SECRET.encode())
        sample = read_subscribers(csv).subscribers[:500]
        start = time.perf_counter()
        sizes = [len(content.message(s)) for s in sample]
        compose_rate = len(sample) / (time.perf_counter() - start)

        port = free_port()
        server = start_server(port, server_kind)
        try:
            options = SendOptions(
                subscribers=csv,
                smtp=parse_smtp_url(f"smtp://127.0.0.1:{port}", "none", environ={}),
                rate=rate,
                connections=connections,
                state_dir=Path(tmp) / "state",
            )
            with open(os.devnull, "w") as quiet:
                start = time.perf_counter()
                cpu = time.process_time()
                result = send_issue(manifest, options, environ=environ, progress_stream=quiet)
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu
        finally:
            accepted = stop_server(server)
    sent = result.counts.get("sent", 0)
    return {
        "recipients": recipients,
        "connections": connections,
        "sent": sent,
        "seconds": round(seconds, 2),
        "messages_per_second": round(recipients / seconds, 1),  # the whole command
        "sending_seconds": round(result.seconds, 2),  # connections open to closed
        "sending_messages_per_second": round(recipients / result.seconds, 1),
        "sender_cpu_seconds": round(cpu, 2),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "compose_messages_per_second": round(compose_rate, 1),
        "message_bytes": round(sum(sizes) / len(sizes)),
        "sink_accepted": accepted,
        "exactly_once": accepted is None
        or (accepted["messages"] == recipients == accepted["recipients"] == sent),
        "rate_limit": rate or None,
        "server": server_kind,
    }


def run(cases: list[tuple[int, int]], server: str, out: Path) -> list[dict]:
    """Each case in a fresh process; the results, also written to ``out/send.json``."""
    results = []
    for recipients, connections in cases:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                f"{recipients}x{connections}",
                "--server",
                server,
            ],
            capture_output=True,
            text=True,
        )
        if child.returncode:
            sys.stderr.write(child.stderr)
            raise RuntimeError(f"the {recipients}x{connections} case failed")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(line(results[-1]), flush=True)
    report = {
        "benchmark": "send",
        "cases": results,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "send.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    return results


def line(case: dict) -> str:
    once = "exactly once" if case["exactly_once"] else "NOT EXACTLY ONCE"
    return (
        f"send: {case['sent']:>7,}/{case['recipients']:,} over {case['connections']} "
        f"connection{'s' * (case['connections'] != 1)} in {case['seconds']} s = "
        f"{case['messages_per_second']} msg/s (sending alone {case['sending_seconds']} s = "
        f"{case['sending_messages_per_second']} msg/s), peak {case['peak_memory_mib']} MiB, "
        f"sender CPU {case['sender_cpu_seconds']} s ({once}; composing alone "
        f"{case['compose_messages_per_second']}/s, {case['message_bytes']} bytes each)"
    )


def parse_cases(text: str) -> list[tuple[int, int]]:
    try:
        return [tuple(int(n) for n in case.split("x")) for case in text.split(",")]  # type: ignore[misc]
    except ValueError:
        raise argparse.ArgumentTypeError("cases look like 10000x1,10000x4") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=parse_cases, default="10000x1,10000x4,100000x4")
    parser.add_argument("--server", choices=("sink", "aiosmtpd"), default="sink")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    parser.add_argument("--child", type=parse_cases, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        [(recipients, connections)] = args.child
        print(json.dumps(run_case(recipients, connections, args.server)))
        return 0
    results = run(args.cases, args.server, args.out)
    print(f"→ {args.out / 'send.json'}")
    return 0 if all(case["exactly_once"] for case in results) else 1


if __name__ == "__main__":
    sys.exit(main())

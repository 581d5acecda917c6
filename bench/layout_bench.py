"""`make bench`: magbuilder against plain WeasyPrint, on generated issues of 10, 20, 40 reviews.

For each size it measures, as whole processes (wall-clock): the floor (plain WeasyPrint laying
out magazine.html, the same pages, in one process), a cold build (empty cache), a warm build
(chunk cache filled, outputs missing), the rebuild after editing one review, the unchanged
rebuild; then a cold build in one process at --jobs 1 and 2 with its stage and chunk times,
from which the cold build is projected at 4, 8 and 16 cores; peak memory, output sizes, and the
email render of a 25-review issue. Writes build/bench/results.json and prints the tables
(bench/preview_bench.py adds the preview's figures).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.generate import generate_project  # noqa: E402

OUT = REPO / "build" / "bench"
SIZES = (10, 20, 40)
FLOOR = "import sys, weasyprint; weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[2])"


def run(*args: str, cwd: Path) -> float:
    """Wall-clock seconds of a whole process; fails loudly if it fails."""
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def peak_children_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def project(size: int) -> tuple[Path, Path]:
    root = OUT / f"issue-{size}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copytree(REPO / "layouts", root / "layouts")
    shutil.copy(REPO / "magbuilder.yaml", root)
    return root, generate_project(root, size, words=900)


def bench_size(size: int) -> dict:
    root, manifest = project(size)
    rel = str(manifest.relative_to(root))
    mb = [sys.executable, "-m", "magbuilder", "-q", "build", rel, "--out", "out"]
    result: dict = {"reviews": size}

    # The floor: the same magazine as one HTML file, laid out by plain WeasyPrint.
    run(*mb, "--keep-html", "--single-pass", "--no-preflight", cwd=root)
    html = root / "out" / f"gen-{size}" / "magazine.html"
    shutil.copy(html, root / "magazine.html")
    shutil.rmtree(root / "out")
    result["floor_s"] = min(
        run(sys.executable, "-c", FLOOR, "magazine.html", "floor.pdf", cwd=root) for _ in range(2)
    )

    result["cold_s"] = run(*mb, cwd=root)
    out = root / "out" / f"gen-{size}"
    result["pages"] = _pages(out / "magazine.pdf")
    (out / ".build-stamp.json").unlink()
    result["warm_s"] = run(*mb, cwd=root)
    review = root / "content" / "reviews" / f"review-{size // 2:03d}.md"
    review.write_text(review.read_text() + "\nOne more sentence, added by the editor.\n")
    result["edit_one_s"] = run(*mb, cwd=root)
    result["unchanged_s"] = run(*mb, cwd=root)
    result["peak_rss_mb"] = round(peak_children_mb(), 1)
    result["sizes_kb"] = {
        p.name: round(p.stat().st_size / 1024) for p in sorted(out.iterdir()) if p.is_file()
    }
    result["stages"] = _stages(manifest, root)
    for key in ("cold_s", "warm_s", "edit_one_s"):
        result[key.replace("_s", "_x_floor")] = round(result[key] / result["floor_s"], 2)
    # Projected whole-process cold builds: the measured one, less what more cores would save.
    projected = result["stages"]["projected_cold_s"]
    result["projected_cold_x_floor"] = {
        cores: round((result["cold_s"] - projected[2] + projected[cores]) / result["floor_s"], 2)
        for cores in CORES
    }
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def _pages(pdf: Path) -> int:
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


STAGES = """
import json, sys, time
from pathlib import Path
from magbuilder.build import BuildOptions, build_issue
started, chunks = {}, {}

def progress(event, part):
    if event == "laying out":
        started[part] = time.perf_counter()
    else:
        chunks[part] = round(time.perf_counter() - started[part], 3)

jobs = int(sys.argv[2])
options = BuildOptions(jobs=jobs, force=True, cache=Path(f"stage-cache-{jobs}"))
t = time.perf_counter()
result = build_issue(sys.argv[1], f"stage-out-{jobs}", options, progress=progress)
print(json.dumps({"total": time.perf_counter() - t, "stages": result.stages, "chunks": chunks}))
"""
CORES = (4, 8, 16)


def _stages(manifest: Path, root: Path) -> dict:
    """A cold build in one process at --jobs 1 and 2: stage and chunk times, and from them the
    cold build projected on more cores (critical path: the serial stages plus the longer of
    the longest chunk and the chunks' total shared out)."""
    found = {}
    for jobs in (1, 2):
        shutil.rmtree(root / f"stage-cache-{jobs}", ignore_errors=True)
        result = subprocess.run(
            [sys.executable, "-c", STAGES, str(manifest), str(jobs)],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        found[jobs] = json.loads(result.stdout.splitlines()[-1])
    one = found[1]
    chunks = list(one["chunks"].values())
    serial = one["total"] - sum(chunks)  # everything but laying out chunks, at one job
    projected = {
        cores: round(serial + max(max(chunks), sum(chunks) / cores), 2) for cores in (2, *CORES)
    }
    return {
        "jobs_1": {**one, "total": round(one["total"], 3)},
        "jobs_2": {**found[2], "total": round(found[2]["total"], 3)},
        "chunk_s": {"sum": round(sum(chunks), 3), "longest": max(chunks), "count": len(chunks)},
        "serial_s": round(serial, 3),
        "projected_cold_s": projected,
    }


def email_render_ms(size: int = 25, repeat: int = 20) -> float:
    """Jinja2 + MJML for a 25-review issue (email images excluded: they are cached per image)."""
    root, manifest = project(size)
    from magbuilder.manifest import load_issue
    from magbuilder.render.email import render_newsletter
    from magbuilder.render.layout import Layout

    issue = load_issue(manifest)
    layout = Layout(issue.layouts_dir)
    render_newsletter(issue, layout, with_images=False)  # warm: templates compiled once
    start = time.perf_counter()
    for _ in range(repeat):
        render_newsletter(issue, layout, with_images=False)
    return round((time.perf_counter() - start) / repeat * 1000, 1)


def projection_table(results: list[dict]) -> str:
    head = (
        "| reviews | cold, 2 cores (measured) | 4 cores | 8 cores | 16 cores | Paged.js |\n"
        "|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r['reviews']} | {r['cold_x_floor']}× | "
        + " | ".join(f"{r['projected_cold_x_floor'][c]}×" for c in CORES)
        + " | 0.34× |"
        for r in results
    ]
    return "\n".join([head, *rows])


def table(results: list[dict]) -> str:
    head = (
        "| reviews | pages | floor | cold build | warm build | edit one review | unchanged "
        "| peak RSS |\n|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r['reviews']} | {r['pages']} | {r['floor_s']:.2f} s | {r['cold_s']:.2f} s "
        f"({r['cold_x_floor']}×) | {r['warm_s']:.2f} s ({r['warm_x_floor']}×) | "
        f"{r['edit_one_s']:.2f} s ({r['edit_one_x_floor']}×) | {r['unchanged_s']:.2f} s | "
        f"{r['peak_rss_mb']:.0f} MB |"
        for r in results
    ]
    return "\n".join([head, *rows])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    results = [bench_size(size) for size in SIZES]
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
    }
    report = {
        "machine": machine,
        "issues": results,
        "email_render_25_reviews_ms": email_render_ms(),
    }
    (OUT / "results.json").write_text(json.dumps(report, indent=2))
    print(table(results))
    print("\ncold build against the floor, measured on 2 cores and projected (× floor):")
    print(projection_table(results))
    print(f"\nemail render (Jinja2 + MJML), 25 reviews: {report['email_render_25_reviews_ms']} ms")
    for r in results:
        stages = r["stages"]
        print(
            f"{r['reviews']} reviews, cold in one process: jobs 1 {stages['jobs_1']['total']} s "
            f"{stages['jobs_1']['stages']}, jobs 2 {stages['jobs_2']['total']} s "
            f"{stages['jobs_2']['stages']}; chunks {stages['chunk_s']}, serial "
            f"{stages['serial_s']} s; projected {stages['projected_cold_s']}"
        )
    print(f"machine: {machine}\nwritten: {OUT / 'results.json'}")


if __name__ == "__main__":
    main()

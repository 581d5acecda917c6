"""`make bench`: magbuilder against plain WeasyPrint, on generated issues of 10, 20, 40 reviews.

For each size it measures, as whole processes (wall-clock): the floor (plain WeasyPrint laying
out magazine.html, the same pages, in one process), a cold build (empty cache), a warm build
(chunk cache filled, outputs missing), the rebuild after editing one review, the unchanged
rebuild; then the stage times of a cold build in-process, peak memory, output sizes, and the
email render of a 25-review issue. Writes build/bench/results.json and prints a table.
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
    result["stages_s"] = _stages(manifest, root)
    for key in ("cold_s", "warm_s", "edit_one_s"):
        result[key.replace("_s", "_x_floor")] = round(result[key] / result["floor_s"], 2)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def _pages(pdf: Path) -> int:
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


def _stages(manifest: Path, root: Path) -> dict[str, float]:
    """Stage times of a cold build, in-process (forked workers do the layout)."""
    code = f"""
import json, time, shutil
from pathlib import Path
t = time.perf_counter(); marks = {{}}
from magbuilder.manifest import load_issue
from magbuilder.render.env import Layout
issue = load_issue({str(manifest)!r}); marks['load'] = time.perf_counter() - t
layout = Layout(issue.layouts_dir)
from magbuilder.render.chunks import render_chunked
shutil.rmtree('stage-cache', ignore_errors=True)
t = time.perf_counter(); pdf, stats = render_chunked(issue, layout, Path('stage-cache'))
marks['layout+assemble'] = time.perf_counter() - t
from magbuilder.build import BuildOptions, _finish
from magbuilder.render.stack import text_stack
stack = text_stack(layout)
t = time.perf_counter(); _finish(issue, layout, pdf, BuildOptions(), Path('stage-cache/img'), stack)
marks['finish print+screen'] = time.perf_counter() - t
from magbuilder.render.email import render_newsletter
t = time.perf_counter(); render_newsletter(issue, layout)
marks['email (with images)'] = time.perf_counter() - t
print(json.dumps(marks))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return {k: round(v, 3) for k, v in json.loads(result.stdout.splitlines()[-1]).items()}


def email_render_ms(size: int = 25, repeat: int = 20) -> float:
    """Jinja2 + MJML for a 25-review issue (email images excluded: they are cached per image)."""
    root, manifest = project(size)
    from magbuilder.manifest import load_issue
    from magbuilder.render.email import render_newsletter
    from magbuilder.render.env import Layout

    issue = load_issue(manifest)
    layout = Layout(issue.layouts_dir)
    render_newsletter(issue, layout, with_images=False)  # warm: templates compiled once
    start = time.perf_counter()
    for _ in range(repeat):
        render_newsletter(issue, layout, with_images=False)
    return round((time.perf_counter() - start) / repeat * 1000, 1)


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
    print(f"\nemail render (Jinja2 + MJML), 25 reviews: {report['email_render_25_reviews_ms']} ms")
    for r in results:
        print(f"stages, {r['reviews']} reviews (cold, in-process): {r['stages_s']}")
    print(f"machine: {machine}\nwritten: {OUT / 'results.json'}")


if __name__ == "__main__":
    main()

"""Approved renders: the cover and a review opener, as a reader sees them, against committed files.

Each approved page is kept twice in ``tests/data/golden/``: ``<name>.json``, every word with its
box, every image with its box and pixels, the running heads and the folio (what changed is
readable in a diff, and a missing byline or one changed word fails exactly); and ``<name>.png``,
the page's pixels at 50 dpi, compared tile by tile (a rule, a colour or a picture that moves
changes a tile; anti-aliasing does not). Builds use the layout's fonts only, so the same text
stack gives the same pages on every machine (Debian 12 and 13 match these). If a stack ever lays
out differently, approve its own renders beside these rather than loosen the tolerance: create
``tests/data/golden/<stack id>/`` (the id is in the build stamp and the PDFs' XMP) and run the
update there; a stack with such a folder is compared with it.

After an intended change to the layout: ``pytest --update-golden tests/render/test_golden.py``,
look at the new PNGs, and commit them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from magbuilder.build import BuildOptions, build_issue
from magbuilder.content import Margins
from magbuilder.render.layout import Layout
from magbuilder.render.stack import text_stack

from ..conftest import REPO, SAMPLE_MANIFEST
from ..pdfpages import Page, Picture, Word, differences, read_pages

GOLDEN = REPO / "tests" / "data" / "golden"
DPI = 50
TILE = 16  # pixels: about 8 mm at 50 dpi, the size of a folio or a short word
TILE_LIMIT = 6.0  # mean difference of one tile, out of 255
PAGE_LIMIT = 1.0  # mean difference of the whole page
# Approved pages: name → (the sample issue, page number). December is the default layout,
# November the pocket layout.
PAGES = {
    "cover": ("2026-12", 1),
    "opener-verdict-in-absentia": ("2026-12", 5),  # after the contents and a sponsor's page
    "pocket-cover": ("2026-11", 1),
    "pocket-opener-the-quiet-ward": ("2026-11", 4),
}
BUILDS = {"2026-12": "sample_build", "2026-11": "november_build"}


def render_page(pdf: Path, page: int, out: Path) -> Image.Image:
    assert shutil.which("pdftoppm"), "pdftoppm is missing: `make system` installs poppler-utils"
    stem = out / f"page-{page}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(stem)],
        check=True,
    )  # fmt: skip
    return Image.open(f"{stem}.png").convert("RGB")


def record(page: Page) -> dict:
    """A page as JSON, boxes to 0.01 pt."""
    data = asdict(page)
    for item in data["words"] + data["images"]:
        item["box"] = [round(v, 2) for v in item["box"]]
    data["size"] = [round(v, 2) for v in data["size"]]
    return data


def dumps(data: dict) -> str:
    """JSON with one word or image per line, so a diff of an approval reads like the page."""
    parts = []
    for key, value in data.items():
        if isinstance(value, list | tuple) and value and isinstance(value[0], dict):
            items = ",\n".join(f"  {json.dumps(v, ensure_ascii=False)}" for v in value)
            parts.append(f' "{key}": [\n{items}\n ]')
        else:
            parts.append(f' "{key}": {json.dumps(value, ensure_ascii=False)}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def from_record(data: dict) -> Page:
    return Page(
        number=data["number"],
        size=tuple(data["size"]),
        words=tuple(Word(w["text"], tuple(w["box"])) for w in data["words"]),
        images=tuple(
            Picture(tuple(i["box"]), tuple(i["pixels"]), i["digest"]) for i in data["images"]
        ),
        heads=data["heads"],
        feet=data["feet"],
    )


def pixel_differences(actual: Image.Image, expected: Image.Image) -> list[str]:
    """What differs in the pixels: the whole page's mean, and every tile past the limit."""
    if actual.size != expected.size:
        return [f"size {actual.size}, expected {expected.size}"]
    diff = ImageChops.difference(actual, expected).convert("L")
    found = []
    mean = ImageStat.Stat(diff).mean[0]
    if mean > PAGE_LIMIT:
        found.append(f"mean difference {mean:.2f}/255 over the page (limit {PAGE_LIMIT})")
    for top in range(0, diff.height, TILE):
        for left in range(0, diff.width, TILE):
            tile = diff.crop((left, top, left + TILE, top + TILE))
            value = ImageStat.Stat(tile).mean[0]
            if value > TILE_LIMIT:
                mm = 25.4 / DPI
                found.append(
                    f"the {TILE}×{TILE} px square at ({left * mm:.0f} mm, {top * mm:.0f} mm) "
                    f"differs by {value:.1f}/255 (limit {TILE_LIMIT})"
                )
    return found


def approved_folder() -> Path:
    """Where this text stack's approved renders are: its own folder if it has one."""
    stack = text_stack(Layout(REPO / "layouts"))
    own = GOLDEN / stack.id
    return own if own.is_dir() else GOLDEN


def compare(pdf: Path, name: str, out: Path, margins: Margins, update: bool = False) -> list[str]:
    """Every difference between page ``PAGES[name]`` of ``pdf`` (laid out with ``margins``)
    and its approved render."""
    number = PAGES[name][1]
    [page] = read_pages(pdf, margins, [number])
    pixels = render_page(pdf, number, out)
    folder = approved_folder()
    if update:
        (folder / f"{name}.json").write_text(dumps(record(page)), "utf-8")
        pixels.save(folder / f"{name}.png", optimize=True)
    approved = folder / f"{name}.json"
    assert approved.exists(), f"no approved render: run pytest --update-golden ({approved})"
    expected = from_record(json.loads(approved.read_text("utf-8")))
    image = Image.open(folder / f"{name}.png").convert("RGB")
    found = differences(expected, page) + pixel_differences(pixels, image)
    if found:
        pixels.save(out / f"{name}-actual.png")
        diff = ImageChops.difference(pixels, image).convert("L")
        diff.point(lambda v: 255 if v >= 24 else 0).save(out / f"{name}-diff.png")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_matches_the_approved_render(name, tmp_path, request):
    update = request.config.getoption("--update-golden")
    built = request.getfixturevalue(BUILDS[PAGES[name][0]])
    margins = built.issue.manifest.print.margins
    found = compare(built.files["magazine-screen.pdf"], name, tmp_path, margins, update)
    assert found == [], f"{name} (see {tmp_path}):\n" + "\n".join(found)


# The approved renders must be able to fail: an issue with only the opener's review, built from
# layouts with one thing broken, must not match the approved opener (and, unbroken, must).
OPENER = "opener-verdict-in-absentia"
MUTATIONS = {
    "unbroken": ("layouts/default/print/print.css", "", ""),
    "section tab": (
        "layouts/default/print/review.html.j2",
        '    <p class="section-tab',
        '    <p hidden class="section-tab',
    ),
    "kicker": (
        "layouts/default/print/review.html.j2",
        '{% if review.kicker %}<p class="kicker">',
        '{% if false %}<p class="kicker">',
    ),
    "byline": (
        "layouts/default/print/review.html.j2",
        '<p class="byline">{{ common.byline(review) }}</p>',
        "",
    ),
    "film facts": (
        "layouts/default/print/review.html.j2",
        "{% for film in review.films %}",
        "{% for film in [] %}",
    ),
    "folio": (  # the opener is a right-hand page
        "layouts/default/print/print.css",
        "@bottom-right { content: counter(page);",
        "@bottom-right { content: none;",
    ),
    "hero moved": (
        "layouts/default/print/print.css",
        ".hero { margin: 0 0 5mm;",
        ".hero { margin: 9mm 0 5mm;",  # 4 mm lower: the film facts keep a 5 mm margin
    ),
    "one word of the title": (
        "content/reviews/verdict-in-absentia.md",
        'title: "Verdict in Absentia"',
        'title: "Verdict in Absence"',
    ),
}


@pytest.fixture(scope="module")
def opener_project(tmp_path_factory) -> Path:
    """The sample with one review: its opener is the sample's page 5, the same in every way."""
    root = tmp_path_factory.mktemp("opener")
    for name in ("layouts", "content"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "magbuilder.yaml", root)
    text = SAMPLE_MANIFEST.read_text("utf-8")
    (root / "issues").mkdir()
    (root / "issues" / "2026-12.yaml").write_text(_first_review_only(text), "utf-8")
    return root


def _first_review_only(manifest: str) -> str:
    """The sample manifest cut down to its first section's first review (and the ad before it,
    so that it opens on the same page)."""
    import yaml

    data = yaml.safe_load(manifest)
    first = data["sections"][0]
    data["sections"] = [{**first, "reviews": first["reviews"][:1]}]
    ahead = data["ads"]["slots"]["after-contents"]
    data["ads"] = {"max_share": 1, "slots": {"after-contents": ahead}}
    assert data["sections"][0]["reviews"] == ["verdict-in-absentia"]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.slow
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_approved_opener_catches_a_broken_page(mutation, opener_project, tmp_path):
    file, old, new = MUTATIONS[mutation]
    path = opener_project / file
    original = path.read_text("utf-8")
    assert old in original, f"{file} no longer contains {old!r}: update this mutation"
    path.write_text(original.replace(old, new, 1), "utf-8")
    try:
        # Only the screen file is compared: a preview build makes it the same, and nothing else.
        result = build_issue(
            opener_project / "issues/2026-12.yaml",
            opener_project / "build",
            BuildOptions(preview=True),
        )
    finally:
        path.write_text(original, "utf-8")
    found = compare(result.files["magazine-screen.pdf"], OPENER, tmp_path, Margins())
    if mutation == "unbroken":
        assert found == []
    else:
        assert found, f"breaking the {mutation} went unnoticed"

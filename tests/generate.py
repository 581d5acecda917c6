"""Generated projects of any size, for size-budget tests and the benchmark (deterministic)."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

WORDS = [
    "camera",
    "light",
    "river",
    "archive",
    "witness",
    "harbour",
    "winter",
    "village",
    "memory",
    "silence",
    "labour",
    "border",
    "season",
    "kitchen",
    "factory",
    "island",
    "road",
    "school",
    "court",
    "family",
    "mountain",
    "ferry",
    "signal",
    "harvest",
    "frame",
    "patience",
    "distance",
    "morning",
    "voice",
    "document",
    "editor",
    "sound",
    "night",
    "water",
    "salt",
    "ice",
    "the",
    "a",
    "of",
    "and",
    "in",
    "with",
    "its",
    "which",
    "slowly",
    "never",
    "often",
    "quietly",
    "between",
    "across",
    "under",
    "after",
]
KICKERS = ["MEMORY", "LABOUR", "JUSTICE", "CLIMATE", "FAMILY", "SCIENCE", "CRAFT", "SPORT"]
NAMES = ["Ana Ruiz", "Ola Berg", "Mei Tan", "Kofi Mensah", "Lea Roth", "Ivo Petrov", "Sara Nilsen"]


def sentence(rng: random.Random, low: int = 8, high: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def review_file(rng: random.Random, index: int, words: int = 900) -> str:
    """A review of about ``words`` words with sub-heads, a pull quote and full front matter."""
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7))).title()
    paragraphs: list[str] = []
    count = 0
    while count < words:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        count += len(paragraph.split())
        paragraphs.append(paragraph)
        if len(paragraphs) % 4 == 0:
            paragraphs.append(f"## {sentence(rng, 2, 5)[:-1]}")
        if len(paragraphs) == 6:
            paragraphs.append(f"::: pullquote\n{sentence(rng, 10, 16)}\n:::")
    name = NAMES[index % len(NAMES)]
    return (
        f"""---
title: "{title}"
kicker: "{KICKERS[index % len(KICKERS)]}"
standfirst: "{sentence(rng, 25, 40)}"
author: "{name}"
author_bio: "{name} writes about documentary for the magazine."
published: 2026-10-{index % 28 + 1:02d}
tags: [generated]
films:
  - title: "{title}"
    directors: ["{rng.choice(NAMES)}"]
    countries: ["Norway", "Chile"]
    year: 2025
    runtime: {rng.randint(60, 130)}
image:
  src: media/generated-{index % 4}.jpg
  alt: "Generated illustration {index}"
  caption: "{sentence(rng, 6, 12)}"
  credit: "Illustration: generated"
---
"""
        + "\n\n".join(paragraphs)
        + "\n"
    )


def generate_project(root: Path, reviews: int, *, words: int = 900, seed: int = 1) -> Path:
    """Write reviews, images and ``issues/gen-<n>.yaml`` into ``root`` (which holds layouts/)."""
    rng = random.Random(seed)
    media = root / "content" / "media"
    media.mkdir(parents=True, exist_ok=True)
    (root / "content" / "reviews").mkdir(parents=True, exist_ok=True)
    for i in range(4):
        path = media / f"generated-{i}.jpg"
        if not path.exists():
            image = Image.linear_gradient("L").resize((2400, 1600)).convert("RGB")
            image.save(path, quality=85)
    cover = media / "generated-cover.jpg"  # 300 ppi at A4 with bleed
    if not cover.exists():
        Image.linear_gradient("L").resize((2560, 3600)).convert("RGB").save(cover, quality=85)
    slugs = []
    for i in range(reviews):
        slug = f"review-{i + 1:03d}"
        (root / "content" / "reviews" / f"{slug}.md").write_text(
            review_file(rng, i, words), "utf-8"
        )
        slugs.append(slug)
    per = max(1, -(-reviews // 3))
    sections = "\n".join(
        f'  - title: "Section {n + 1}"\n    reviews: [{", ".join(slugs[n * per : (n + 1) * per])}]'
        for n in range(3)
        if slugs[n * per : (n + 1) * per]
    )
    manifest = root / "issues" / f"gen-{reviews}.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        f"""id: "gen-{reviews}"
number: {reviews}
title: "Generated issue of {reviews} reviews"
date: 2026-12-01
cover:
  image: media/generated-cover.jpg
  headline: "A generated cover headline"
  lines: ["First line", "Second line"]
editorial:
  author: "The Editor"
  text: "{sentence(rng, 60, 90)}"
sections:
{sections}
newsletter:
  subject: "Generated issue"
  preheader: "{sentence(rng, 10, 14)}"
  intro: "{sentence(rng, 30, 50)}"
""",
        "utf-8",
    )
    return manifest

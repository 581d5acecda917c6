#!/usr/bin/env python3
"""Generate the original sample illustrations for the LONG TAKE magazine.

Every picture is painted procedurally with Pillow alone: layered gradients for
sky, sea and land, soft-edged silhouettes drawn at twice the final resolution
and downsampled, screen-mode glows for light, mirrored and rippled water, and a
faint paper texture, grain and vignette so the pages feel printed rather than
rendered.  Nothing is downloaded and no text is drawn into the images.

The output is deterministic: every motif uses its own fixed random seed, so a
re-run reproduces the same pictures.  Files are written as progressive,
optimised RGB JPEGs tagged 300 dpi, each kept under 400 KB.

Usage::

    python scripts/make_sample_images.py [--out content/media] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageEnhance, ImageFilter, ImageOps

SUPERSAMPLE = 2
MAX_BYTES = 390_000  # comfortably under 400 kB, whether counted in 1000s or 1024s
QUALITIES = (87, 86, 85, 84, 83, 82, 80)
DPI = (300, 300)

HERO = (2400, 1600)
SECONDARY = (1800, 1200)
COVER = (2552, 3580)  # A4 plus 3 mm bleed at 300 ppi, portrait

LANCZOS = Image.Resampling.LANCZOS
BILINEAR = Image.Resampling.BILINEAR
BICUBIC = Image.Resampling.BICUBIC

Color = str | tuple[int, ...]
Point = tuple[float, float]
Polygon = list[Point]
# Painters draw on a Pen; any return value is ignored, so one-line lambdas may
# build lists or tuples of draw calls.
Paint = Callable[["Pen"], object]


# --------------------------------------------------------------------------
# Small numeric and colour helpers
# --------------------------------------------------------------------------


def lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def smooth(edge0: float, edge1: float, x: float) -> float:
    """Hermite smoothstep of x between edge0 and edge1."""
    t = min(1.0, max(0.0, (x - edge0) / (edge1 - edge0)))
    return t * t * (3 - 2 * t)


def rgb(color: Color) -> tuple[int, int, int]:
    if isinstance(color, str):
        return ImageColor.getrgb(color)[:3]
    return tuple(int(v) for v in color[:3])


def mix(a: Color, b: Color, t: float) -> tuple[int, int, int]:
    return tuple(round(lerp(x, y, t)) for x, y in zip(rgb(a), rgb(b), strict=True))


def rgba(color: Color, alpha: float = 1.0) -> tuple[int, int, int, int]:
    return (*rgb(color), round(255 * alpha))


def jitter(color: Color, rng: random.Random, amount: float) -> tuple[int, int, int]:
    """Shift a colour's brightness by up to +/- amount (0..1)."""
    k = rng.uniform(-amount, amount)
    return mix(color, "#ffffff" if k > 0 else "#000000", abs(k))


def pick(rng: random.Random, palette: Sequence[Color]) -> Color:
    return palette[rng.randrange(len(palette))]


# --------------------------------------------------------------------------
# Gradients and masks
# --------------------------------------------------------------------------


def _stop_color(stops: Sequence[tuple[float, Color]], t: float) -> tuple[int, int, int]:
    if t <= stops[0][0]:
        return rgb(stops[0][1])
    for (p0, c0), (p1, c1) in pairwise(stops):
        if t <= p1:
            return mix(c0, c1, (t - p0) / (p1 - p0) if p1 > p0 else 1.0)
    return rgb(stops[-1][1])


def gradient(
    size: tuple[int, int], stops: Sequence[tuple[float, Color]], vertical: bool = True
) -> Image.Image:
    """Linear multi-stop gradient; stop positions are fractions of the image."""
    w, h = size
    n = h if vertical else w
    strip = Image.new("RGB", (1, n) if vertical else (n, 1))
    strip.putdata([_stop_color(stops, i / max(1, n - 1)) for i in range(n)])
    return strip.resize(size, Image.Resampling.NEAREST)


def vmask(size: tuple[int, int], stops: Sequence[tuple[float, float]]) -> Image.Image:
    """Vertical greyscale mask; stops are (position, opacity 0..1)."""
    grey = [(p, (round(v * 255),) * 3) for p, v in stops]
    return gradient(size, grey).convert("L")


def scale_mask(mask: Image.Image, k: float) -> Image.Image:
    if k == 1.0:
        return mask
    return mask.point([min(255, round(i * k)) for i in range(256)])


def radial_mask(
    size: tuple[int, int],
    x: float,
    y: float,
    rx: float,
    ry: float | None = None,
    falloff: float = 2.0,
) -> Image.Image:
    """Soft elliptical blob centred at normalised (x, y); radii in image heights."""
    w, h = size
    ry = rx if ry is None else ry
    bw, bh = max(1, round(2 * rx * h)), max(1, round(2 * ry * h))
    # Image.radial_gradient reaches 181 on its inscribed circle.
    lut = [round(255 * max(0.0, 1 - (i / 181) ** 2) ** falloff) for i in range(256)]
    blob = Image.radial_gradient("L").point(lut).resize((bw, bh), BILINEAR)
    out = Image.new("L", size, 0)
    out.paste(blob, (round(x * w - bw / 2), round(y * h - bh / 2)))
    return out


# --------------------------------------------------------------------------
# Drawing surface
# --------------------------------------------------------------------------


class Pen:
    """Draws on a supersampled image in normalised coordinates.

    x and y run 0..1 across the width and the height.  Radii and line widths
    are fractions of the image *height*, so circles stay round.  On an "L"
    mask, fills are 0..255 (default 255); on an RGBA layer they are colours.
    """

    def __init__(self, image: Image.Image):
        self.draw = ImageDraw.Draw(image)
        self.w, self.h = image.size
        self.mono = image.mode == "L"

    def _ink(self, fill):
        if self.mono:
            return round(fill * 255) if isinstance(fill, float) else fill
        if isinstance(fill, tuple) and len(fill) == 4:
            return fill
        return rgba(fill)

    def _xy(self, pts: Iterable[Point]) -> list[Point]:
        return [(x * self.w, y * self.h) for x, y in pts]

    def polygon(self, pts: Sequence[Point], fill=255) -> None:
        if len(pts) >= 3:
            self.draw.polygon(self._xy(pts), fill=self._ink(fill))

    def line(self, pts: Sequence[Point], width: float, fill=255) -> None:
        self.draw.line(
            self._xy(pts), fill=self._ink(fill), width=max(1, round(width * self.h)), joint="curve"
        )

    def ellipse(self, cx: float, cy: float, rx: float, ry: float | None = None, fill=255) -> None:
        ry = rx if ry is None else ry
        x, y = cx * self.w, cy * self.h
        self.draw.ellipse(
            (x - rx * self.h, y - ry * self.h, x + rx * self.h, y + ry * self.h),
            fill=self._ink(fill),
        )

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill=255) -> None:
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill)


class Scene:
    """An RGB canvas plus the compositing operations the motifs share."""

    def __init__(self, size: tuple[int, int], background: Image.Image | Color):
        self.size = size
        self.w, self.h = size
        self.aspect = self.w / self.h
        if isinstance(background, Image.Image):
            self.img = background.convert("RGB")
        else:
            self.img = Image.new("RGB", size, rgb(background))

    # -- geometry ---------------------------------------------------------
    def place(
        self,
        pts: Iterable[Point],
        x: float,
        y: float,
        scale: float,
        angle: float = 0.0,
        mirror: bool = False,
    ) -> Polygon:
        """Map local shape points (image-height units, y down) to the canvas."""
        ca, sa = math.cos(angle), math.sin(angle)
        out = []
        for px, py in pts:
            px = -px if mirror else px
            out.append(
                (x + (px * ca - py * sa) * scale / self.aspect, y + (px * sa + py * ca) * scale)
            )
        return out

    def gradient(self, stops: Sequence[tuple[float, Color]]) -> Image.Image:
        return gradient(self.size, stops)

    # -- rendering --------------------------------------------------------
    def _render(self, mode: str, paint: Paint, blur: float) -> Image.Image:
        big = Image.new(mode, (self.w * SUPERSAMPLE, self.h * SUPERSAMPLE), 0)
        paint(Pen(big))
        im = big.resize(self.size, LANCZOS)
        if blur:
            radius = ImageFilter.GaussianBlur(blur * self.h)
            if mode == "RGBA":  # blur premultiplied so edges do not go dark
                im = im.convert("RGBa").filter(radius).convert("RGBA")
            else:
                im = im.filter(radius)
        return im

    def mask(self, paint: Paint, blur: float = 0.0) -> Image.Image:
        return self._render("L", paint, blur)

    def _source(self, source: Image.Image | Color) -> Image.Image:
        if isinstance(source, Image.Image):
            return source
        return Image.new("RGB", self.size, rgb(source))

    def fill(self, source, mask: Image.Image, opacity: float = 1.0) -> None:
        self.img = Image.composite(self._source(source), self.img, scale_mask(mask, opacity))

    def light(self, source, mask: Image.Image, strength: float = 1.0) -> None:
        """Screen-blend a colour through a mask (adds light)."""
        lit = Image.composite(
            self._source(source), Image.new("RGB", self.size), scale_mask(mask, strength)
        )
        self.img = ImageChops.screen(self.img, lit)

    def shade(self, source, mask: Image.Image, strength: float = 1.0) -> None:
        """Multiply-blend a colour through a mask (takes light away)."""
        tint = Image.composite(
            self._source(source),
            Image.new("RGB", self.size, (255,) * 3),
            scale_mask(mask, strength),
        )
        self.img = ImageChops.multiply(self.img, tint)

    def shape(self, paint: Paint, fill, blur: float = 0.0, opacity: float = 1.0) -> None:
        self.fill(fill, self.mask(paint, blur), opacity)

    def layer(self, paint: Paint, blur: float = 0.0, opacity: float = 1.0) -> None:
        """Paint multi-coloured shapes on a transparent layer and composite it."""
        im = self._render("RGBA", paint, blur)
        self.img.paste(im.convert("RGB"), (0, 0), scale_mask(im.getchannel("A"), opacity))

    def glow(
        self,
        x: float,
        y: float,
        rx: float,
        ry: float | None = None,
        color: Color = "#ffffff",
        strength: float = 1.0,
        falloff: float = 2.0,
        mode: str = "light",
    ) -> None:
        blend = {"light": self.light, "fill": self.fill, "shade": self.shade}[mode]
        blend(color, radial_mask(self.size, x, y, rx, ry, falloff), strength)

    def defocus(self, stops: Sequence[tuple[float, float]], radius: float) -> None:
        """Blur the picture through a vertical mask, like a shallow depth of field."""
        soft = self.img.filter(ImageFilter.GaussianBlur(radius * self.h))
        self.img = Image.composite(soft, self.img, vmask(self.size, stops))

    def band(self, stops: Sequence[tuple[float, float]], color: Color, mode: str = "fill") -> None:
        """Apply a colour through a vertical gradient mask (haze, mist, dusk)."""
        blend = {"light": self.light, "fill": self.fill, "shade": self.shade}[mode]
        blend(color, vmask(self.size, stops))


# --------------------------------------------------------------------------
# Shape generators (local coordinates: image-height units, y pointing down)
# --------------------------------------------------------------------------


def ellipse_pts(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    angle: float = 0.0,
    n: int = 72,
    start: float = 0.0,
    end: float = 2 * math.pi,
) -> Polygon:
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for i in range(n + 1):
        t = lerp(start, end, i / n)
        x, y = rx * math.cos(t), ry * math.sin(t)
        pts.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return pts


def blob_pts(
    rng: random.Random,
    rx: float,
    ry: float,
    roughness: float = 0.15,
    n: int = 48,
    flat_bottom: bool = False,
) -> Polygon:
    """Irregular closed shape around the origin (rocks, bushes, islands)."""
    harmonics = [
        (k, rng.uniform(0, roughness) / k**0.8, rng.uniform(0, 2 * math.pi)) for k in range(2, 7)
    ]
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        r = 1 + sum(a * math.sin(k * t + ph) for k, a, ph in harmonics)
        y = ry * r * math.sin(t)
        pts.append((rx * r * math.cos(t), min(y, 0.0) if flat_bottom else y))
    return pts


def mirror_y(pts: Iterable[Point], axis: float) -> Polygon:
    return [(x, 2 * axis - y) for x, y in pts]


def offset(pts: Iterable[Point], dx: float = 0.0, dy: float = 0.0, scale: float = 1.0) -> Polygon:
    """Scale local points about the origin, then move them by (dx, dy)."""
    return [(x * scale + dx, y * scale + dy) for x, y in pts]


def figure_parts(stance: float = 0.0, arm: float = 0.0) -> Polygon:
    """A standing person, feet at the origin, height 1 (single silhouette)."""
    pts = [
        (-0.02, -0.86),
        (-0.105, -0.80),
        (-0.125 - arm, -0.47),
        (-0.10 - arm, -0.46),
        (-0.085, -0.62),
        (-0.075, -0.42),
        (-0.06 - stance, 0.0),
        (-0.015 - stance, 0.0),
        (0.0, -0.36),
        (0.015 + stance, 0.0),
        (0.06 + stance, 0.0),
        (0.075, -0.42),
        (0.085, -0.62),
        (0.10 + arm, -0.46),
        (0.125 + arm, -0.47),
        (0.105, -0.80),
        (0.02, -0.86),
    ]
    return pts


def head_pts() -> Polygon:
    return ellipse_pts(0.0, -0.925, 0.055, 0.068, n=24)


def boat_parts() -> dict[str, Polygon]:
    """Small open fishing boat, length 1, waterline at y=0, bow to the right."""
    hull = [
        (-0.46, 0.0),
        (0.40, 0.0),
        (0.52, -0.10),
        (0.56, -0.15),
        (0.30, -0.115),
        (-0.40, -0.11),
        (-0.50, -0.125),
    ]
    cabin = [(-0.34, -0.11), (-0.34, -0.27), (-0.10, -0.27), (-0.06, -0.11)]
    mast = [(0.12, -0.11), (0.135, -0.11), (0.13, -0.62), (0.118, -0.62)]
    return {"hull": hull, "cabin": cabin, "mast": mast}


def lighthouse_parts() -> dict[str, Polygon]:
    """Tapered tower, base centre at the origin, total height 1."""

    def width_at(y: float) -> float:
        return lerp(0.085, 0.055, -y / 0.78)

    def section(y0: float, y1: float) -> Polygon:
        return [(-width_at(y0), y0), (width_at(y0), y0), (width_at(y1), y1), (-width_at(y1), y1)]

    return {
        "tower": section(0.0, -0.78),
        "shade": [(0.02, 0.0), (width_at(0.0), 0.0), (width_at(-0.78), -0.78), (0.012, -0.78)],
        "band": section(-0.50, -0.58),
        "gallery": [(-0.082, -0.775), (0.082, -0.775), (0.082, -0.80), (-0.082, -0.80)],
        "lantern": [(-0.042, -0.80), (0.042, -0.80), (0.042, -0.915), (-0.042, -0.915)],
        "roof": [(-0.058, -0.912), (0.058, -0.912), (0.0, -0.99)],
        "lamp": [(0.0, -0.858)],
    }


def house_parts(
    width: float, wall: float, roof: float, windows: Sequence[float] = (0.3, 0.7)
) -> dict[str, list[Polygon]]:
    """Gabled house seen side-on, base centre at origin."""
    hw = width / 2
    win_w, win_h = width * 0.11, wall * 0.32
    return {
        "wall": [[(-hw, 0.0), (hw, 0.0), (hw, -wall), (-hw, -wall)]],
        "roof": [
            [
                (-hw - width * 0.06, -wall + roof * 0.05),
                (0.0, -wall - roof),
                (hw + width * 0.06, -wall + roof * 0.05),
            ]
        ],
        "windows": [
            [
                (-hw + f * width - win_w / 2, -wall * 0.38),
                (-hw + f * width + win_w / 2, -wall * 0.38),
                (-hw + f * width + win_w / 2, -wall * 0.38 - win_h),
                (-hw + f * width - win_w / 2, -wall * 0.38 - win_h),
            ]
            for f in windows
        ],
    }


# --------------------------------------------------------------------------
# Landscape building blocks
# --------------------------------------------------------------------------


def ridge(
    rng: random.Random,
    base: float,
    height: float,
    *,
    octaves: int = 5,
    freq: float = 1.2,
    rough: float = 0.5,
    sharp: float = 0.0,
    cap: float = 1.0,
    envelope: Callable[[float], float] | None = None,
    n: int = 320,
) -> Polygon:
    """A fractal skyline: points whose tops rise up to `height` above `base`."""
    layers = [
        (freq * 2**o * rng.uniform(0.85, 1.15), rough**o, rng.random()) for o in range(octaves)
    ]
    norm = sum(a for _, a, _ in layers)
    pts = []
    for i in range(n + 1):
        x = lerp(-0.02, 1.02, i / n)
        v = 0.0
        for f, a, ph in layers:
            s = math.sin(2 * math.pi * (f * x + ph))
            if sharp:
                s = (1 - sharp) * s + sharp * (1 - 2 * abs(s))
            v += a * s
        v = min(cap, 0.5 + 0.5 * v / norm) / cap
        pts.append((x, base - height * v * (envelope(x) if envelope else 1.0)))
    return pts


def below(pts: Polygon, bottom: float = 1.02) -> Polygon:
    """Close a skyline into a polygon that fills everything underneath it."""
    return [*pts, (pts[-1][0], bottom), (pts[0][0], bottom)]


def facet_shade(
    scene: Scene,
    pts: Polygon,
    base: float,
    color: Color,
    strength: float,
    *,
    spur: float = -0.12,
    gully: float = 0.6,
    min_drop: float = 0.015,
    blur: float = 0.0015,
) -> None:
    """Shade the lee faces of a mountain skyline as diagonal facets.

    From every peak a spur runs down (slightly left), from the following
    valley a gully runs down to the right; the face between them is in
    shadow, fading towards the base.
    """
    ys = [y for _, y in pts]

    def foot(x: float, y: float, slope: float) -> Point:
        return (x + slope * (base - y) / scene.aspect, base)

    def paint(pen: Pen) -> None:
        for i in range(1, len(pts) - 1):
            if not (ys[i] <= ys[i - 1] and ys[i] < ys[i + 1]):
                continue
            j = i
            while j + 1 < len(pts) and ys[j + 1] >= ys[j]:
                j += 1
            if ys[j] - ys[i] >= min_drop:
                pen.polygon([*pts[i : j + 1], foot(*pts[j], gully), foot(*pts[i], spur)])

    faces = ImageChops.multiply(
        scene.mask(paint, blur), scene.mask(lambda p: p.polygon(below(pts, base)))
    )
    top = min(ys)
    fade = vmask(scene.size, [(top, 1.0), (lerp(top, base, 0.5), 0.7), (base, 0.0)])
    scene.shade(color, ImageChops.multiply(faces, fade), strength)


def treeline(
    scene: Scene,
    rng: random.Random,
    y: float,
    height: float,
    color: Color,
    *,
    envelope: Callable[[float], float] | None = None,
    blur: float = 0.001,
) -> None:
    """A woodland edge of overlapping rounded crowns standing on the line y."""

    def paint(pen: Pen) -> None:
        x = -0.02
        while x < 1.02:
            r = height * rng.uniform(0.45, 1.0) * (envelope(x) if envelope else 1.0)
            if r > 0.002:
                pen.ellipse(x, y - r * 0.8, r * rng.uniform(0.45, 0.7), r)
            x += max(0.002, r * 0.45 / scene.aspect)
        pen.rect(-0.02, y, 1.02, 1.02)

    scene.shape(paint, color, blur=blur)


def cloud_bank(
    scene: Scene,
    rng: random.Random,
    count: int,
    y0: float,
    y1: float,
    color: Color,
    opacity: float,
    *,
    blur: float = 0.025,
    size: tuple[float, float] = (0.012, 0.04),
    stretch: tuple[float, float] = (4.0, 10.0),
    x_range: tuple[float, float] = (-0.1, 1.1),
) -> None:
    def paint(pen: Pen) -> None:
        for _ in range(count):
            ry = rng.uniform(*size)
            pen.ellipse(
                rng.uniform(*x_range),
                rng.uniform(y0, y1),
                ry * rng.uniform(*stretch),
                ry,
                fill=rng.randint(110, 255),
            )

    scene.shape(paint, color, blur=blur, opacity=opacity)


def starfield(
    scene: Scene,
    rng: random.Random,
    count: int,
    y0: float,
    y1: float,
    *,
    color: Color = "#f4f1ff",
    size: float = 0.0007,
    around: Callable[[random.Random], Point] | None = None,
    share: float = 0.0,
) -> None:
    """Scatter stars; `share` of them are drawn from the `around` distribution."""

    def paint(pen: Pen) -> None:
        for _ in range(count):
            if around and rng.random() < share:
                x, y = around(rng)
            else:
                x, y = rng.random(), lerp(y0, y1, rng.random() ** 1.4)
            r = size * rng.uniform(0.6, 1.2) * (1 + 2.5 * rng.random() ** 12)
            pen.ellipse(x, y, r, fill=rng.randint(70, 255))

    scene.light(color, scene.mask(paint))


def glints(
    scene: Scene,
    rng: random.Random,
    count: int,
    y0: float,
    y1: float,
    color: Color,
    strength: float,
    *,
    center: float | None = None,
    spread: float = 0.05,
    length: tuple[float, float] = (0.006, 0.05),
    thickness: tuple[float, float] = (0.0007, 0.0022),
) -> None:
    """Horizontal flecks of light on water, growing towards the viewer."""

    def paint(pen: Pen) -> None:
        for _ in range(count):
            t = rng.random() ** 1.3
            y = lerp(y0, y1, t)
            x = (
                rng.gauss(center, spread * (0.35 + t))
                if center is not None
                else rng.uniform(-0.05, 1.05)
            )
            pen.ellipse(
                x,
                y,
                lerp(*length, t) * rng.uniform(0.3, 1.1),
                lerp(*thickness, t),
                fill=rng.randint(60, 255),
            )

    scene.light(color, scene.mask(paint, blur=0.0004), strength)


def reflect(
    scene: Scene, horizon: float, strength: float, *, fade: float = 0.35, blur: float = 0.003
) -> None:
    """Mirror everything above the horizon into the water below it."""
    w, h = scene.size
    y0 = round(horizon * h)
    depth = h - y0
    src = scene.img.crop((0, max(0, y0 - depth), w, y0)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    src = src.resize((w, depth), BICUBIC).filter(ImageFilter.GaussianBlur(blur * h))
    scene.img.paste(src, (0, y0), vmask((w, depth), [(0, strength), (1, strength * fade)]))


def ripple(
    scene: Scene, rng: random.Random, y0: float, y1: float, amplitude: float, band: float = 0.0025
) -> None:
    """Shift thin horizontal strips sideways so water reflections shimmer."""
    w, h = scene.size
    top, bottom = round(y0 * h), round(y1 * h)
    region = scene.img.crop((0, top, w, bottom))
    out = region.copy()
    p1, p2 = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
    y, k = 0, 0
    while y < region.height:
        t = y / max(1, region.height)
        step = max(2, round(band * h * (1 + 3 * t)))
        wave = math.sin(p1 + 0.9 * k) + 0.6 * math.sin(p2 + 2.3 * k) + 0.4 * rng.uniform(-1, 1)
        out.paste(region.crop((0, y, w, y + step)), (round(amplitude * h * (0.3 + t) * wave), y))
        y += step
        k += 1
    scene.img.paste(out, (0, top))


def beam(
    scene: Scene,
    x: float,
    y: float,
    angle: float,
    length: float,
    spread: float,
    color: Color,
    strength: float,
) -> None:
    """A soft searchlight wedge from (x, y); angle in radians, 0 = right, y down."""

    def paint(pen: Pen) -> None:
        a0, a1 = angle - spread, angle + spread
        pen.polygon(
            [
                (x, y),
                (x + math.cos(a0) * length / scene.aspect, y + math.sin(a0) * length),
                (x + math.cos(a1) * length / scene.aspect, y + math.sin(a1) * length),
            ]
        )

    wedge = scene.mask(paint, blur=spread * length * 0.35)
    fade = radial_mask(scene.size, x, y, length, falloff=1.4)
    scene.light(color, ImageChops.multiply(wedge, fade), strength)


@dataclass
class Camera:
    """Pinhole camera at the origin looking along +Z (X right, Y up)."""

    horizon: float
    focal: float
    aspect: float
    cx: float = 0.5

    def __call__(self, x: float, y: float, z: float) -> Point:
        return (self.cx + self.focal * x / (z * self.aspect), self.horizon - self.focal * y / z)

    def quad(self, corners: Iterable[tuple[float, float, float]]) -> Polygon:
        return [self(*c) for c in corners]

    def ground(self, x0: float, x1: float, z0: float, z1: float, y: float) -> Polygon:
        return self.quad([(x0, y, z0), (x1, y, z0), (x1, y, z1), (x0, y, z1)])

    def strip(
        self,
        center: Callable[[float], float],
        half: float,
        y: float,
        z0: float,
        z1: float,
        n: int = 80,
    ) -> Polygon:
        """A ground ribbon (road, rail, line) following center(z)."""
        zs = [z0 * (z1 / z0) ** (i / n) for i in range(n + 1)]
        return [self(center(z) - half, y, z) for z in zs] + [
            self(center(z) + half, y, z) for z in reversed(zs)
        ]

    def box(
        self, x0: float, x1: float, y0: float, y1: float, z0: float, z1: float
    ) -> dict[str, Polygon]:
        """The faces of an axis-aligned box that the camera can see."""
        faces = {"front": [(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0)]}
        if x0 > 0:
            faces["left"] = [(x0, y0, z0), (x0, y0, z1), (x0, y1, z1), (x0, y1, z0)]
        if x1 < 0:
            faces["right"] = [(x1, y0, z0), (x1, y0, z1), (x1, y1, z1), (x1, y1, z0)]
        if y1 < 0:
            faces["top"] = [(x0, y1, z0), (x1, y1, z0), (x1, y1, z1), (x0, y1, z1)]
        return {k: self.quad(v) for k, v in faces.items()}


# --------------------------------------------------------------------------
# Finishing: paper, grain, vignette
# --------------------------------------------------------------------------


def _noise(rng: random.Random, size: tuple[int, int], blur: float) -> Image.Image:
    w, h = size
    n = Image.frombytes("L", size, rng.randbytes(w * h))
    return ImageOps.autocontrast(n.filter(ImageFilter.GaussianBlur(blur)), cutoff=0.5)


def finish(
    scene: Scene,
    rng: random.Random,
    *,
    paper: float = 0.06,
    grain: float = 0.035,
    vignette: float = 0.3,
    vignette_color: Color = "#120e0c",
    saturation: float = 1.0,
) -> Image.Image:
    """Add the printed-page feel shared by every illustration."""
    img = scene.img
    if saturation != 1.0:
        img = ImageEnhance.Color(img).enhance(saturation)
    if paper:
        small = (max(4, scene.w // 14), max(4, scene.h // 14))
        mottle = _noise(rng, small, 1.3).resize(scene.size, BICUBIC).convert("RGB")
        img = Image.blend(img, ImageChops.soft_light(img, mottle), paper)
    scene.img = img
    if vignette:
        edge = ImageOps.invert(
            radial_mask(scene.size, 0.5, 0.5, 0.78 * scene.aspect, 0.78, falloff=0.9)
        )
        scene.shade(vignette_color, edge, vignette)
    if grain:
        fine = _noise(rng, scene.size, 0.55).convert("RGB")
        scene.img = Image.blend(scene.img, ImageChops.overlay(scene.img, fine), grain)
    return scene.img


# --------------------------------------------------------------------------
# Motifs
# --------------------------------------------------------------------------


def the_salt_keepers(size: tuple[int, int]) -> Image.Image:
    """Salt pans cut into a rocky Norwegian shore under a grey-blue sky."""
    rng = random.Random(101)
    horizon = 0.50
    s = Scene(size, gradient(size, [(0, "#6f8599"), (0.30, "#a9b8c3"), (horizon, "#dfe3df")]))
    s.glow(0.68, 0.28, 0.75, 0.32, "#fbf2de", 0.55)
    cloud_bank(s, rng, 16, 0.03, 0.36, "#f2f2ee", 0.45)
    cloud_bank(s, rng, 9, 0.06, 0.28, "#4f6378", 0.25, blur=0.03)

    far = ridge(
        rng,
        horizon,
        0.16,
        sharp=0.6,
        freq=1.4,
        envelope=lambda x: 0.3 + 0.7 * smooth(0.0, 0.4, x) * (1 - 0.55 * smooth(0.55, 1.0, x)),
    )
    s.shape(
        lambda p: p.polygon(below(far)),
        s.gradient([(0.34, "#9aabb9"), (horizon, "#b4c1c9")]),
        blur=0.0015,
    )
    facet_shade(s, far, horizon, "#8c9db2", 0.6, blur=0.006)
    head = ridge(
        rng,
        horizon + 0.004,
        0.085,
        freq=1.6,
        sharp=0.3,
        envelope=lambda x: 1 - smooth(0.18, 0.42, x),
    )
    s.shape(
        lambda p: p.polygon(below(head)),
        s.gradient([(0.42, "#5e7081"), (horizon, "#74879a")]),
        blur=0.001,
    )

    s.shape(lambda p: p.rect(0, horizon, 1, 1), s.gradient([(horizon, "#aab7bd"), (1, "#5d7283")]))
    reflect(s, horizon, 0.45)
    ripple(s, rng, horizon, 1, 0.0015)
    glints(
        s,
        rng,
        220,
        horizon + 0.005,
        0.72,
        "#ffffff",
        0.4,
        center=0.68,
        spread=0.12,
        length=(0.004, 0.03),
        thickness=(0.0006, 0.0016),
    )

    shore = ridge(
        rng,
        0.70,
        0.06,
        freq=2.4,
        octaves=6,
        rough=0.55,
        envelope=lambda x: 0.35 + 0.65 * (1 - smooth(0.1, 0.5, x)) + 0.5 * smooth(0.75, 1.0, x),
    )
    s.shape(
        lambda p: p.polygon(below(shore)),
        s.gradient([(0.64, "#6e7a80"), (0.8, "#525e66"), (1, "#2c353c")]),
        blur=0.0008,
    )
    s.shape(lambda p: p.line(shore, 0.003), "#aab3b4", blur=0.0015, opacity=0.5)

    def striations(p: Pen) -> None:
        for _ in range(40):
            y = rng.uniform(0.72, 1.0)
            x = rng.uniform(-0.1, 1.0)
            length = rng.uniform(0.05, 0.25) * (0.4 + y)
            p.line(
                [(x, y), (x + length, y + rng.uniform(-0.01, 0.01))],
                rng.uniform(0.001, 0.003),
                fill=rng.randint(80, 255),
            )

    s.shape(striations, "#9aa4a8", blur=0.0015, opacity=0.35)

    cam = Camera(horizon, 1.35, s.aspect)
    ground_y = -1.0
    pans = [
        (x + rng.uniform(-0.08, 0.08), z, rng.uniform(0.75, 0.92))
        for z in (3.5, 4.6)
        for x in (-1.6, -0.55, 0.5)
    ]

    def rims(p: Pen) -> None:
        for x, z, w in pans:
            p.polygon(cam.ground(x - 0.05, x + w + 0.05, z - 0.06, z + 0.96, ground_y))

    def pools(p: Pen) -> None:
        for x, z, w in pans:
            p.polygon(cam.ground(x, x + w, z, z + 0.9, ground_y))

    s.shape(rims, "#3b454c", blur=0.0005)
    s.shape(pools, s.gradient([(0.72, "#b3c1c8"), (0.9, "#e2e7e4")]), blur=0.0004)
    s.shape(
        lambda p: [p.polygon(cam.ground(x, x + w, z + 0.8, z + 0.9, ground_y)) for x, z, w in pans],
        "#f4f3ee",
        blur=0.001,
        opacity=0.8,
    )

    for side in (-1, 1):
        boulders = ridge(
            rng,
            1.02,
            0.26,
            freq=1.8,
            octaves=5,
            rough=0.5,
            envelope=lambda x, side=side: smooth(0.62, 1.0, side * (x - 0.5) + 0.5),
        )
        s.shape(
            lambda p, b=boulders: p.polygon(below(b, 1.05)),
            s.gradient([(0.76, "#4d585f"), (1, "#1d2429")]),
            blur=0.0012,
        )
        s.shape(
            lambda p, b=boulders: p.line([pt for pt in b if pt[1] < 1.0], 0.003),
            "#9fa9ad",
            blur=0.002,
            opacity=0.45,
        )

    shed = house_parts(0.11, 0.05, 0.035, windows=())
    hx, hy = 0.84, 0.685
    s.shape(lambda p: p.polygon(s.place(shed["wall"][0], hx, hy, 1.0)), "#66463f", blur=0.0005)
    s.shape(lambda p: p.polygon(s.place(shed["roof"][0], hx, hy, 1.0)), "#2d3032", blur=0.0005)
    s.shape(lambda p: p.rect(hx - 0.008, hy - 0.032, hx + 0.008, hy), "#22191a")

    fx, fy, tall = 0.575, 0.80, 0.075
    s.shape(
        lambda p: (
            p.polygon(s.place(figure_parts(0.01, 0.02), fx, fy, tall)),
            p.polygon(s.place(head_pts(), fx, fy, tall)),
            p.line([s.place([(0.1, -0.5)], fx, fy, tall)[0], (fx + 0.025, fy + 0.008)], 0.0016),
        ),
        "#1f262b",
    )
    return finish(s, rng, paper=0.06, vignette=0.32, vignette_color="#0e1418")


def the_salt_keepers_2(size: tuple[int, int]) -> Image.Image:
    """Salt pans at low tide: a grid of shallow pools catching a low sun."""
    rng = random.Random(102)
    horizon = 0.40
    s = Scene(size, gradient(size, [(0, "#9badbb"), (0.22, "#cbd1cf"), (horizon, "#f1e3c6")]))
    sun = (0.30, 0.365)
    s.glow(*sun, 0.45, 0.3, "#fff0cc", 0.75)
    s.glow(*sun, 0.03, color="#fffaf0", strength=1.0, falloff=0.6)
    cloud_bank(
        s, rng, 12, 0.05, 0.30, "#f7efe2", 0.4, stretch=(8, 16), size=(0.005, 0.014), blur=0.012
    )
    land = ridge(rng, horizon, 0.03, freq=2.0, envelope=lambda x: 0.3 + smooth(0.5, 1.0, x))
    s.shape(lambda p: p.polygon(below(land)), "#7f8a91", blur=0.0015)

    s.shape(
        lambda p: p.rect(0, horizon, 1, 1),
        s.gradient([(horizon, "#c9c1b2"), (0.62, "#a39b8e"), (1, "#6d675f")]),
    )
    reflect(s, horizon, 0.4, fade=0.2)

    cam = Camera(horizon, 1.25, s.aspect)
    ground_y = -1.7
    xs = [-15 + 3.6 * i for i in range(9)]
    zs = [3.2, 4.4, 6.0, 8.3, 11.5, 16, 23, 33]
    wall = 0.14
    pool_mirror = Image.composite(
        Image.new("RGB", size, rgb("#fff6e2")),
        gradient(size, [(horizon, "#f7e7c9"), (0.6, "#d9d7cf"), (1, "#a5b1b9")]),
        radial_mask(size, sun[0], 0.62, 0.14, 0.4, falloff=1.5),
    )
    s.shape(
        lambda p: p.polygon(cam.ground(xs[0], xs[-1], zs[0], zs[-1], ground_y)),
        "#8d8276",
        opacity=0.8,
    )

    def pools(p: Pen) -> None:
        for x0, x1 in pairwise(xs):
            for z0, z1 in pairwise(zs):
                p.polygon(cam.ground(x0 + wall, x1 - wall, z0 + wall, z1 - wall, ground_y))

    s.shape(pools, pool_mirror)

    heaps = sorted(
        ((x + rng.uniform(0.4, 1.2), z) for x in xs[1:7] for z in zs[2:6] if rng.random() < 0.4),
        key=lambda h: -h[1],
    )

    def heap_layer(p: Pen) -> None:
        for x, z in heaps:
            mound = [(-0.5, 0), (0.5, 0), (0.3, -0.22), (0.08, -0.34), (-0.1, -0.33), (-0.32, -0.2)]
            shade = [(0.0, 0), (0.5, 0), (0.3, -0.22), (0.08, -0.34)]
            p.polygon(s.place(mound, *cam(x, ground_y, z), cam.focal / z), fill="#f4f1ea")
            p.polygon(s.place(shade, *cam(x, ground_y, z), cam.focal / z), fill="#cbc6bd")

    s.layer(heap_layer, blur=0.0005)

    fx, fz = -0.6, 10.5
    feet = cam(fx, ground_y, fz)
    tall = cam.focal * 1.75 / fz
    s.shape(
        lambda p: p.polygon(
            [
                feet,
                (feet[0] + 0.04, feet[1] + 0.02),
                (feet[0] + 0.044, feet[1] + 0.017),
                (feet[0] + 0.004, feet[1] - 0.001),
            ]
        ),
        "#3d3934",
        blur=0.0015,
        opacity=0.4,
    )
    s.shape(
        lambda p: (
            p.polygon(s.place(figure_parts(0.02, 0.03), *feet, tall)),
            p.polygon(s.place(head_pts(), *feet, tall)),
            p.line(
                [s.place([(0.12, -0.55)], *feet, tall)[0], (feet[0] + 0.03, feet[1] + 0.004)],
                0.0016,
            ),
            p.line([(feet[0] + 0.024, feet[1] + 0.008), (feet[0] + 0.036, feet[1] + 0.0)], 0.002),
        ),
        "#2b2723",
        blur=0.0003,
    )
    return finish(s, rng, paper=0.06, vignette=0.28)


def a_house_for_the_drowned_river(size: tuple[int, int]) -> Image.Image:
    """A reservoir at dusk; a church tower and a roof rise from the water."""
    rng = random.Random(103)
    horizon = 0.60
    s = Scene(
        size,
        gradient(
            size,
            [
                (0, "#232843"),
                (0.22, "#47415f"),
                (0.42, "#9c6478"),
                (0.53, "#de9670"),
                (horizon, "#f4c992"),
            ],
        ),
    )
    s.glow(0.68, 0.58, 0.6, 0.22, "#ffd9a0", 0.6)
    cloud_bank(
        s, rng, 14, 0.12, 0.46, "#f0a890", 0.32, stretch=(10, 20), size=(0.004, 0.012), blur=0.01
    )
    cloud_bank(s, rng, 8, 0.05, 0.30, "#2d2a48", 0.35, stretch=(8, 16), size=(0.008, 0.02))

    far = ridge(rng, horizon, 0.10, freq=1.3, sharp=0.3)
    s.shape(lambda p: p.polygon(below(far)), "#806783", blur=0.003)
    mid = ridge(
        rng, horizon + 0.002, 0.09, freq=1.8, envelope=lambda x: 0.15 + 0.85 * abs(x - 0.52) * 2
    )
    s.shape(
        lambda p: p.polygon(below(mid)),
        s.gradient([(0.5, "#4f4462"), (horizon, "#5f5170")]),
        blur=0.0015,
    )
    treeline(
        s,
        rng,
        horizon + 0.002,
        0.03,
        "#2b2639",
        envelope=lambda x: smooth(0.3, 0.02, x) + smooth(0.8, 1.0, x),
    )

    s.shape(
        lambda p: p.rect(0, horizon, 1, 1),
        s.gradient([(horizon, "#c48a92"), (0.72, "#4d4262"), (1, "#1f1b2e")]),
    )
    reflect(s, horizon, 0.55, fade=0.25)

    waterline, tx = 0.645, 0.40
    tower = [
        (-0.032, 0.0),
        (0.032, 0.0),
        (0.032, -0.23),
        (0.036, -0.235),
        (0.036, -0.30),
        (0.0, -0.43),
        (-0.036, -0.30),
        (-0.036, -0.235),
        (-0.032, -0.23),
    ]
    openings = [
        ellipse_pts(dx, -0.265, 0.009, 0.022, n=20, start=math.pi, end=2 * math.pi)
        + [(dx + 0.009, -0.245), (dx - 0.009, -0.245)]
        for dx in (-0.015, 0.015)
    ]
    cross = [(-0.0018, -0.43), (0.0018, -0.43), (0.0018, -0.47), (-0.0018, -0.47)]
    roof_x, roof_line = 0.63, 0.667
    roof = [(-0.07, 0.0), (0.0, -0.05), (0.07, 0.0)]
    chimney = [(0.03, -0.02), (0.045, -0.03), (0.045, -0.06), (0.03, -0.06)]
    stumps = [
        (
            0.13 + 0.025 * i + rng.uniform(-0.01, 0.01),
            rng.uniform(0.7, 0.78),
            rng.uniform(0.03, 0.08),
        )
        for i in range(5)
    ]

    def drowned(p: Pen, flip: bool) -> None:
        def put(pts, x, y):
            placed = s.place(pts, x, y, 1.0)
            return mirror_y(placed, y) if flip else placed

        for part in (tower, cross):
            p.polygon(put(part, tx, waterline))
        for part in (roof, chimney):
            p.polygon(put(part, roof_x, roof_line))
        for x, y, hgt in stumps:
            for twig in (
                [(0.0, 0.0), (0.002, -hgt)],
                [(0.001, -hgt * 0.55), (0.016, -hgt * 0.85)],
                [(0.001, -hgt * 0.7), (-0.012, -hgt * 0.92)],
            ):
                p.line(put(twig, x, y), 0.0026)
        if not flip:
            for hole in openings:
                p.polygon(put(hole, tx, waterline), fill=0)

    s.shape(lambda p: drowned(p, True), "#1d1828", blur=0.002, opacity=0.55)
    ripple(s, rng, horizon, 1, 0.002)
    glints(
        s,
        rng,
        260,
        horizon + 0.005,
        0.85,
        "#ffd2a0",
        0.4,
        center=0.68,
        spread=0.1,
        length=(0.004, 0.035),
        thickness=(0.0006, 0.0016),
    )
    s.shape(lambda p: drowned(p, False), "#272032", blur=0.0004)
    s.shape(
        lambda p: p.polygon(
            s.place(
                [
                    (0.018, 0.0),
                    (0.032, 0.0),
                    (0.032, -0.23),
                    (0.036, -0.235),
                    (0.036, -0.30),
                    (0.022, -0.35),
                    (0.022, -0.235),
                ],
                tx,
                waterline,
                1.0,
            )
        ),
        "#c98a7c",
        blur=0.002,
        opacity=0.35,
    )
    rings = [
        s.place(
            ellipse_pts(0, 0, 0.05 + 0.035 * k, 0.006 + 0.0035 * k, n=60),
            tx,
            waterline + 0.003 * k,
            1.0,
        )
        for k in range(1, 4)
    ]
    s.shape(lambda p: [p.line(r, 0.0012) for r in rings], "#f3c39e", blur=0.001, opacity=0.35)
    return finish(s, rng, paper=0.06, vignette=0.35, vignette_color="#0d0a14")


def la_derniere_tisserande(size: tuple[int, int]) -> Image.Image:
    """Warp threads on a loom converging over a half-woven kilim."""
    rng = random.Random(104)
    s = Scene(size, gradient(size, [(0, "#2a1a12"), (0.5, "#4d2e1c"), (1, "#2c1a10")]))
    s.glow(0.18, 0.1, 0.9, 0.7, "#f0a860", 0.45)
    threads, fell = 72, 0.56

    def thread_x(u: float, y: float) -> float:
        return 0.5 + (u - 0.5) * (0.58 + 0.72 * y)

    def on_cloth(u: float, v: float) -> Point:
        """Map cloth coordinates (u across the warp, v down from the fell) to the page."""
        y = lerp(fell, 1.03, v**1.15)
        return (thread_x(u, y), y)

    def warp(p: Pen) -> None:
        for i in range(threads):
            u = (i + 0.5) / threads
            p.line(
                [(thread_x(u, -0.02), -0.02), (thread_x(u, fell), fell)],
                0.0024,
                fill=jitter("#e6d2ab", rng, 0.12),
            )

    s.layer(warp, blur=0.0005)
    s.defocus([(0, 1.0), (fell - 0.06, 0.0)], 0.006)
    s.band([(0, 0.6), (0.4, 0.0)], "#1d110b")

    def stepped_diamond(cu: float, cv: float, du: float, dv: float, steps: int = 5) -> Polygon:
        corners = [(cu, cv - dv), (cu + du, cv), (cu, cv + dv), (cu - du, cv), (cu, cv - dv)]
        pts = []
        for (u0, v0), (u1, v1) in pairwise(corners):
            for k in range(steps):
                a, b = k / steps, (k + 1) / steps
                pts += [
                    on_cloth(lerp(u0, u1, a), lerp(v0, v1, a)),
                    on_cloth(lerp(u0, u1, b), lerp(v0, v1, a)),
                ]
        return pts

    def band(v0: float, v1: float) -> Polygon:
        return [on_cloth(u / 20, v0) for u in range(-2, 23)] + [
            on_cloth(u / 20, v1) for u in range(22, -3, -1)
        ]

    def kilim(p: Pen) -> None:
        p.polygon(band(0.0, 1.0), fill="#2f3552")
        for v0, v1 in ((0.0, 0.05), (0.45, 0.52), (0.93, 1.0)):
            p.polygon(band(v0, v1), fill="#7d2f22")
            p.polygon(band(v0 + 0.012, v1 - 0.012), fill="#e4d1ad")
        for cv in (0.25, 0.72):
            for i in range(-1, 9):
                cu = (i + 0.5) / 7
                for scale, tone in (
                    (1.0, "#c48a3c"),
                    (0.74, "#9a3a2a"),
                    (0.46, "#e4d1ad"),
                    (0.2, "#9a3a2a"),
                ):
                    p.polygon(stepped_diamond(cu, cv, 0.062 * scale, 0.18 * scale), fill=tone)
                for side in (-1, 1):
                    p.polygon(
                        stepped_diamond(cu + side * 0.5 / 7, cv, 0.014, 0.05, 2), fill="#c48a3c"
                    )

    s.layer(kilim, blur=0.0008)

    def weft(p: Pen) -> None:
        for j in range(1, 56):
            v = j / 56
            p.line([on_cloth(-0.1, v), on_cloth(1.1, v)], 0.0008 + 0.0014 * v)

    s.shade("#6a4a3a", s.mask(weft, blur=0.0008), 0.35)
    s.band([(fell, 0.0), (1.0, 0.35)], "#1c0f08")

    s.shape(
        lambda p: p.rect(0, fell - 0.045, 1, fell - 0.01),
        s.gradient([(fell - 0.045, "#a8703e"), (fell - 0.01, "#4a2a15")]),
    )
    s.shape(lambda p: p.rect(0, fell - 0.01, 1, fell + 0.012), "#160c07", blur=0.006, opacity=0.6)

    shuttle = [
        (x * (1 + 0.4 * (abs(x) / 0.2) ** 3), y) for x, y in ellipse_pts(0, 0, 0.2, 0.028, n=80)
    ]
    sx, sy, ang = 0.64, 0.79, -0.07

    def put(pts: Iterable[Point]) -> Polygon:
        return s.place(pts, sx, sy, 1.0, ang)

    s.shape(
        lambda p: p.polygon(put(offset(shuttle, 0.01, 0.02))), "#120a05", blur=0.008, opacity=0.6
    )
    s.shape(
        lambda p: p.polygon(put(shuttle)),
        s.gradient([(sy - 0.03, "#d29a5c"), (sy + 0.03, "#6b3f1d")]),
        blur=0.0005,
    )
    s.shape(lambda p: p.polygon(put(ellipse_pts(0, 0, 0.09, 0.012))), "#3a200e")
    s.shape(lambda p: p.polygon(put(ellipse_pts(0, 0, 0.075, 0.009))), "#e4cfa6")
    s.shape(
        lambda p: [
            p.line(put([(-0.07 + 0.01 * k, -0.008), (-0.066 + 0.01 * k, 0.008)]), 0.001)
            for k in range(15)
        ],
        "#b59a6e",
        opacity=0.8,
    )
    s.shape(
        lambda p: p.line([put([(0.07, 0.0)])[0], (0.52, 0.63), (0.44, fell + 0.008)], 0.0016),
        "#e4cfa6",
        blur=0.0004,
        opacity=0.9,
    )
    s.glow(0.2, 0.25, 0.7, 0.5, "#ffcf8a", 0.25)
    return finish(s, rng, paper=0.07, grain=0.02, vignette=0.4, vignette_color="#140a05")


def night_shift_at_kilometre_40(size: tuple[int, int]) -> Image.Image:
    """A desert highway at night and the lights of a truck stop."""
    rng = random.Random(105)
    horizon = 0.58
    s = Scene(
        size,
        gradient(size, [(0, "#04070e"), (0.3, "#0b1324"), (0.5, "#1a2640"), (horizon, "#3a3e50")]),
    )
    starfield(s, rng, 650, 0.0, 0.5)
    s.glow(0.16, horizon, 0.45, 0.08, "#c98a52", 0.35)
    mesas = ridge(rng, horizon, 0.085, freq=1.7, cap=0.62, octaves=4)
    s.shape(lambda p: p.polygon(below(mesas)), "#161b28", blur=0.001)

    s.shape(lambda p: p.rect(0, horizon, 1, 1), s.gradient([(horizon, "#1f212b"), (1, "#08090d")]))
    cam = Camera(horizon, 1.1, s.aspect)
    gy = -1.4

    def lane(x: float) -> Callable[[float], float]:
        return lambda _z: x

    s.shape(
        lambda p: p.polygon(cam.strip(lane(-1.3), 3.5, gy, 0.8, 600)),
        s.gradient([(horizon, "#3a3a44"), (0.7, "#24262e"), (1, "#17181d")]),
    )
    s.shape(
        lambda p: [p.polygon(cam.strip(lane(x), 0.07, gy, 0.8, 600)) for x in (-4.6, 2.0)],
        "#9b917a",
        opacity=0.55,
    )
    s.shape(
        lambda p: [
            p.polygon(cam.strip(lane(-1.3), 0.08, gy, z, z + 3, n=4))
            for z in [2 + 9 * k for k in range(30)]
        ],
        "#d8c9a0",
        opacity=0.7,
    )

    s.glow(*cam(10, 0, 24), 0.5, 0.2, "#e8a45a", 0.5)
    s.shape(lambda p: p.polygon(cam.ground(2.5, 18, 14, 40, gy)), "#f0b56a", blur=0.02, opacity=0.3)

    canopy = cam.box(6, 14, 2.4, 2.9, 17, 27)
    shop = cam.box(9, 18, gy, 1.6, 30, 36)
    trailer = cam.box(3.0, 5.3, -0.9, 2.1, 23, 36)
    cab = cam.box(3.1, 5.2, -1.0, 1.3, 36.4, 39.5)

    def station(p: Pen) -> None:
        p.polygon(shop["front"], fill="#2c2a2a")
        p.polygon(shop["left"], fill="#3a3431")
        for k in range(4):
            x0 = 10.0 + 2.0 * k
            p.polygon(
                cam.quad(
                    [(x0, -0.7, 30), (x0 + 1.3, -0.7, 30), (x0 + 1.3, 0.6, 30), (x0, 0.6, 30)]
                ),
                fill="#f4c57e",
            )
        p.polygon(cab["left"], fill="#4a2a25")
        p.polygon(trailer["left"], fill="#5d5a55")
        p.polygon(trailer["front"], fill="#1d1c22")
        for z in (25, 26.6, 34):
            p.polygon(ellipse_pts(*cam(3.0, -0.95, z), 0.006, 0.011, n=24), fill="#0c0c0f")
        for z in (26, 29, 32, 35):
            p.ellipse(*cam(3.0, 2.0, z), 0.0012, fill="#ffb347")
        for x in (6.4, 10, 13.6):
            for z in (17.4, 26.6):
                p.polygon(
                    cam.quad(
                        [
                            (x - 0.12, gy, z),
                            (x + 0.12, gy, z),
                            (x + 0.12, 2.4, z),
                            (x - 0.12, 2.4, z),
                        ]
                    ),
                    fill="#4d4844",
                )
        p.polygon(canopy["front"], fill="#d9d2c4")
        p.polygon(canopy["left"], fill="#a59c8e")
        p.polygon(
            cam.quad([(6, 2.4, 17), (14, 2.4, 17), (14, 2.4, 27), (6, 2.4, 27)]), fill="#fff4de"
        )

    s.layer(station, blur=0.0004)
    s.glow(*cam(10, 2.2, 19), 0.2, 0.05, "#fff1d6", 0.8)
    s.shape(
        lambda p: p.polygon(trailer["left"]),
        s.gradient([(0.45, "#e8b06a"), (0.62, "#000000")]),
        opacity=0.22,
    )
    for x in (3.25, 5.05):
        s.glow(*cam(x, -0.55, 23), 0.012, color="#ff3b2b", strength=0.9, falloff=0.8)

    pylon = [(4.6, 3.0, 15.5), (5.4, 3.0, 15.5), (5.4, 6.6, 15.5), (4.6, 6.6, 15.5)]
    s.shape(
        lambda p: p.polygon(
            cam.quad([(4.9, gy, 15.5), (5.1, gy, 15.5), (5.1, 3.0, 15.5), (4.9, 3.0, 15.5)])
        ),
        "#2f2b29",
    )
    s.shape(lambda p: p.polygon(cam.quad(pylon)), "#24201f")
    for k, tone in enumerate(("#e8a040", "#d9553b", "#f1ead8")):
        y0 = 3.2 + 1.1 * k
        s.shape(
            lambda p, y0=y0: p.polygon(
                cam.quad(
                    [
                        (4.72, y0, 15.5),
                        (5.28, y0, 15.5),
                        (5.28, y0 + 0.9, 15.5),
                        (4.72, y0 + 0.9, 15.5),
                    ]
                )
            ),
            tone,
        )
    s.glow(*cam(5.0, 4.8, 15.5), 0.05, 0.14, "#e0703f", 0.35)

    car = [cam(x, -1.0, 140) for x in (-3.4, -2.2)]
    for cx, cy in car:
        s.glow(cx, cy, 0.010, color="#f6f2ff", strength=1.0, falloff=0.8)
        s.glow(cx, cy, 0.05, 0.015, "#cfd8ff", 0.3)
    s.shape(
        lambda p: [
            p.polygon(
                [
                    (cx - 0.002, cy + 0.004),
                    (cx + 0.002, cy + 0.004),
                    (cx + 0.01, 1.0),
                    (cx - 0.01, 1.0),
                ]
            )
            for cx, cy in car
        ],
        "#cfd8ff",
        blur=0.012,
        opacity=0.1,
    )

    post = cam.quad([(-5.2, gy, 9), (-4.95, gy, 9), (-4.95, -0.45, 9), (-5.2, -0.45, 9)])
    s.shape(lambda p: p.polygon(post), s.gradient([(0.6, "#8d887c"), (0.76, "#3e3b36")]))
    s.glow(*cam(-5.07, -0.62, 9), 0.005, color="#ffb347", strength=1.0, falloff=0.6)
    return finish(s, rng, paper=0.04, grain=0.04, vignette=0.35, vignette_color="#020305")


def the_cartographers_daughter(size: tuple[int, int]) -> Image.Image:
    """A hand-drawn chart: coastline, depth bands and contour lines."""
    rng = random.Random(106)
    s = Scene(size, gradient(size, [(0, "#efe6d1"), (1, "#e2d6bb")]))

    def coast_fn(rng_: random.Random, radius: float, detail: int = 14, wobble: float = 0.22):
        terms = [
            (k, wobble / k**1.05 * rng_.uniform(0.4, 1.0), rng_.uniform(0, 2 * math.pi))
            for k in range(2, detail)
        ]

        def r(theta: float, grow: float = 0.0, scale: float = 1.0) -> float:
            shape = sum(
                a * math.exp(-k * grow * 4) * math.sin(k * theta + ph) for k, a, ph in terms
            )
            return radius * scale * (1 + shape) + grow

        return r

    def outline(cx: float, cy: float, r, grow: float = 0.0, scale: float = 1.0) -> Polygon:
        return [
            (
                (cx + r(t, grow, scale) * math.cos(t)) / s.aspect,
                cy + r(t, grow, scale) * math.sin(t),
            )
            for t in (2 * math.pi * i / 360 for i in range(360))
        ]

    masses = [
        (1.22, 0.40, coast_fn(rng, 0.52)),
        (0.30, 0.30, coast_fn(rng, 0.07, 9)),
        (0.52, 0.78, coast_fn(rng, 0.045, 8)),
        (0.20, 0.62, coast_fn(rng, 0.03, 7)),
        (0.78, 0.95, coast_fn(rng, 0.06, 9)),
    ]

    sea = ["#4e8c82", "#5f9a8f", "#74aa9d", "#8cbcad", "#a6cdbd"]
    depths = [0.30, 0.20, 0.12, 0.06, 0.025]
    s.fill(s.gradient([(0, "#4a877e"), (1, "#3f7a72")]), Image.new("L", size, 255), 0.85)
    for d, tone in zip(depths, sea, strict=True):
        s.shape(
            lambda p, d=d: [
                p.polygon(outline(cx, cy, r, d * (0.18 if r(0) < 0.2 else 1)))
                for cx, cy, r in masses
            ],
            tone,
            blur=0.0006,
        )
        s.shape(
            lambda p, d=d: [
                p.line(outline(cx, cy, r, d * (0.18 if r(0) < 0.2 else 1)), 0.0011)
                for cx, cy, r in masses
            ],
            "#2f6a62",
            opacity=0.55,
        )

    land = ["#ece0c2", "#e3d3ac", "#d9c496", "#ccb281", "#bea06f"]
    for k, tone in enumerate(land):
        scale = 1 - 0.18 * k
        s.shape(
            lambda p, sc=scale: [p.polygon(outline(cx, cy, r, 0.0, sc)) for cx, cy, r in masses],
            tone,
            blur=0.0005,
        )
        if k:
            s.shape(
                lambda p, sc=scale: [
                    p.line(outline(cx, cy, r, 0.0, sc), 0.001) for cx, cy, r in masses
                ],
                "#8c6b48",
                opacity=0.6,
            )
    s.shape(lambda p: [p.line(outline(cx, cy, r), 0.0022) for cx, cy, r in masses], "#30564f")

    def graticule(p: Pen) -> None:
        for k in range(1, 8):
            p.line([(k * 0.2 / s.aspect, 0), (k * 0.2 / s.aspect, 1)], 0.0008)
        for k in range(1, 5):
            p.line([(0, k * 0.2), (1, k * 0.2)], 0.0008)

    s.shape(graticule, "#23463f", opacity=0.22)

    route = [
        (lerp(0.05, 0.62, t), 0.92 - 0.5 * t + 0.22 * math.sin(math.pi * t))
        for t in (i / 60 for i in range(61))
    ]
    s.shape(lambda p: [p.line(route[i : i + 2], 0.0018) for i in range(0, 60, 2)], "#8d3a2b")
    s.shape(
        lambda p: (p.ellipse(*route[-1], 0.008), p.ellipse(*route[-1], 0.0045, fill=0)), "#8d3a2b"
    )

    cx, cy, r = 0.12, 0.2, 0.07
    star = []
    for k in range(16):
        rad = r if k % 4 == 0 else (r * 0.55 if k % 2 == 0 else r * 0.2)
        t = -math.pi / 2 + k * math.pi / 8
        star.append((cx + rad * math.cos(t) / s.aspect, cy + rad * math.sin(t)))
    s.shape(
        lambda p: (
            p.line(s.place(ellipse_pts(0, 0, r * 0.8, r * 0.8), cx, cy, 1.0), 0.0012),
            p.polygon(star),
        ),
        "#2d4f48",
        opacity=0.8,
    )
    return finish(s, rng, paper=0.09, grain=0.03, vignette=0.25, vignette_color="#3b2a18")


def verdict_in_absentia(size: tuple[int, int]) -> Image.Image:
    """An empty courtroom: rows of benches and tall windows of muted light."""
    rng = random.Random(107)
    s = Scene(size, "#4f4b45")
    cam = Camera(0.44, 1.05, s.aspect)
    floor, ceil, half, back = -1.6, 4.2, 5.0, 22.0

    def room(p: Pen) -> None:
        p.polygon(
            cam.quad(
                [(-half, floor, 1), (half, floor, 1), (half, floor, back), (-half, floor, back)]
            ),
            fill="#5b5047",
        )
        p.polygon(
            cam.quad([(-half, ceil, 1), (half, ceil, 1), (half, ceil, back), (-half, ceil, back)]),
            fill="#3c3a36",
        )
        p.polygon(
            cam.quad(
                [(-half, floor, 1), (-half, floor, back), (-half, ceil, back), (-half, ceil, 1)]
            ),
            fill="#77725f",
        )
        p.polygon(
            cam.quad([(half, floor, 1), (half, floor, back), (half, ceil, back), (half, ceil, 1)]),
            fill="#6b6656",
        )
        p.polygon(
            cam.quad(
                [(-half, floor, back), (half, floor, back), (half, ceil, back), (-half, ceil, back)]
            ),
            fill="#8b8574",
        )
        for x in (-half, half):
            p.polygon(
                cam.quad([(x, floor, 1), (x, floor, back), (x, -0.3, back), (x, -0.3, 1)]),
                fill="#4e3d31",
            )
        p.polygon(
            cam.quad(
                [(-half, floor, back), (half, floor, back), (half, -0.1, back), (-half, -0.1, back)]
            ),
            fill="#5a4636",
        )

    s.layer(room)
    s.shade(
        s.gradient([(0, "#8f8a80"), (0.44, "#ffffff"), (1, "#9a948a")]), Image.new("L", size, 255)
    )

    windows = [(z, z + 2.0) for z in (4.5, 8.5, 12.5, 16.5)]
    wy0, wy1 = 0.4, 3.5
    sun = (1.0, -0.72, 0.3)

    def on_floor(y: float, z: float) -> tuple[float, float, float]:
        t = (y - floor) / -sun[1]
        return (-half + sun[0] * t, floor, z + sun[2] * t)

    def patches(p: Pen) -> None:
        for z0, z1 in windows:
            p.polygon(
                cam.quad(
                    [on_floor(wy0, z0), on_floor(wy0, z1), on_floor(wy1, z1), on_floor(wy1, z0)]
                )
            )

    s.light("#f3e6c8", s.mask(patches, blur=0.004), 0.45)

    def pane(p: Pen) -> None:
        for z0, z1 in windows:
            p.polygon(
                cam.quad([(-half, wy0, z0), (-half, wy0, z1), (-half, wy1, z1), (-half, wy1, z0)]),
                fill="#efe9d6",
            )
            zm = (z0 + z1) / 2
            p.polygon(
                cam.quad(
                    [
                        (-half, wy0, zm - 0.06),
                        (-half, wy0, zm + 0.06),
                        (-half, wy1, zm + 0.06),
                        (-half, wy1, zm - 0.06),
                    ]
                ),
                fill="#8c8676",
            )
            for y in (1.4, 2.5):
                p.polygon(
                    cam.quad(
                        [
                            (-half, y - 0.04, z0),
                            (-half, y - 0.04, z1),
                            (-half, y + 0.04, z1),
                            (-half, y + 0.04, z0),
                        ]
                    ),
                    fill="#8c8676",
                )

    s.layer(pane, blur=0.0005)

    def bench_layer(p: Pen) -> None:
        dais = cam.box(-4, 4, floor, -1.25, 17.4, back)
        p.polygon(dais["front"], fill="#4d3c30")
        p.polygon(dais["top"], fill="#6a5443")
        chair = cam.quad(
            [(-0.55, -0.2, 20.6), (0.55, -0.2, 20.6), (0.5, 1.35, 20.6), (-0.5, 1.35, 20.6)]
        )
        p.polygon(chair, fill="#3a2b24")
        judge = cam.box(-3.0, 3.0, -1.25, 0.05, 18.6, 19.8)
        p.polygon(judge["front"], fill="#5a4534")
        p.polygon(
            cam.quad(
                [(-3.0, 0.05, 18.6), (3.0, 0.05, 18.6), (3.0, 0.12, 18.6), (-3.0, 0.12, 18.6)]
            ),
            fill="#7f654e",
        )
        for k in range(1, 6):
            x = -3 + k
            p.polygon(
                cam.quad(
                    [
                        (x - 0.02, -1.15, 18.6),
                        (x + 0.02, -1.15, 18.6),
                        (x + 0.02, -0.05, 18.6),
                        (x - 0.02, -0.05, 18.6),
                    ]
                ),
                fill="#46362a",
            )
        for z in [15.2 - 1.55 * k for k in range(8)]:
            for x0, x1 in ((-4.6, -0.8), (0.8, 4.6)):
                p.polygon(cam.ground(x0, x1, z, z + 0.55, floor), fill="#3b322b")
                bench = cam.box(x0, x1, floor + 0.45, floor + 1.05, z, z + 0.12)
                p.polygon(bench["front"], fill="#4d3b2f")
                if "top" in bench:
                    p.polygon(bench["top"], fill="#8f7058")
                aisle = x1 if x0 < 0 else x0
                side = 1 if x0 < 0 else -1
                p.polygon(
                    cam.quad(
                        [
                            (aisle, floor, z),
                            (aisle, floor, z + 0.6),
                            (aisle, -0.5, z + 0.6),
                            (aisle, -0.45, z),
                        ]
                    ),
                    fill="#3a2d24" if side > 0 else "#47382c",
                )
                p.polygon(
                    cam.quad(
                        [
                            (x0, floor + 0.98, z - 0.01),
                            (x1, floor + 0.98, z - 0.01),
                            (x1, floor + 1.05, z - 0.01),
                            (x0, floor + 1.05, z - 0.01),
                        ]
                    ),
                    fill="#6e5644",
                )

    s.layer(bench_layer, blur=0.0004)
    s.shape(
        lambda p: p.line(s.place(ellipse_pts(0, 0, 0.045, 0.045), *cam(0, 2.7, back), 1.0), 0.003),
        "#6a604c",
        opacity=0.8,
    )

    def shafts(p: Pen) -> None:
        for z0, z1 in windows:
            corners = [(-half, wy0, z0), (-half, wy0, z1), (-half, wy1, z1), (-half, wy1, z0)]
            window = cam.quad(corners)
            landing = cam.quad([on_floor(y, z) for _, y, z in corners])
            for a in range(4):
                b = (a + 1) % 4
                p.polygon([window[a], window[b], landing[b], landing[a]], fill=90)

    s.light("#efe2c4", s.mask(shafts, blur=0.012), 0.3)
    return finish(s, rng, paper=0.07, vignette=0.42, vignette_color="#15110d", saturation=0.82)


def ice_archive(size: tuple[int, int]) -> Image.Image:
    """A tidewater glacier front above sections of banded ice core on the snow."""
    rng = random.Random(108)
    horizon = 0.47
    s = Scene(size, gradient(size, [(0, "#7893ad"), (0.25, "#b8cddc"), (horizon, "#eef3f4")]))
    cloud_bank(
        s, rng, 10, 0.05, 0.3, "#ffffff", 0.4, stretch=(8, 16), size=(0.006, 0.016), blur=0.014
    )

    far = ridge(rng, horizon, 0.22, sharp=0.75, freq=1.5)
    s.shape(
        lambda p: p.polygon(below(far)),
        s.gradient([(0.25, "#f4f8fa"), (horizon, "#c9d8e3")]),
        blur=0.001,
    )
    facet_shade(s, far, horizon + 0.02, "#9db5cb", 0.85)

    cap = ridge(
        rng,
        0.665,
        0.15,
        freq=0.6,
        octaves=3,
        rough=0.3,
        envelope=lambda x: math.sin(math.pi * min(1.0, max(0.0, (x - 0.05) / 0.9))) ** 0.6,
    )
    s.shape(
        lambda p: p.polygon(below(cap)),
        s.gradient([(0.5, "#f7fafc"), (0.665, "#c4d7e5")]),
        blur=0.0008,
    )

    def crevasses(p: Pen) -> None:
        for _ in range(34):
            x, t = rng.uniform(0.12, 0.88), rng.random()
            crest = min(cap, key=lambda pt: abs(pt[0] - x))[1]
            y = lerp(crest + 0.01, 0.65, t**0.8)
            half = rng.uniform(0.02, 0.08) * (0.5 + t)
            p.line(
                [
                    (x + half * u, y + 0.004 * (1 - u * u) * (0.5 + t))
                    for u in (i / 6 - 1 for i in range(13))
                ],
                lerp(0.0008, 0.0022, t),
            )

    s.shape(crevasses, "#86a9c4", blur=0.0008, opacity=0.6)

    for side, base, height in ((-1, 0.72, 0.3), (1, 0.71, 0.2)):
        rock = ridge(
            rng,
            base,
            height,
            sharp=0.3,
            freq=2.0,
            envelope=lambda x, side=side: smooth(0.68, 1.0, side * (x - 0.5) + 0.5) ** 1.2,
        )
        s.shape(
            lambda p, r=rock: p.polygon(below(r)),
            s.gradient([(base - height, "#5d6d7c"), (base, "#3c4856")]),
            blur=0.0008,
        )
        s.shape(lambda p, r=rock: p.line(r, 0.004), "#dfe8ee", blur=0.002, opacity=0.6)
        facet_shade(s, rock, base, "#6f7f92", 0.5)

    def face(p: Pen) -> None:
        top = [
            (
                lerp(0.15, 0.86, u),
                lerp(0.718, 0.648, math.sin(math.pi * u) ** 0.4)
                - rng.uniform(0.0, 0.016) * (1 if i % 3 else 0.3),
            )
            for i, u in enumerate(k / 90 for k in range(91))
        ]
        p.polygon([*top, (0.87, 0.722), (0.14, 0.722)])

    s.shape(face, s.gradient([(0.64, "#a3c8e0"), (0.72, "#2f6690")]), blur=0.0006)
    s.shape(
        lambda p: [
            p.line(
                [(x, 0.67), (x + rng.uniform(-0.003, 0.003), 0.72)],
                rng.uniform(0.001, 0.003),
                fill=rng.randint(60, 200),
            )
            for x in (rng.uniform(0.2, 0.8) for _ in range(50))
        ],
        "#dff0f8",
        blur=0.0015,
        opacity=0.4,
    )

    s.shape(lambda p: p.rect(0, 0.72, 1, 0.77), s.gradient([(0.72, "#3a7095"), (0.77, "#6391ae")]))
    s.shape(
        lambda p: [
            p.polygon(
                s.place(
                    blob_pts(rng, rng.uniform(0.006, 0.018), 0.005, 0.2, 16),
                    rng.uniform(0.2, 0.85),
                    rng.uniform(0.73, 0.765),
                    1.0,
                )
            )
            for _ in range(12)
        ],
        "#e9f3f8",
        blur=0.0004,
    )
    snow = ridge(rng, 0.775, 0.012, freq=2.5, octaves=4)
    s.shape(
        lambda p: p.polygon(below(snow)),
        s.gradient([(0.76, "#eef4f7"), (1, "#bfd0dd")]),
        blur=0.0006,
    )
    s.shape(
        lambda p: [
            p.ellipse(
                rng.uniform(0, 1),
                rng.uniform(0.8, 1.0),
                rng.uniform(0.1, 0.25),
                rng.uniform(0.008, 0.016),
            )
            for _ in range(10)
        ],
        "#a7bfd1",
        blur=0.02,
        opacity=0.3,
    )
    tent = s.place([(-0.016, 0), (0.016, 0), (0.0, -0.018)], 0.84, 0.79, 1.0)
    s.shape(lambda p: p.polygon(tent), "#b85c3c")
    s.shape(lambda p: p.polygon(tent[1:] + [(0.84, 0.79)]), "#8a3f2a")

    for x, y, total, r in (
        (0.08, 0.85, 0.46, 0.021),
        (0.12, 0.908, 0.52, 0.024),
        (0.06, 0.968, 0.58, 0.027),
    ):
        split = rng.uniform(0.35, 0.6)
        for x0, x1 in ((x, x + total * split), (x + total * split + 0.012, x + total)):
            ice_core(s, rng, x0, x1, y, r)
    return finish(s, rng, paper=0.05, vignette=0.3, vignette_color="#0c1d2b")


def ice_core(s: Scene, rng: random.Random, x0: float, x1: float, y: float, r: float) -> None:
    """One translucent ice-core section lying on its side, with annual layers."""
    cap = r * 0.35
    s.shape(
        lambda p: p.ellipse((x0 + x1) / 2, y + r * 1.05, (x1 - x0) * s.aspect / 2, r * 0.4),
        "#6d8ba3",
        blur=0.006,
        opacity=0.5,
    )
    s.shape(
        lambda p: (p.rect(x0, y - r, x1, y + r), p.ellipse(x0, y, cap, r)),
        s.gradient([(y - r, "#f6fbfe"), (y - r * 0.3, "#cfe2ee"), (y + r, "#7ea6c2")]),
        blur=0.0003,
    )

    def layers(p: Pen) -> None:
        u = x0 + 0.004
        while u < x1 - 0.004:
            p.rect(
                u,
                y - r * 0.96,
                u + rng.uniform(0.0006, 0.0025),
                y + r * 0.96,
                fill=rng.randint(40, 150),
            )
            u += rng.uniform(0.005, 0.02)

    s.shape(layers, "#5f88a8", blur=0.0006, opacity=0.55)
    s.shape(lambda p: p.rect(x0, y - r * 0.72, x1, y - r * 0.5), "#ffffff", blur=0.002, opacity=0.5)
    s.shape(
        lambda p: p.ellipse(x1, y, cap, r), s.gradient([(y - r, "#ffffff"), (y + r, "#a7c6da")])
    )
    s.shape(
        lambda p: p.line(s.place(ellipse_pts(0, 0, cap * 0.6, r * 0.6), x1, y, 1.0), 0.0008),
        "#8fb3cc",
        opacity=0.6,
    )


def _whale_parts() -> dict[str, Polygon]:
    """Humpback in profile, snout at x=0, tail at x~1, y down."""
    top, bottom = [], []
    for i in range(61):
        u = i / 60
        t = 0.86 * u
        thick = max(0.012, 0.1 * (u**0.35 * (1 - u) ** 0.9) / 0.476)
        centre = -0.02 * math.sin(math.pi * u)
        top.append((t, centre - thick * 0.85))
        bottom.append((t, centre + thick * 1.15))
    cy = -0.02 * math.sin(math.pi)  # centre line at the tail stock
    body = [*top, (0.86, cy), *reversed(bottom)]
    yb = bottom[18][1]
    fin = [
        (0.24, yb - 0.01),
        (0.32, yb - 0.004),
        (0.40, yb + 0.05),
        (0.47, yb + 0.11),
        (0.51, yb + 0.16),
        (0.47, yb + 0.15),
        (0.39, yb + 0.10),
        (0.30, yb + 0.04),
    ]
    fluke = [
        (0.84, cy - 0.01),
        (0.93, cy - 0.08),
        (1.02, cy - 0.115),
        (0.975, cy - 0.04),
        (0.99, cy),
        (0.975, cy + 0.04),
        (1.02, cy + 0.115),
        (0.93, cy + 0.08),
        (0.84, cy + 0.01),
    ]
    hump = [(0.58, top[40][1] + 0.01), (0.63, top[44][1] - 0.018), (0.67, top[47][1] + 0.004)]
    grooves = [[(t, y - 0.012 * k) for t, y in bottom[3:24]] for k in range(1, 5)]
    return {"body": body, "fin": fin, "fluke": fluke, "hump": hump, "grooves": grooves}


def soundings(size: tuple[int, int]) -> Image.Image:
    """Cross-section of the sea: a boat's sounding line and a whale far below."""
    rng = random.Random(109)
    surface = 0.18
    s = Scene(size, gradient(size, [(0, "#b4c7cd"), (surface, "#e8ece6")]))
    cloud_bank(s, rng, 8, 0.02, 0.14, "#ffffff", 0.5, stretch=(8, 16), size=(0.006, 0.02))
    waves = ridge(rng, surface, 0.008, freq=22, octaves=3)
    water = s.gradient([(surface, "#45919b"), (0.42, "#1f5d73"), (0.72, "#0e3349"), (1, "#061522")])
    s.shape(lambda p: p.polygon(below(waves)), water)
    s.shape(lambda p: p.line(waves, 0.002), "#d9f0ea", blur=0.001, opacity=0.7)
    s.glow(0.5, surface + 0.02, 0.9, 0.12, "#8fd6cf", 0.35)

    def rays(p: Pen) -> None:
        for k in range(9):
            x = 0.08 + 0.1 * k + rng.uniform(-0.03, 0.03)
            w = rng.uniform(0.01, 0.03)
            p.polygon(
                [
                    (x - w, surface),
                    (x + w, surface),
                    (x + w * 4 + 0.12, 1.0),
                    (x - w * 3 + 0.1, 1.0),
                ],
                fill=rng.randint(120, 255),
            )

    ray_mask = ImageChops.multiply(s.mask(rays, blur=0.02), vmask(size, [(surface, 1), (0.85, 0)]))
    s.light("#a9e6e0", ray_mask, 0.25)

    whale = _whale_parts()
    wx, wy, scale, ang = 0.24, 0.58, 0.95, 0.07

    def body(p: Pen) -> None:
        for key in ("body", "fin", "fluke", "hump"):
            p.polygon(s.place(whale[key], wx, wy, scale, ang))

    s.shape(body, s.gradient([(wy - 0.1, "#0a2231"), (wy + 0.12, "#1f4556")]), blur=0.0012)
    s.shape(
        lambda p: [p.line(s.place(g, wx, wy, scale, ang), 0.0012) for g in whale["grooves"]],
        "#5c8a96",
        blur=0.001,
        opacity=0.35,
    )
    s.shape(
        lambda p: p.polygon(s.place(whale["fin"], wx, wy, scale, ang)),
        "#3d6a78",
        blur=0.004,
        opacity=0.3,
    )
    s.band([(surface, 0.0), (0.6, 0.18), (1.0, 0.4)], "#0a2a3c")

    boat = boat_parts()
    bx = 0.74
    s.shape(
        lambda p: [p.polygon(s.place(boat[k], bx, surface + 0.003, 0.09)) for k in boat], "#26343a"
    )
    s.shape(
        lambda p: p.polygon(s.place(mirror_y(boat["hull"], 0), bx, surface + 0.003, 0.09)),
        "#16323c",
        opacity=0.5,
        blur=0.002,
    )
    s.shape(
        lambda p: (
            p.line([(bx + 0.01, surface), (bx + 0.02, 0.46)], 0.0012),
            p.polygon(
                s.place(
                    [(-0.004, 0), (0.004, 0), (0.003, 0.018), (-0.003, 0.018)], bx + 0.02, 0.46, 1.0
                )
            ),
        ),
        "#d8ece6",
        opacity=0.7,
    )
    arcs = [
        s.place(
            ellipse_pts(0, 0, r, r, start=math.radians(55), end=math.radians(125), n=40),
            bx + 0.01,
            surface,
            1.0,
        )
        for r in (0.1, 0.18, 0.27, 0.37)
    ]
    s.shape(lambda p: [p.line(a, 0.0015) for a in arcs], "#bff0e8", blur=0.0015, opacity=0.22)
    s.shape(
        lambda p: [
            p.ellipse(
                rng.random(),
                rng.uniform(surface + 0.02, 1),
                rng.uniform(0.0008, 0.0022),
                fill=rng.randint(40, 200),
            )
            for _ in range(260)
        ],
        "#cfeee8",
        blur=0.0004,
        opacity=0.6,
    )
    return finish(s, rng, paper=0.05, vignette=0.35, vignette_color="#02080c")


def soundings_2(size: tuple[int, int]) -> Image.Image:
    """A small boat on a still sea at dawn."""
    rng = random.Random(110)
    horizon = 0.56
    s = Scene(
        size,
        gradient(
            size, [(0, "#4d5d82"), (0.22, "#8b86a7"), (0.42, "#d7a89f"), (horizon, "#f6d3a8")]
        ),
    )
    sun = (0.64, 0.535)
    s.glow(*sun, 0.7, 0.3, "#ffdcaa", 0.6)
    s.glow(*sun, 0.028, color="#fff6e4", strength=1.0, falloff=0.5)
    cloud_bank(
        s, rng, 12, 0.12, 0.45, "#f3b9a6", 0.35, stretch=(10, 20), size=(0.004, 0.012), blur=0.008
    )
    cloud_bank(
        s, rng, 6, 0.05, 0.3, "#5d5c84", 0.3, stretch=(10, 18), size=(0.005, 0.012), blur=0.012
    )
    head = ridge(rng, horizon, 0.05, freq=1.6, envelope=lambda x: 1 - smooth(0.1, 0.38, x))
    s.shape(lambda p: p.polygon(below(head)), "#7a6d8b", blur=0.002)

    s.shape(
        lambda p: p.rect(0, horizon, 1, 1),
        s.gradient([(horizon, "#caa3a6"), (0.72, "#7c7794"), (1, "#383d5a")]),
    )
    reflect(s, horizon, 0.5, fade=0.25)
    s.glow(sun[0], 0.62, 0.06, 0.12, "#ffe4bb", 0.45)

    boat, bx, by, scale = boat_parts(), 0.36, 0.705, 0.17
    man = offset(figure_parts(0.005), 0.16, -0.11, 0.4)
    head_ = offset(head_pts(), 0.16, -0.11, 0.4)

    def silhouette(p: Pen, flip: bool) -> None:
        for part in (*boat.values(), man, head_):
            local = mirror_y(part, 0.0) if flip else part
            p.polygon(s.place(local, bx, by, scale))

    s.shape(lambda p: silhouette(p, True), "#2c2a3c", blur=0.002, opacity=0.45)
    ripple(s, rng, horizon, 1, 0.0018)
    glints(s, rng, 380, horizon + 0.004, 0.95, "#ffe7c2", 0.55, center=sun[0], spread=0.05)
    s.shape(lambda p: silhouette(p, False), "#262434", blur=0.0004)
    s.band([(horizon - 0.06, 0.0), (horizon, 0.35), (horizon + 0.05, 0.0)], "#f6dcc8")
    return finish(s, rng, paper=0.06, vignette=0.32, vignette_color="#120e18")


def ostatni_pociag(size: tuple[int, int]) -> Image.Image:
    """A single railway line curving through an autumn birch forest."""
    rng = random.Random(111)
    horizon = 0.47
    fog = "#ecdfc3"
    s = Scene(size, gradient(size, [(0, "#c6b796"), (horizon, "#efe4cb")]))
    cam = Camera(horizon, 1.0, s.aspect)
    gy = -1.7

    def track(z: float) -> float:
        return 0.0028 * z * z

    vanish = cam(track(90), 0, 90)
    s.glow(vanish[0], horizon - 0.02, 0.6, 0.35, "#fff5dd", 0.55)
    for k, tone in enumerate(("#c9a874", "#b48a55")):
        treeline(
            s,
            rng,
            horizon + 0.004 * k,
            0.05 + 0.025 * k,
            mix(tone, fog, 0.45 - 0.15 * k),
            envelope=lambda x: 0.25 + smooth(0.02, 0.35, abs(x - vanish[0])),
            blur=0.004,
        )

    s.shape(
        lambda p: p.rect(0, horizon, 1, 1),
        s.gradient([(horizon, "#cdb88f"), (0.62, "#97733f"), (1, "#4f3a22")]),
    )
    s.shape(
        lambda p: p.polygon(cam.strip(track, 1.8, gy, 0.8, 400)),
        s.gradient([(horizon, "#d6c7a8"), (0.7, "#8a7a66"), (1, "#5a4f44")]),
    )

    def sleepers(p: Pen) -> None:
        z = 1.0
        while z < 90:
            c = track(z)
            p.polygon(
                cam.quad(
                    [
                        (c - 1.25, gy, z),
                        (c + 1.25, gy, z),
                        (c + 1.25, gy, z + 0.24),
                        (c - 1.25, gy, z + 0.24),
                    ]
                ),
                fill=mix("#3c2f25", fog, 1 - math.exp(-z / 30)),
            )
            z += 0.68

    s.layer(sleepers, blur=0.0003)
    rails = s.mask(
        lambda p: [
            p.polygon(cam.strip(lambda z, o=o: track(z) + o, 0.035, gy + 0.15, 0.8, 400))
            for o in (-0.72, 0.72)
        ]
    )
    s.fill(s.gradient([(horizon, "#d9d0bf"), (1, "#7b7469")]), rails)
    s.light("#fff4e0", ImageChops.multiply(rails, vmask(size, [(horizon, 1), (0.8, 0.0)])), 0.6)

    autumn = ["#d9952b", "#e8b64a", "#b8562b", "#c9782e", "#f0cf6a", "#a84a26"]
    trees = [
        (track(z) + side * rng.uniform(2.8, 15), z)
        for side in (-1, 1)
        for z in (3.0 + 70 * rng.random() ** 1.7 for _ in range(40))
    ]
    trees.sort(key=lambda t: -t[1])

    def leaf(p: Pen, x: float, y: float, z: float, haze: float) -> None:
        r = min(0.032, rng.uniform(0.2, 0.45) * cam.focal / z)
        p.polygon(
            s.place(
                ellipse_pts(0, 0, r, r * 0.62, rng.uniform(0, math.pi), n=14), *cam(x, y, z), 1.0
            ),
            fill=mix(pick(rng, autumn), fog, haze),
        )

    def forest(p: Pen) -> None:
        for x, z in trees:
            haze = min(0.88, 1 - math.exp(-z / 20))
            crowd = int(min(260, 30 * (9 / z) ** 1.3 + 25))
            crown = [(x + rng.gauss(0, 1.1), rng.uniform(1.2, 9.5)) for _ in range(crowd)]
            for lx, ly in crown[: crowd * 3 // 4]:
                leaf(p, lx, ly, z, haze)
            bx, top = cam(x, gy, z), cam(x, 14, z)
            half = 0.14 * cam.focal / (z * s.aspect)
            p.polygon(
                [
                    (bx[0] - half, bx[1]),
                    (bx[0] + half, bx[1]),
                    (top[0] + half * 0.6, top[1]),
                    (top[0] - half * 0.6, top[1]),
                ],
                fill=mix("#ece6d8", fog, haze),
            )
            p.polygon(
                [
                    (bx[0] + half * 0.2, bx[1]),
                    (bx[0] + half, bx[1]),
                    (top[0] + half * 0.6, top[1]),
                    (top[0] + half * 0.1, top[1]),
                ],
                fill=mix("#b9b0a0", fog, haze),
            )
            for _ in range(16):
                mx, my = cam(x + rng.uniform(-0.08, 0.04), rng.uniform(gy, 9), z)
                p.ellipse(
                    mx,
                    my,
                    half * s.aspect * rng.uniform(0.3, 0.7),
                    0.012 * cam.focal / z,
                    fill=mix("#2b2622", fog, haze),
                )
            for lx, ly in crown[crowd * 3 // 4 :]:
                leaf(p, lx, ly, z, haze)

    s.layer(forest, blur=0.0006)

    def litter(p: Pen) -> None:
        for _ in range(1200):
            z = 1.2 + 30 * rng.random() ** 1.5
            x = track(z) + rng.choice((-1, 1)) * rng.uniform(1.9, 9)
            r = rng.uniform(0.05, 0.12) * cam.focal / z
            p.ellipse(
                *cam(x, gy, z),
                r * 1.5,
                r * 0.5,
                fill=mix(pick(rng, autumn), fog, min(0.8, 1 - math.exp(-z / 20))),
            )

    s.layer(litter, blur=0.0006, opacity=0.85)
    s.band([(0.3, 0.0), (horizon, 0.35), (0.6, 0.0)], fog)
    return finish(s, rng, paper=0.06, vignette=0.35, vignette_color="#1b120a")


def bayt_al_zaytoun(size: tuple[int, int]) -> Image.Image:
    """Rows of silver-green olive trees on terraced hills in warm light."""
    rng = random.Random(112)
    horizon = 0.36
    s = Scene(size, gradient(size, [(0, "#b9c7c4"), (0.24, "#e4dcc2"), (horizon, "#f4e3bb")]))
    s.glow(0.84, 0.2, 0.7, 0.4, "#fff0cc", 0.6)
    cloud_bank(
        s, rng, 8, 0.04, 0.25, "#fbf4e4", 0.35, stretch=(10, 18), size=(0.005, 0.012), blur=0.012
    )

    for base, height, tone, dots in (
        (horizon + 0.04, 0.13, "#cbbf9f", "#a3a68c"),
        (0.49, 0.1, "#bba77f", "#818c6c"),
    ):
        hill = ridge(rng, base, height, freq=1.2, octaves=4)
        s.shape(lambda p, h=hill: p.polygon(below(h)), tone, blur=0.0015)

        def terraces(p: Pen, hill=hill, base=base, dots=dots) -> None:
            for k in range(1, 10):
                line = [(x, y + k * 0.011) for x, y in hill if y + k * 0.011 < base + 0.04]
                if len(line) > 2:
                    p.line(line, 0.0012, fill=(110, 85, 55, 80))
                    for x, y in line[::2]:
                        if rng.random() < 0.35:
                            p.ellipse(x, y - 0.004, 0.0045, 0.0035, fill=rgba(dots, 0.95))

        s.layer(terraces, blur=0.0006)

    cam = Camera(horizon, 1.2, s.aspect)
    gy = -3.4
    field_top = 0.52
    s.shape(
        lambda p: p.rect(0, field_top, 1, 1),
        s.gradient([(field_top, "#c9aa78"), (1, "#946f45")]),
        blur=0.002,
    )
    trees = [
        (x + rng.uniform(-0.9, 0.9), z + rng.uniform(-0.5, 0.5))
        for z in (8.5, 11, 14, 18, 23)
        for x in [-20 + 4.6 * i for i in range(10)]
    ]
    trees = [t for t in trees if abs(cam(t[0], 0, t[1])[0] - 0.5) < 0.6]
    trees.sort(key=lambda t: -t[1])

    s.shape(
        lambda p: [
            p.ellipse(*cam(x - 1.1, gy, z), 1.3 * cam.focal / z, 0.2 * cam.focal / z)
            for x, z in trees
        ],
        "#6b5233",
        blur=0.005,
        opacity=0.32,
    )
    foliage = ["#5f6d58", "#7f8c74", "#a0aa92", "#c3cab2"]

    def grove(p: Pen) -> None:
        for x, z in trees:
            k = cam.focal / z
            haze = min(0.35, 1 - math.exp(-z / 45))
            trunk = [
                (-0.2, 0),
                (0.2, 0),
                (0.1, -0.25),
                (0.26, -0.6),
                (0.13, -0.65),
                (0.01, -0.42),
                (-0.1, -0.68),
                (-0.24, -0.62),
                (-0.09, -0.28),
            ]
            p.polygon(
                s.place(trunk, *cam(x, gy, z), k, mirror=rng.random() < 0.5),
                fill=mix("#4d4136", "#e8dcc0", haze),
            )
            clumps = [
                (rng.uniform(-1.0, 1.0), rng.uniform(-0.5, 0.4), rng.uniform(0.55, 0.9))
                for _ in range(7)
            ]
            for _ in range(220):
                cx, cy, spread = pick(rng, clumps)
                a, d = rng.uniform(0, 2 * math.pi), rng.random() ** 0.6
                dx, dy = cx + spread * d * math.cos(a), cy + 0.75 * spread * d * math.sin(a)
                light = (dx / 1.6 * 0.7 - dy * 0.8 + 1) / 2 + rng.uniform(-0.2, 0.2)
                tone = foliage[max(0, min(3, int(light * 4)))]
                r = rng.uniform(0.08, 0.17) * k
                p.polygon(
                    s.place(
                        ellipse_pts(0, 0, r, r * 0.5, rng.uniform(-0.6, 0.6), n=12),
                        *cam(x + dx, gy + 1.15 - dy, z),
                        1.0,
                    ),
                    fill=mix(tone, "#efe2c2", haze),
                )

    s.layer(grove, blur=0.0006)

    def grass(p: Pen) -> None:
        for _ in range(500):
            x, y = rng.uniform(-0.02, 1.02), lerp(field_top, 1.0, rng.random() ** 0.6)
            h = 0.004 + 0.02 * (y - field_top)
            p.line(
                [(x, y), (x + rng.uniform(-0.004, 0.004), y - h)],
                0.0012,
                fill=jitter("#8a6a3c", rng, 0.2),
            )

    s.layer(grass, blur=0.0004, opacity=0.7)
    s.glow(0.84, 0.2, 1.0, 0.8, "#ffdca0", 0.18)
    return finish(s, rng, paper=0.06, vignette=0.3, vignette_color="#2a1c0e")


def the_quiet_ward(size: tuple[int, int]) -> Image.Image:
    """Morning light through a ward window onto an empty, made bed."""
    rng = random.Random(113)
    floor_y = 0.80
    s = Scene(size, gradient(size, [(0, "#aeb8ad"), (1, "#c6ccbe")], vertical=False))
    s.shade(
        s.gradient([(0, "#d6d6d0"), (0.5, "#ffffff"), (floor_y, "#e6e4dc")]),
        Image.new("L", size, 255),
    )
    s.shape(lambda p: p.rect(0, floor_y, 1, 1), s.gradient([(floor_y, "#948c7c"), (1, "#6c665b")]))
    s.shape(lambda p: p.rect(0, floor_y - 0.012, 1, floor_y), "#7d786c")

    wx0, wy0, wx1, wy1 = 0.13, 0.14, 0.40, 0.64
    s.glow((wx0 + wx1) / 2, (wy0 + wy1) / 2, 0.55, 0.45, "#fff8ea", 0.35)
    s.shape(lambda p: p.rect(wx0, wy0, wx1, wy1), s.gradient([(wy0, "#f5f3ea"), (wy1, "#dfe7e1")]))
    s.shape(
        lambda p: [
            p.ellipse(rng.uniform(wx0, wx1), rng.uniform(0.46, 0.66), rng.uniform(0.02, 0.06))
            for _ in range(22)
        ],
        "#a7b8a6",
        blur=0.006,
        opacity=0.55,
    )

    def frame(p: Pen) -> None:
        t = 0.012
        p.rect(wx0 - t, wy0 - t, wx1 + t, wy0)
        p.rect(wx0 - t, wy1, wx1 + t, wy1 + t)
        p.rect(wx0 - t, wy0, wx0, wy1)
        p.rect(wx1, wy0, wx1 + t, wy1)
        p.rect((wx0 + wx1) / 2 - 0.004, wy0, (wx0 + wx1) / 2 + 0.004, wy1)
        for k in (1, 2):
            y = lerp(wy0, wy1, k / 3)
            p.rect(wx0, y - 0.005, wx1, y + 0.005)

    s.shape(frame, "#e4e2da", blur=0.0004)
    s.shape(lambda p: p.rect(wx0 - 0.02, wy1 + 0.012, wx1 + 0.02, wy1 + 0.026), "#eeece6")
    s.shape(
        lambda p: p.rect(wx0 - 0.02, wy1 + 0.026, wx1 + 0.02, wy1 + 0.04),
        "#5a5f56",
        blur=0.006,
        opacity=0.4,
    )

    def cast(x: float, y: float) -> Point:
        drop = wy1 - y
        return (x + 0.06 + drop * 0.55, floor_y + 0.01 + drop * 0.38)

    def patch(p: Pen) -> None:
        cols = [(wx0, (wx0 + wx1) / 2 - 0.004), ((wx0 + wx1) / 2 + 0.004, wx1)]
        rows = [
            (lerp(wy0, wy1, k / 3) + 0.005, lerp(wy0, wy1, (k + 1) / 3) - 0.005) for k in range(3)
        ]
        for x0, x1 in cols:
            for y0, y1 in rows:
                p.polygon([cast(x0, y1), cast(x1, y1), cast(x1, y0), cast(x0, y0)])

    s.light("#fff0d2", s.mask(patch, blur=0.004), 0.55)
    s.glow(0.62, 0.42, 0.45, 0.35, "#fff3dc", 0.22)

    cx0, cx1 = wx1 + 0.006, wx1 + 0.07
    drape = [(cx0, 0.1), (cx1, 0.1), (cx1 + 0.012, 0.74), (cx0 + 0.004, 0.74)]
    s.shape(lambda p: p.polygon(drape), "#efece3", blur=0.0008, opacity=0.8)

    def folds(p: Pen) -> None:
        for k in range(7):
            u = (k + 0.5) / 7
            p.line([(lerp(cx0, cx1, u), 0.1), (lerp(cx0 + 0.004, cx1 + 0.012, u), 0.74)], 0.004)

    s.shape(folds, "#a9a99f", blur=0.003, opacity=0.45)
    s.shape(lambda p: p.line([(wx0 - 0.04, 0.1), (wx1 + 0.12, 0.1)], 0.004), "#8c8c86")

    gx, gy = 0.33, wy1 + 0.012
    glass = [(gx - 0.008, gy), (gx + 0.008, gy), (gx + 0.01, gy - 0.045), (gx - 0.01, gy - 0.045)]
    s.shape(lambda p: p.polygon(glass), "#dfe9e8", opacity=0.6)
    s.shape(
        lambda p: p.rect(gx - 0.007, gy - 0.025, gx + 0.007, gy - 0.002), "#b8ccd0", opacity=0.5
    )
    s.shape(
        lambda p: p.rect(gx + 0.004, gy - 0.042, gx + 0.0065, gy - 0.005), "#ffffff", opacity=0.8
    )

    bx0, bx1, top = 0.50, 0.96, 0.585
    s.shape(
        lambda p: p.ellipse((bx0 + bx1) / 2, 0.905, 0.42, 0.03), "#3f3b33", blur=0.012, opacity=0.45
    )

    def bed(p: Pen) -> None:
        metal = "#c4c8c2"
        for x in (bx0 + 0.012, bx1 - 0.012):
            p.line([(x, 0.66), (x, 0.875)], 0.006, fill=metal)
            p.ellipse(x, 0.888, 0.011, fill="#3c3c38")
        p.rect(bx0, 0.665, bx1, 0.69, fill="#a9aea9")
        for x0, x1, y0 in ((bx1 - 0.02, bx1 + 0.012, 0.44), (bx0 - 0.012, bx0 + 0.016, 0.53)):
            for x in (x0, x1):
                p.line([(x, y0), (x, 0.875)], 0.006, fill=metal)
            for y in (y0, y0 + 0.05, y0 + 0.1):
                p.line([(x0, y), (x1, y)], 0.005, fill=metal)
        p.polygon(
            [(bx0, top), (bx1 - 0.01, top), (bx1 - 0.01, 0.665), (bx0, 0.665)], fill="#eeeee9"
        )
        pillow = s.place(blob_pts(rng, 0.07, 0.026, 0.05), bx1 - 0.07, top - 0.012, 1.0)
        p.polygon(pillow, fill="#f7f7f3")
        p.polygon(
            [
                (bx0 + 0.01, top - 0.004),
                (bx0 + 0.12, top - 0.006),
                (bx0 + 0.125, 0.672),
                (bx0 + 0.01, 0.672),
            ],
            fill="#9fb3c0",
        )
        p.polygon(
            [
                (bx0 + 0.01, top - 0.004),
                (bx0 + 0.12, top - 0.006),
                (bx0 + 0.12, top + 0.006),
                (bx0 + 0.01, top + 0.008),
            ],
            fill="#b8c9d3",
        )

    s.layer(bed, blur=0.0006)
    s.shape(lambda p: p.rect(bx0, top + 0.02, bx1, 0.665), "#9ba39d", blur=0.008, opacity=0.35)
    s.glow(0.55, 0.60, 0.3, 0.12, "#fff6e4", 0.2)
    return finish(s, rng, paper=0.07, vignette=0.3, vignette_color="#1c1d18", saturation=0.9)


def bread_and_borders(size: tuple[int, int]) -> Image.Image:
    """The glowing mouth of a bakery oven above a counter of fresh loaves."""
    rng = random.Random(114)
    s = Scene(size, "#1e120b")

    def bricks(p: Pen) -> None:
        bh, bw = 0.03, 0.06
        for row in range(int(1 / bh) + 1):
            x = -(row % 2) * bw / 2
            while x < 1:
                p.rect(
                    x + 0.002,
                    row * bh + 0.003,
                    x + bw - 0.002,
                    (row + 1) * bh - 0.001,
                    fill=jitter(pick(rng, ["#4f2c1d", "#5c3322", "#43261a"]), rng, 0.12),
                )
                x += bw

    s.layer(bricks, blur=0.0005)

    cx, arch_y, floor_y = 0.5, 0.44, 0.63
    rx, ry = 0.225, 0.15
    opening = [
        *s.place(ellipse_pts(0, 0, rx, ry, start=math.pi, end=2 * math.pi), cx, arch_y, 1.0),
        (cx + rx / s.aspect, floor_y),
        (cx - rx / s.aspect, floor_y),
    ]

    def voussoirs(p: Pen) -> None:
        n = 15
        for k in range(n):
            a0 = math.pi + math.pi * k / n + 0.006
            a1 = math.pi + math.pi * (k + 1) / n - 0.006
            inner = [(rx * math.cos(a), ry * math.sin(a)) for a in (a0, a1)]
            outer = [(rx * 1.4 * math.cos(a), ry * 1.55 * math.sin(a)) for a in (a1, a0)]
            p.polygon(s.place(inner + outer, cx, arch_y, 1.0), fill=jitter("#7a3a22", rng, 0.1))
        for side in (-1, 1):
            for j in range(6):
                y0 = arch_y + j * 0.032
                x_in = cx + side * rx / s.aspect
                x_out = cx + side * rx * 1.4 / s.aspect
                p.polygon(
                    [
                        (x_in, y0 + 0.002),
                        (x_out, y0 + 0.002),
                        (x_out, y0 + 0.03),
                        (x_in, y0 + 0.03),
                    ],
                    fill=jitter("#6e341f", rng, 0.1),
                )

    s.layer(voussoirs, blur=0.0005)

    hole = s.mask(lambda p: p.polygon(opening), blur=0.0008)
    s.fill("#3b150a", hole)
    inner_glow = ImageChops.multiply(hole, radial_mask(size, cx, floor_y - 0.03, 0.3, 0.2, 0.8))
    s.fill("#f09a45", inner_glow)
    s.light(
        "#ffe2a0",
        ImageChops.multiply(hole, radial_mask(size, cx, floor_y - 0.02, 0.17, 0.08, 0.9)),
        1.0,
    )

    def embers(p: Pen) -> None:
        for _ in range(60):
            p.ellipse(
                cx + rng.gauss(0, 0.07),
                floor_y - rng.uniform(0.0, 0.03),
                rng.uniform(0.002, 0.008),
                fill=rng.randint(120, 255),
            )
        for _ in range(7):
            fx = cx + rng.uniform(-0.08, 0.08)
            hgt = rng.uniform(0.05, 0.11)
            p.polygon(
                s.place(
                    [(-0.02, 0), (0.02, 0), (0.004, -hgt * 0.6), (0.0, -hgt), (-0.006, -hgt * 0.5)],
                    fx,
                    floor_y - 0.015,
                    1.0,
                ),
                fill=rng.randint(120, 220),
            )

    s.light("#ffcf70", ImageChops.multiply(s.mask(embers, blur=0.003), hole), 0.9)
    s.glow(cx, 0.55, 0.9, 0.55, "#ff9440", 0.5)

    s.shape(
        lambda p: p.rect(0, 0.70, 1, 1),
        s.gradient([(0.70, "#7a4a2a"), (0.76, "#4a2b17"), (1, "#24140b")]),
    )
    s.shape(lambda p: p.rect(0, 0.695, 1, 0.712), "#9c6a40")
    s.shape(
        lambda p: [p.line([(0, 0.76 + 0.07 * k), (1, 0.75 + 0.07 * k)], 0.0015) for k in range(4)],
        "#1a0d06",
        opacity=0.4,
        blur=0.001,
    )
    s.shape(
        lambda p: [
            p.ellipse(
                rng.uniform(0, 1),
                rng.uniform(0.72, 1),
                rng.uniform(0.001, 0.003),
                fill=rng.randint(40, 200),
            )
            for _ in range(90)
        ],
        "#f3e6cf",
        opacity=0.35,
    )

    def loaf(outline: Polygon, scores: list[Polygon], y0: float, y1: float) -> None:
        s.shape(
            lambda p: p.polygon(offset(outline, 0.0, 0.012)), "#0d0603", blur=0.008, opacity=0.7
        )
        s.shape(
            lambda p: p.polygon(outline),
            s.gradient([(y0, "#e3a75a"), (lerp(y0, y1, 0.55), "#b5692c"), (y1, "#5e2f12")]),
            blur=0.0006,
        )
        if scores:
            s.shape(
                lambda p: [p.line(sc, 0.006) for sc in scores], "#f0cf93", blur=0.0015, opacity=0.85
            )

    def boule(x: float, y: float, r: float) -> None:
        outline = s.place(blob_pts(rng, r, r * 0.68, 0.04), x, y, 1.0)
        scores = [
            s.place(
                ellipse_pts(0, 0, r * 0.55, r * 0.25, start=math.pi * 1.1, end=math.pi * 1.9, n=20),
                x,
                y + dy,
                1.0,
            )
            for dy in (-r * 0.15, r * 0.12)
        ]
        loaf(outline, scores, y - r * 0.7, y + r * 0.7)

    def batard(x: float, y: float, length: float, angle: float) -> None:
        outline = s.place(ellipse_pts(0, 0, length, length * 0.24), x, y, 1.0, angle)
        scores = [
            s.place([(u - 0.03, 0.015), (u + 0.04, -0.02)], x, y, length / 0.2, angle)
            for u in (-0.11, -0.04, 0.03, 0.1)
        ]
        loaf(outline, scores, y - length * 0.3, y + length * 0.3)

    def ring(x: float, y: float, r: float) -> None:
        loaf(s.place(ellipse_pts(0, 0, r, r * 0.62), x, y, 1.0), [], y - r * 0.62, y + r * 0.62)
        s.shape(
            lambda p: p.polygon(
                s.place(ellipse_pts(0, 0, r * 0.42, r * 0.22), x, y - r * 0.04, 1.0)
            ),
            s.gradient([(y - 0.04, "#2a160b"), (y + 0.03, "#8a5228")]),
            blur=0.0008,
        )
        s.shape(
            lambda p: [
                p.ellipse(
                    x + rng.uniform(-r, r) / s.aspect * 0.85,
                    y + rng.uniform(-r, r) * 0.55,
                    0.0025,
                    0.0015,
                )
                for _ in range(90)
            ],
            "#f6e2b8",
            opacity=0.8,
        )

    def flatbreads(x: float, y: float, r: float) -> None:
        for k in range(4):
            loaf(
                s.place(ellipse_pts(0, 0, r, r * 0.32), x, y - k * 0.014, 1.0),
                [],
                y - r * 0.32 - k * 0.014,
                y + r * 0.32,
            )
        s.shape(
            lambda p: [
                p.ellipse(
                    x + rng.uniform(-r, r) / s.aspect * 0.8,
                    y - 0.042 + rng.uniform(-r, r) * 0.22,
                    rng.uniform(0.003, 0.008),
                    0.002,
                )
                for _ in range(18)
            ],
            "#6a3a18",
            blur=0.002,
            opacity=0.6,
        )

    boule(0.36, 0.76, 0.07)
    flatbreads(0.88, 0.80, 0.11)
    boule(0.17, 0.84, 0.11)
    ring(0.71, 0.86, 0.12)
    batard(0.46, 0.92, 0.22, -0.12)
    s.glow(cx, 0.62, 0.6, 0.25, "#ffb060", 0.3)
    return finish(s, rng, paper=0.05, vignette=0.45, vignette_color="#0a0402")


def the_lighthouse_school(size: tuple[int, int]) -> Image.Image:
    """A lighthouse and its schoolhouse on a rocky island under a storm."""
    rng = random.Random(115)
    horizon = 0.60
    s = Scene(size, gradient(size, [(0, "#1f262f"), (0.3, "#444f5a"), (horizon, "#8e9597")]))
    cloud_bank(
        s, rng, 22, -0.05, 0.38, "#161b22", 0.65, size=(0.03, 0.08), stretch=(2, 5), blur=0.035
    )
    cloud_bank(
        s, rng, 10, 0.42, 0.57, "#d3d5cf", 0.35, stretch=(8, 16), size=(0.006, 0.015), blur=0.01
    )
    s.shape(
        lambda p: [
            p.line([(x, 0.15), (x - 0.05, horizon)], 0.004)
            for x in (rng.uniform(0.05, 0.35) for _ in range(40))
        ],
        "#5e676d",
        blur=0.006,
        opacity=0.35,
    )

    s.shape(
        lambda p: p.rect(0, horizon, 1, 1),
        s.gradient([(horizon, "#5d6a72"), (0.76, "#35424b"), (1, "#182128")]),
    )
    reflect(s, horizon, 0.25)

    waves = []
    for k in range(26):
        t = (k + 0.5) / 26
        y, amp, phase = horizon + 0.005 + 0.4 * t**1.6, 0.002 + 0.01 * t, rng.uniform(0, 6.3)
        waves.append(
            (
                t,
                [
                    (x, y + amp * math.sin(x * (60 - 40 * t) + phase))
                    for x in (i / 120 for i in range(-2, 123))
                ],
            )
        )
    s.shape(
        lambda p: [p.line(w, 0.001 + 0.004 * t) for t, w in waves],
        "#0f171d",
        blur=0.002,
        opacity=0.45,
    )

    def foam(p: Pen) -> None:
        for t, w in waves:
            i = rng.randrange(6)
            while i < len(w) - 2:
                run = rng.randint(2, 4 + int(6 * t))
                p.line(
                    offset(w[i : i + run], 0.0, -0.002 - 0.004 * t),
                    0.0008 + 0.0025 * t,
                    fill=rng.randint(110, 255),
                )
                i += run + rng.randint(4, 22)

    s.light("#e6ebe8", s.mask(foam, blur=0.0012), 0.55)

    crest = ridge(
        rng,
        0.58,
        0.06,
        freq=3,
        octaves=5,
        rough=0.55,
        envelope=lambda x: math.sin(math.pi * min(1.0, max(0.0, (x - 0.46) / 0.54))) ** 0.35,
    )
    island = [(x, min(y, horizon + 0.02)) for x, y in crest if 0.46 <= x <= 1.0]
    island = [(0.44, horizon + 0.022), *island, (1.02, horizon + 0.022)]
    s.shape(
        lambda p: p.polygon(island), s.gradient([(0.5, "#2b3134"), (0.64, "#15191c")]), blur=0.0006
    )
    facet_shade(s, island[1:-1], horizon + 0.022, "#0b0e10", 0.6, spur=-0.3, gully=0.9)
    s.shape(lambda p: p.line(island[1:-1], 0.01), "#4b5a47", blur=0.002, opacity=0.8)

    def ground_at(x: float) -> float:
        return min(island[1:-1], key=lambda pt: abs(pt[0] - x))[1]

    school = house_parts(0.15, 0.055, 0.04, windows=(0.25, 0.5, 0.75))
    sx = 0.83
    sy = ground_at(sx) + 0.006
    s.shape(lambda p: p.polygon(s.place(school["wall"][0], sx, sy, 1.0)), "#a9a396")
    s.shape(lambda p: p.polygon(s.place(school["roof"][0], sx, sy, 1.0)), "#3a3433")
    s.shape(
        lambda p: p.polygon(
            s.place(
                [(-0.008, -0.09), (0.008, -0.09), (0.008, -0.115), (0.0, -0.125), (-0.008, -0.115)],
                sx,
                sy,
                1.0,
            )
        ),
        "#3a3433",
    )
    s.shape(lambda p: [p.polygon(s.place(w, sx, sy, 1.0)) for w in school["windows"]], "#f6c978")
    for f in (0.25, 0.5, 0.75):
        s.glow(sx + (f - 0.5) * 0.15 / s.aspect, sy - 0.03, 0.03, color="#f3b060", strength=0.35)

    lh = lighthouse_parts()
    lx = 0.66
    ly, lsc = ground_at(lx) + 0.008, 0.33
    for part, tone in (
        ("tower", "#e3dfd3"),
        ("shade", "#aaa79e"),
        ("band", "#8e3b33"),
        ("gallery", "#2a2a2c"),
        ("lantern", "#fff1c8"),
        ("roof", "#2a2a2c"),
    ):
        s.shape(lambda p, part=part: p.polygon(s.place(lh[part], lx, ly, lsc)), tone, blur=0.0003)
    lamp = s.place(lh["lamp"], lx, ly, lsc)[0]
    beam(s, *lamp, math.pi + 0.16, 1.25, 0.05, "#fff2d0", 0.55)
    beam(s, *lamp, -0.25, 0.6, 0.04, "#fff2d0", 0.25)
    s.glow(*lamp, 0.06, color="#fff4d8", strength=0.9, falloff=1.2)

    s.shape(
        lambda p: [
            p.ellipse(x, horizon + 0.012 - h, h * 0.35, h)
            for x, h in ((0.455, 0.02), (0.47, 0.012), (0.99, 0.025), (0.975, 0.014))
        ],
        "#eef1ee",
        blur=0.005,
        opacity=0.5,
    )
    gulls = [(0.28, 0.3, 0.012), (0.32, 0.27, 0.009), (0.25, 0.34, 0.008)]
    s.shape(
        lambda p: [
            p.line(
                s.place([(-1, -0.3), (-0.4, -0.5), (0, 0), (0.4, -0.5), (1, -0.3)], x, y, r), 0.0018
            )
            for x, y, r in gulls
        ],
        "#e8ebe6",
        opacity=0.8,
    )
    return finish(s, rng, paper=0.05, vignette=0.38, vignette_color="#07090b")


def signal_lost(size: tuple[int, int]) -> Image.Image:
    """A radio telescope dish in a mountain valley under the Milky Way."""
    rng = random.Random(116)
    horizon = 0.66
    s = Scene(
        size,
        gradient(size, [(0, "#03050b"), (0.35, "#0a1326"), (0.6, "#1a2843"), (horizon, "#2a3551")]),
    )

    def galactic(r: random.Random) -> Point:
        t = r.random()
        return (lerp(-0.05, 1.05, t) + r.gauss(0, 0.03), lerp(0.02, 0.62, t) + r.gauss(0, 0.06))

    def milky(p: Pen) -> None:
        for _ in range(70):
            x, y = galactic(rng)
            p.ellipse(
                x, y, rng.uniform(0.03, 0.09), rng.uniform(0.02, 0.05), fill=rng.randint(60, 200)
            )

    s.light("#8e9cc6", s.mask(milky, blur=0.03), 0.35)
    s.glow(0.62, 0.38, 0.35, 0.16, "#c7b59a", 0.18)
    s.shade(
        "#1a1f2c",
        s.mask(
            lambda p: [
                p.ellipse(*galactic(rng), rng.uniform(0.02, 0.05), rng.uniform(0.005, 0.012))
                for _ in range(26)
            ],
            blur=0.008,
        ),
        0.6,
    )
    starfield(s, rng, 1500, 0.0, horizon, around=galactic, share=0.45, size=0.0006)
    for _ in range(10):
        s.glow(
            rng.random(), rng.uniform(0.02, 0.5), 0.004, color="#dfe6ff", strength=0.6, falloff=1.2
        )

    far = ridge(rng, horizon, 0.06, freq=2.0, sharp=0.4)
    s.shape(lambda p: p.polygon(below(far)), "#161d2d", blur=0.001)
    for side, tone in ((0, "#0d121d"), (1, "#0a0e17")):
        slope = ridge(
            rng,
            horizon + 0.03,
            0.32,
            freq=1.4,
            sharp=0.45,
            envelope=(lambda x: smooth(0.42, 0.0, x))
            if side == 0
            else (lambda x: smooth(0.78, 1.1, x)),
        )
        rim = s.mask(lambda p, sl=slope: p.polygon(below(sl)))
        s.fill("#3c4a68", rim, 0.9)
        s.fill(tone, ImageChops.offset(rim, 0, 3))
    s.shape(
        lambda p: p.rect(0, horizon + 0.02, 1, 1),
        s.gradient([(horizon, "#121826"), (1, "#05070b")]),
        blur=0.004,
    )
    s.glow(0.5, horizon + 0.03, 0.7, 0.03, "#35425e", 0.4)
    road = [
        (
            lerp(0.3, 0.6, t) + 0.12 * math.sin(math.pi * t) * (1 - t),
            lerp(1.02, horizon + 0.015, t**0.7),
        )
        for t in (i / 40 for i in range(41))
    ]
    s.shape(
        lambda p: [p.line(road[i : i + 2], lerp(0.03, 0.003, i / 40)) for i in range(40)],
        "#27314a",
        blur=0.002,
        opacity=0.8,
    )

    def dish(x: float, y: float, sc: float, rim_tone: Color, face_tone: Color, body: Color) -> None:
        tilt = -0.55
        rim = s.place(ellipse_pts(0, 0, 0.22, 0.085, tilt), x, y, sc)
        shell = s.place(ellipse_pts(0.02, 0.035, 0.215, 0.08, tilt), x, y, sc)
        feed = s.place([(-0.11, -0.16)], x, y, sc)[0]
        anchors = [
            s.place([pt], x, y, sc)[0] for pt in ellipse_pts(0, 0, 0.2, 0.075, tilt, n=3)[:3]
        ]
        mount = s.place([(-0.03, 0.04), (0.05, 0.04), (0.09, 0.26), (-0.07, 0.26)], x, y, sc)
        base = s.place([(-0.1, 0.26), (0.12, 0.26), (0.12, 0.30), (-0.1, 0.30)], x, y, sc)
        s.shape(lambda p: (p.polygon(mount), p.polygon(base), p.polygon(shell)), body, blur=0.0004)
        s.shape(
            lambda p: p.polygon(rim),
            s.gradient([(y - 0.12 * sc, face_tone), (y + 0.1 * sc, body)]),
            blur=0.0004,
        )
        s.shape(lambda p: p.line(rim, 0.004 * sc), rim_tone, opacity=0.8)
        s.shape(lambda p: [p.line([a, feed], 0.005 * sc) for a in anchors], body)
        s.shape(lambda p: p.line([s.place([(0.0, 0.0)], x, y, sc)[0], feed], 0.004 * sc), body)
        s.shape(
            lambda p: p.polygon(s.place(ellipse_pts(-0.11, -0.16, 0.014, 0.01), x, y, sc)), body
        )
        s.glow(feed[0], feed[1] - 0.012 * sc, 0.01 * sc, color="#ff4a32", strength=0.9, falloff=0.8)

    dish(0.30, 0.585, 0.35, "#4a5878", "#2a3654", "#0c111b")
    dish(0.60, 0.43, 0.98, "#6f81a8", "#34446a", "#090d16")
    hut = [
        (0.69, horizon + 0.02),
        (0.76, horizon + 0.02),
        (0.76, horizon - 0.005),
        (0.69, horizon - 0.005),
    ]
    s.shape(lambda p: p.polygon(hut), "#0b0f18")
    s.shape(lambda p: p.rect(0.73, horizon + 0.003, 0.742, horizon + 0.012), "#f0b060")
    s.glow(0.736, horizon + 0.008, 0.03, color="#f0a050", strength=0.4)
    return finish(s, rng, paper=0.04, grain=0.04, vignette=0.35, vignette_color="#000000")


def mothers_of_the_mountain_pass(size: tuple[int, int]) -> Image.Image:
    """A Himalayan pass strung with prayer flags, a stone teahouse below."""
    rng = random.Random(117)
    horizon = 0.52
    s = Scene(size, gradient(size, [(0, "#2a5888"), (0.3, "#5f8db7"), (horizon, "#b6cedd")]))
    cloud_bank(
        s, rng, 6, 0.1, 0.3, "#ffffff", 0.35, stretch=(10, 18), size=(0.004, 0.01), blur=0.008
    )

    peaks = ridge(
        rng,
        horizon,
        0.32,
        sharp=0.8,
        freq=1.5,
        envelope=lambda x: 0.55 + 0.45 * math.sin(math.pi * x),
    )
    s.shape(
        lambda p: p.polygon(below(peaks)),
        s.gradient([(0.2, "#f7f9fa"), (horizon, "#d2dde6")]),
        blur=0.0008,
    )
    facet_shade(s, peaks, horizon + 0.03, "#86a2c0", 0.9)
    rock = ridge(rng, horizon + 0.03, 0.1, freq=4, octaves=4, sharp=0.5)
    s.shape(
        lambda p: p.polygon(below(rock)),
        s.gradient([(0.42, "#8b95a3"), (horizon, "#6c7786")]),
        blur=0.002,
        opacity=0.85,
    )

    pass_x, pass_y = 0.55, 0.66

    def saddle(x: float) -> float:
        return pass_y - 0.26 * abs(x - pass_x) ** 1.3 - 0.02 * math.sin(x * 17)

    hills = [(x, saddle(x)) for x in (i / 100 for i in range(101))]
    hill_mask = s.mask(lambda p: p.polygon(below(hills)), blur=0.0008)
    s.fill(s.gradient([(0.5, "#8a7764"), (0.75, "#5d4d3e"), (1, "#2e251d")]), hill_mask)
    s.shade(
        gradient(size, [(0, "#ffffff"), (0.55, "#e9e4df"), (1, "#b9b0a8")], vertical=False),
        hill_mask,
    )
    near = ridge(rng, 1.02, 0.16, freq=1.2, octaves=4, envelope=lambda x: smooth(0.55, 0.0, x))
    s.shape(
        lambda p: p.polygon(below(near, 1.05)),
        s.gradient([(0.86, "#54463a"), (1, "#241c16")]),
        blur=0.001,
    )

    def drifts(p: Pen) -> None:
        for x in (rng.random() for _ in range(18)):
            y = saddle(x) + rng.uniform(0.004, 0.03)
            w = rng.uniform(0.012, 0.035)
            p.polygon(
                s.place(
                    [(-w, 0), (-w * 0.3, -0.004), (w * 0.5, -0.002), (w, 0.002), (w * 0.2, 0.006)],
                    x,
                    y,
                    1.0,
                )
            )

    s.shape(drifts, "#e4e9ee", blur=0.0018, opacity=0.75)
    path = [
        (lerp(0.42, pass_x, t) + 0.08 * math.sin(t * 7) * (1 - t), lerp(1.02, pass_y, t**0.8))
        for t in (i / 40 for i in range(41))
    ]
    s.shape(lambda p: p.line(path, 0.012), "#b29b80", blur=0.003, opacity=0.5)

    cairn = [
        s.place(
            blob_pts(rng, 0.035 - 0.006 * k, 0.012, 0.1), pass_x, pass_y + 0.004 - 0.018 * k, 1.0
        )
        for k in range(4)
    ]
    s.layer(lambda p: [p.polygon(c, fill=jitter("#7d7870", rng, 0.15)) for c in cairn], blur=0.0004)
    pole_top = (pass_x, 0.43)
    s.shape(lambda p: p.line([(pass_x, pass_y - 0.05), pole_top], 0.004), "#3a2f25")

    flag_colors = ["#3b6fb6", "#f1eee4", "#c8423b", "#3f8f5a", "#e8c04a"]
    anchors = [(-0.02, 0.62), (0.12, 0.76), (0.30, 0.86), (0.82, 0.84), (0.98, 0.70), (1.02, 0.56)]

    def flags(p: Pen) -> None:
        for end in anchors:
            span = math.dist(pole_top, end)
            count = int(span * 60)
            pts = [
                (
                    lerp(pole_top[0], end[0], t),
                    lerp(pole_top[1], end[1], t) + 0.09 * span * math.sin(math.pi * t),
                )
                for t in (i / count for i in range(count + 1))
            ]
            p.line(pts, 0.0012, fill=(40, 32, 26, 160))
            for i, (x, y) in enumerate(pts[1:-1]):
                r = 0.0045 + 0.004 * (y - 0.43)
                p.ellipse(
                    x + rng.uniform(-0.001, 0.001),
                    y + r * 1.1,
                    r,
                    r * 1.2,
                    fill=mix(flag_colors[i % 5], "#c9c4b8", rng.uniform(0.0, 0.25)),
                )

    s.layer(flags, blur=0.0003)

    def teahouse(pts: Iterable[Point]) -> Polygon:
        return s.place(pts, 0.2, 0.815, 1.0)

    def box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
        return teahouse([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])

    s.shape(
        lambda p: p.polygon(teahouse(ellipse_pts(0.01, 0.004, 0.14, 0.014))),
        "#1a130d",
        blur=0.006,
        opacity=0.5,
    )
    s.shape(
        lambda p: p.polygon(box(-0.1, 0, 0.1, -0.07)),
        s.gradient([(0.745, "#9b9083"), (0.815, "#6d645a")]),
    )
    s.shape(
        lambda p: (
            p.polygon(box(-0.108, -0.066, 0.108, -0.078)),
            p.polygon(box(0.05, -0.078, 0.066, -0.1)),
        ),
        "#3b3532",
    )
    s.layer(
        lambda p: [
            p.polygon(
                teahouse(ellipse_pts(-0.09 + 0.012 * k, -0.084, 0.008, 0.006)),
                fill=jitter("#4a3a2c", rng, 0.2),
            )
            for k in range(9)
        ]
    )
    s.shape(
        lambda p: (
            [p.polygon(box(wx - 0.018, -0.021, wx + 0.018, -0.054)) for wx in (-0.05, 0.045)]
            + [p.polygon(box(-0.012, 0, 0.012, -0.045))]
        ),
        "#3f6f9a",
    )
    s.shape(
        lambda p: [p.polygon(box(wx - 0.014, -0.025, wx + 0.014, -0.05)) for wx in (-0.05, 0.045)],
        "#f2b66a",
    )
    s.glow(0.2, 0.775, 0.1, 0.05, "#f2a050", 0.3)
    smoke = teahouse(
        [(0.058 + 0.03 * math.sin(t * 5) * t, -0.1 - 0.22 * t) for t in (i / 30 for i in range(31))]
    )
    s.shape(lambda p: p.line(smoke, 0.01), "#e9ecee", blur=0.008, opacity=0.4)
    return finish(s, rng, paper=0.06, vignette=0.3, vignette_color="#0b1118")


def the_referee(size: tuple[int, int]) -> Image.Image:
    """A lone referee at the centre spot of an empty floodlit pitch at dusk."""
    rng = random.Random(118)
    horizon = 0.42
    s = Scene(
        size,
        gradient(size, [(0, "#1a2142"), (0.2, "#3b3b63"), (0.34, "#a06478"), (horizon, "#eea070")]),
    )
    cloud_bank(
        s, rng, 10, 0.1, 0.36, "#f1a68a", 0.3, stretch=(10, 20), size=(0.004, 0.01), blur=0.008
    )
    treeline(s, rng, horizon + 0.012, 0.035, "#1f1b2c", blur=0.0012)
    stand = [(0.2, horizon + 0.04), (0.2, 0.39), (0.8, 0.37), (0.8, horizon + 0.04)]
    s.shape(lambda p: p.polygon(stand), "#17141f")
    s.shape(lambda p: p.line([(0.2, 0.39), (0.8, 0.37)], 0.003), "#c98a78", opacity=0.7)
    s.shape(
        lambda p: [
            p.line([(0.21, 0.40 + 0.006 * k), (0.79, 0.382 + 0.006 * k)], 0.0012) for k in range(6)
        ],
        "#4b4460",
        opacity=0.6,
    )

    cam = Camera(horizon, 1.4, s.aspect)
    gy = -5.0
    s.shape(
        lambda p: p.rect(0, horizon + 0.02, 1, 1),
        s.gradient([(horizon, "#243326"), (1, "#101a12")]),
    )
    near, far, half = 6.0, 92.0, 34.0

    def stripes(p: Pen) -> None:
        z, k = near, 0
        while z < far:
            p.polygon(
                cam.ground(-half, half, z, min(far, z + 5.5), gy),
                fill="#34583a" if k % 2 else "#2c4d31",
            )
            z, k = z + 5.5, k + 1

    s.layer(stripes)

    def lines(p: Pen) -> None:
        w = 0.14
        for x in (-half, half):
            p.polygon(cam.strip(lambda z, x=x: x, w, gy, near, far))
        for z in (35.0, far):
            p.polygon(cam.ground(-half, half, z - w, z + w, gy))
        for x in (-20.16, 20.16):
            p.polygon(cam.ground(x - w, x + w, far - 16.5, far, gy))
        p.polygon(cam.ground(-20.16, 20.16, far - 16.5 - w, far - 16.5 + w, gy))
        circle = [
            (9.15 * math.cos(t), 35 + 9.15 * math.sin(t))
            for t in (2 * math.pi * i / 120 for i in range(121))
        ]
        outer = [cam(x * 1.015, gy, 35 + (z - 35) * 1.015) for x, z in circle]
        inner = [cam(x * 0.985, gy, 35 + (z - 35) * 0.985) for x, z in circle]
        p.polygon(outer)
        p.polygon(inner, fill=0)

    s.shape(lines, "#e6ebe2", opacity=0.8)
    goal = [
        cam(x, y, far) for x, y in ((-3.66, gy), (-3.66, gy + 2.44), (3.66, gy + 2.44), (3.66, gy))
    ]
    s.shape(lambda p: p.line(goal, 0.0022), "#f2f2ea")

    masts = [(0.04, 0.05, 0.60), (0.29, 0.2, 0.43), (0.71, 0.2, 0.43), (0.96, 0.05, 0.60)]
    for x, top, base in masts:
        s.shape(
            lambda p, x=x, top=top, base=base: p.polygon(
                [(x - 0.004, base), (x + 0.004, base), (x + 0.0015, top), (x - 0.0015, top)]
            ),
            "#141220",
        )
        lamp = (x, top - 0.01)
        s.shape(
            lambda p, lp=lamp: p.rect(lp[0] - 0.02, lp[1] - 0.014, lp[0] + 0.02, lp[1] + 0.014),
            "#2a2630",
        )
        s.shape(
            lambda p, lp=lamp: [
                p.ellipse(lp[0] + (i - 1.5) * 0.009, lp[1] + (j - 0.5) * 0.014, 0.0035)
                for i in range(4)
                for j in range(2)
            ],
            "#fffaf0",
        )
        s.glow(*lamp, 0.12, color="#fff3dc", strength=0.8, falloff=2.5)
        beam(
            s,
            *lamp,
            math.atan2(0.62 - lamp[1], (0.5 - lamp[0]) * s.aspect),
            0.75,
            0.12,
            "#f3f0dc",
            0.12,
        )

    feet = cam(1.5, gy, 35)
    tall = 1.4 * 1.8 / 35 * 1.25
    shadows = [
        s.place(
            [(-0.01, 0), (0.01, 0), (0.05 * dx, 0.02 * dy + 0.002), (0.05 * dx - 0.01, 0.02 * dy)],
            *feet,
            1.0,
        )
        for dx, dy in ((-1, 0.5), (1, 0.5), (-1.4, -0.4), (1.4, -0.4))
    ]
    s.shape(lambda p: [p.polygon(sh) for sh in shadows], "#0b140c", blur=0.002, opacity=0.45)
    s.shape(
        lambda p: (
            p.polygon(s.place(figure_parts(0.01, 0.015), *feet, tall)),
            p.polygon(s.place(head_pts(), *feet, tall)),
        ),
        "#111014",
        blur=0.0002,
    )
    s.glow(0.5, 0.6, 0.9, 0.15, "#d8e2cf", 0.12)
    return finish(s, rng, paper=0.05, vignette=0.4, vignette_color="#05040a")


def _cover_texture(s: Scene, rng: random.Random) -> Image.Image:
    return finish(s, rng, paper=0.05, grain=0.03, vignette=0.3, vignette_color="#05060a")


def cover_2026_12(size: tuple[int, int]) -> Image.Image:
    """December cover: a lone lighthouse beam across a deep-blue sea."""
    rng = random.Random(119)
    horizon = 0.64
    s = Scene(
        size,
        gradient(
            size, [(0, "#06112a"), (0.22, "#0a1b3a"), (0.45, "#173056"), (horizon, "#3d4866")]
        ),
    )
    s.glow(0.74, horizon, 0.7, 0.12, "#e79a4c", 0.6)
    s.glow(0.74, horizon, 0.35, 0.05, "#ffc47a", 0.45)
    cloud_bank(
        s, rng, 12, 0.36, 0.6, "#6a6a86", 0.3, stretch=(10, 22), size=(0.003, 0.008), blur=0.004
    )
    starfield(s, rng, 140, 0.25, 0.55, size=0.0005)

    s.shape(
        lambda p: p.rect(0, horizon, 1, 1),
        s.gradient([(horizon, "#2d3a5a"), (0.78, "#102343"), (1, "#050d1e")]),
    )
    reflect(s, horizon, 0.45)
    ripple(s, rng, horizon, 1, 0.0012)
    glints(
        s,
        rng,
        420,
        horizon + 0.003,
        0.98,
        "#ff9a3c",
        0.75,
        center=0.77,
        spread=0.05,
        length=(0.01, 0.07),
        thickness=(0.0006, 0.0018),
    )

    islet = (
        [(0.58, horizon + 0.008)]
        + [(x, y) for x, y in ridge(rng, 0.632, 0.02, freq=4) if 0.62 < x < 1.02]
        + [(1.02, horizon + 0.008)]
    )
    s.shape(lambda p: p.polygon(islet), "#060b16", blur=0.0004)
    s.shape(lambda p: p.line(islet[1:-1], 0.0025), "#8a6a4a", blur=0.001, opacity=0.5)

    lh = lighthouse_parts()
    lx, ly, lsc = 0.80, 0.625, 0.17
    for part, tone in (
        ("tower", "#1b2336"),
        ("shade", "#0d1220"),
        ("band", "#3a1f22"),
        ("gallery", "#05070d"),
        ("lantern", "#ffe6b0"),
        ("roof", "#05070d"),
    ):
        s.shape(lambda p, part=part: p.polygon(s.place(lh[part], lx, ly, lsc)), tone, blur=0.0002)
    s.shape(
        lambda p: p.polygon(
            s.place([(-0.085, 0.0), (-0.06, 0.0), (-0.04, -0.78), (-0.055, -0.78)], lx, ly, lsc)
        ),
        "#c98a50",
        blur=0.002,
        opacity=0.35,
    )
    lamp = s.place(lh["lamp"], lx, ly, lsc)[0]
    beam(s, *lamp, math.pi + 0.3, 1.3, 0.055, "#ffdca0", 0.6)
    beam(s, *lamp, -0.35, 0.5, 0.04, "#ffdca0", 0.25)
    s.glow(*lamp, 0.025, color="#fff1d0", strength=1.0, falloff=1.2)
    s.glow(*lamp, 0.12, color="#ffb867", strength=0.35)
    return _cover_texture(s, rng)


def cover_2026_11(size: tuple[int, int]) -> Image.Image:
    """November cover: rust and ochre hills folding away into a dusk haze."""
    rng = random.Random(120)
    horizon = 0.56
    haze = "#e7a865"
    s = Scene(
        size,
        gradient(size, [(0, "#2b2133"), (0.22, "#432b3a"), (0.42, "#9b4e3b"), (horizon, haze)]),
    )
    sun = (0.70, 0.545)
    s.glow(*sun, 0.5, 0.25, "#ffcf8a", 0.55)
    s.glow(*sun, 0.03, color="#fff0cc", strength=1.0, falloff=0.5)
    cloud_bank(
        s, rng, 12, 0.32, 0.5, "#e39a72", 0.3, stretch=(10, 22), size=(0.003, 0.008), blur=0.005
    )

    def cypress_row(hill: Polygon, tone: Color) -> None:
        trees = [pt for pt in hill[::6] if pt[0] > 0.62][::2]
        s.shape(lambda p: [p.ellipse(x, y - 0.012, 0.003, 0.014) for x, y in trees], tone)

    def farmhouse(hill: Polygon, tone: Color, hx: float) -> None:
        hy = min(hill, key=lambda pt: abs(pt[0] - hx))[1] + 0.004
        farm = house_parts(0.04, 0.014, 0.012, windows=(0.3,))
        s.shape(
            lambda p: [p.polygon(s.place(farm[k][0], hx, hy, 1.0)) for k in ("wall", "roof")], tone
        )
        s.shape(lambda p: p.polygon(s.place(farm["windows"][0], hx, hy, 1.0)), "#ffc070")
        s.glow(hx - 0.006, hy - 0.006, 0.01, color="#ffb050", strength=0.5)

    layers = [
        (0.575, 0.07, "#c98560"),
        (0.615, 0.08, "#a55c3e"),
        (0.66, 0.09, "#86432e"),
        (0.715, 0.1, "#652f22"),
        (0.79, 0.11, "#451f18"),
        (0.9, 0.1, "#26120e"),
    ]
    for k, (base, height, tone) in enumerate(layers):
        hill = ridge(
            rng,
            base,
            height,
            freq=1.2 + 0.2 * k,
            octaves=5,
            envelope=lambda x, k=k: 0.2 + 0.8 * smooth(0.15 + 0.05 * k, 0.95, x),
        )
        hill_mask = s.mask(lambda p, h=hill: p.polygon(below(h)), blur=0.003 / (k + 1))
        s.fill(tone, hill_mask)
        if k == 3:
            cypress_row(hill, tone)
        if k == 4:
            farmhouse(hill, tone, 0.86)
        if k < len(layers) - 1:
            mist = vmask(size, [(base - height * 0.6, 0.0), (base + 0.01, 0.2), (base + 0.06, 0.0)])
            s.fill(haze, ImageChops.multiply(mist, hill_mask))
    birds = [
        (0.62 + rng.uniform(-0.05, 0.05), 0.3 + rng.uniform(-0.03, 0.03), rng.uniform(0.004, 0.007))
        for _ in range(7)
    ]
    s.shape(
        lambda p: [
            p.line(
                s.place([(-1, -0.3), (-0.4, -0.5), (0, 0), (0.4, -0.5), (1, -0.3)], x, y, r), 0.0012
            )
            for x, y, r in birds
        ],
        "#2b1a1e",
        opacity=0.8,
    )
    return _cover_texture(s, rng)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

IMAGES: dict[str, tuple[tuple[int, int], Callable[[tuple[int, int]], Image.Image]]] = {
    "the-salt-keepers.jpg": (HERO, the_salt_keepers),
    "the-salt-keepers-2.jpg": (SECONDARY, the_salt_keepers_2),
    "a-house-for-the-drowned-river.jpg": (HERO, a_house_for_the_drowned_river),
    "la-derniere-tisserande.jpg": (HERO, la_derniere_tisserande),
    "night-shift-at-kilometre-40.jpg": (HERO, night_shift_at_kilometre_40),
    "the-cartographers-daughter.jpg": (HERO, the_cartographers_daughter),
    "verdict-in-absentia.jpg": (HERO, verdict_in_absentia),
    "ice-archive.jpg": (HERO, ice_archive),
    "soundings.jpg": (HERO, soundings),
    "soundings-2.jpg": (SECONDARY, soundings_2),
    "ostatni-pociag.jpg": (HERO, ostatni_pociag),
    "bayt-al-zaytoun.jpg": (HERO, bayt_al_zaytoun),
    "the-quiet-ward.jpg": (HERO, the_quiet_ward),
    "bread-and-borders.jpg": (HERO, bread_and_borders),
    "the-lighthouse-school.jpg": (HERO, the_lighthouse_school),
    "signal-lost.jpg": (HERO, signal_lost),
    "mothers-of-the-mountain-pass.jpg": (HERO, mothers_of_the_mountain_pass),
    "the-referee.jpg": (HERO, the_referee),
    "cover-2026-12.jpg": (COVER, cover_2026_12),
    "cover-2026-11.jpg": (COVER, cover_2026_11),
}


def save_jpeg(img: Image.Image, path: Path) -> tuple[int, int]:
    """Write a progressive, optimised 300 dpi JPEG under MAX_BYTES.

    Returns (quality, bytes).  Quality steps down only if a file would
    otherwise exceed the size budget.
    """
    data, quality = b"", QUALITIES[0]
    for quality in QUALITIES:
        buf = io.BytesIO()
        img.convert("RGB").save(
            buf, "JPEG", quality=quality, progressive=True, optimize=True, dpi=DPI
        )
        data = buf.getvalue()
        if len(data) <= MAX_BYTES:
            break
    path.write_bytes(data)
    return quality, len(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("content/media"),
        help="output directory (default: content/media)",
    )
    parser.add_argument(
        "--only", nargs="*", metavar="NAME", help="regenerate only these files (e.g. soundings.jpg)"
    )
    args = parser.parse_args(argv)

    unknown = set(args.only or ()) - IMAGES.keys()
    if unknown:
        parser.error(f"unknown image(s): {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (size, motif) in IMAGES.items():
        if args.only and name not in args.only:
            continue
        img = motif(size)
        quality, nbytes = save_jpeg(img, args.out / name)
        flag = "" if nbytes <= MAX_BYTES else "  (OVER BUDGET)"
        print(f"{name:40s} {size[0]}x{size[1]}  q{quality}  {nbytes / 1024:6.1f} KB{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

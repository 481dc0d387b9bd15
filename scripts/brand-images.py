"""Draw the integration's brand images: custom_components/daybreak/brand/*.png.

The mark is the device web page's icon (device/src/daybreak_device/web/icon.svg): a sun
rising over the horizon, with five rays, drawn without the page icon's dark tile so the
images are transparent, as Home Assistant's brand images should be. Light variants
(icon.png, logo.png) are for light backgrounds, dark_ variants for dark ones; the @2x
files are the same at twice the size. The logo adds the name in DejaVu Sans Bold
(Debian's fonts-dejavu-core).

Run with an environment that has Pillow (Home Assistant's does):
    scripts/lib/ha-python ha scripts/brand-images.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "daybreak" / "brand"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SUPERSAMPLE = 4  # drawn this much larger, then scaled down: smooth edges

#: (sun and rays, horizon and name) for light and for dark backgrounds.
COLOURS = {
    "": ("#f7931e", "#1c1f2b"),
    "dark_": ("#ffb347", "#eef0f6"),
}

# The mark in the units of the page icon's 32x32 viewBox (strokes a bit bolder, so it
# reads at 16 px too). Its extent with the round caps: x 2.25-29.75, y 4.75-26.25.
STROKE = 2.5
SUN = (16.0, 22.0, 9.0)  # centre x, centre y (on the horizon's upper edge), radius
RAYS = [
    ((16.0, 6.0), (16.0, 9.5)),
    ((6.5, 11.5), (8.75, 13.75)),
    ((25.5, 11.5), (23.25, 13.75)),
    ((3.5, 18.0), (6.25, 18.0)),
    ((28.5, 18.0), (25.75, 18.0)),
]
HORIZON = ((3.5, 25.0), (28.5, 25.0))
EXTENT = (2.25, 4.75, 29.75, 26.25)  # left, top, right, bottom


def draw_mark(
    image: Image.Image, box: tuple[float, float, float, float], sun: str, line: str
) -> None:
    """Draw the mark into ``box`` (left, top, right, bottom pixels), keeping its aspect."""
    left, top, right, bottom = box
    width, height = EXTENT[2] - EXTENT[0], EXTENT[3] - EXTENT[1]
    scale = min((right - left) / width, (bottom - top) / height)
    x0 = left + ((right - left) - width * scale) / 2 - EXTENT[0] * scale
    y0 = top + ((bottom - top) - height * scale) / 2 - EXTENT[1] * scale

    def at(x: float, y: float) -> tuple[float, float]:
        return x0 + x * scale, y0 + y * scale

    draw = ImageDraw.Draw(image)
    stroke = STROKE * scale

    def line_with_caps(start: tuple[float, float], end: tuple[float, float], colour: str) -> None:
        a, b = at(*start), at(*end)
        draw.line([a, b], fill=colour, width=round(stroke))
        for cx, cy in (a, b):
            r = stroke / 2
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)

    cx, cy, r = SUN
    (sx0, sy0), (sx1, sy1) = at(cx - r, cy - r), at(cx + r, cy + r)
    draw.pieslice([sx0, sy0, sx1, sy1], start=180, end=360, fill=sun)
    for start, end in RAYS:
        line_with_caps(start, end, sun)
    line_with_caps(*HORIZON, line)


def render(size: tuple[int, int], paint: object) -> Image.Image:
    """An RGBA image of ``size``, drawn ``SUPERSAMPLE`` times larger by ``paint(image)``."""
    big = Image.new("RGBA", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), (0, 0, 0, 0))
    paint(big)  # type: ignore[operator]
    return big.resize(size, Image.Resampling.LANCZOS)


def icon(side: int, sun: str, line: str) -> Image.Image:
    """The square icon: the mark filling the width, centred."""
    return render(
        (side, side),
        lambda image: draw_mark(image, (0, 0, image.width, image.height), sun, line),
    )


def logo(height: int, sun: str, line: str) -> Image.Image:
    """The mark and the name beside it, ``height`` pixels high, trimmed."""
    big_height = height * SUPERSAMPLE
    font = ImageFont.truetype(str(FONT), round(big_height * 0.62))
    text = "Daybreak"
    text_box = font.getbbox(text)
    mark_height = big_height
    mark_width = mark_height * (EXTENT[2] - EXTENT[0]) / (EXTENT[3] - EXTENT[1])
    gap = big_height * 0.18
    width = round((mark_width + gap + (text_box[2] - text_box[0])) / SUPERSAMPLE) + 1

    def paint(image: Image.Image) -> None:
        draw_mark(image, (0, 0, mark_width, mark_height), sun, line)
        # The text's baseline on the horizon: the name stands on it like the sun.
        baseline = mark_height * (25.0 - STROKE / 2 - EXTENT[1]) / (EXTENT[3] - EXTENT[1])
        ascent, _descent = font.getmetrics()
        ImageDraw.Draw(image).text(
            (mark_width + gap - text_box[0], baseline - ascent), text, font=font, fill=line
        )

    return render((width, height), paint)


def main() -> None:
    """Write every brand image."""
    BRAND.mkdir(exist_ok=True)
    for prefix, (sun, line) in COLOURS.items():
        icon(256, sun, line).save(BRAND / f"{prefix}icon.png", optimize=True)
        icon(512, sun, line).save(BRAND / f"{prefix}icon@2x.png", optimize=True)
        logo(128, sun, line).save(BRAND / f"{prefix}logo.png", optimize=True)
        logo(256, sun, line).save(BRAND / f"{prefix}logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()

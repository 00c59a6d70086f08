"""A supersampled card to draw on: drawn at twice the size and reduced, so edges are smooth."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

from .camera import Layout
from .skeleton import Vec
from .style import CARD, HEIGHT, SUPERSAMPLE, WIDTH, Colour


class Canvas:
    """A supersampled card to draw on in card pixels."""

    def __init__(self, view: Layout, image: Image.Image | None = None,
                 origin: tuple[int, int] = (0, 0)) -> None:
        self.view = view
        self.k = SUPERSAMPLE
        self.image = image or Image.new("RGB", (WIDTH * self.k, HEIGHT * self.k), CARD)
        self.draw = ImageDraw.Draw(self.image)
        self.origin = origin  # where this image's corner is on the whole card

    def px(self, p: Vec) -> tuple[float, float]:
        x, y = self.view.pixel(p)
        return (x * self.k - self.origin[0], y * self.k - self.origin[1])

    def size(self, body: float) -> float:
        return body * self.view.scale * self.k

    def dot(self, at: tuple[float, float], radius: float, fill: Colour) -> None:
        x, y = at
        self.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)

    def capsule(self, a: Vec, b: Vec, width: float, fill: Colour, outline: float = 0.0
                ) -> None:
        """A rounded limb; with `outline` (card pixels), ringed in the card's colour first,
        so that a limb in front of the body stands out from it."""
        pa, pb = self.px(a), self.px(b)
        w = self.size(width)
        if outline:
            ring = w + 2 * outline * self.k
            self.draw.line((pa, pb), fill=CARD, width=max(1, round(ring)))
            self.dot(pa, ring / 2, CARD)
            self.dot(pb, ring / 2, CARD)
        self.draw.line((pa, pb), fill=fill, width=max(1, round(w)))
        self.dot(pa, w / 2, fill)
        self.dot(pb, w / 2, fill)

    def polygon(self, points: Sequence[Vec], fill: Colour) -> None:
        self.draw.polygon([self.px(p) for p in points], fill=fill)

    def part(self, points: Sequence[Vec], reach: float) -> Canvas:
        """A copy of the rectangle around `points` (plus `reach` body heights), to draw a
        frame's body on: only that much is copied and reduced for each frame."""
        xs, ys = zip(*(self.px(p) for p in points), strict=True)
        pad = self.size(reach) + 4 * self.k
        w, h = self.image.size
        box = (max(0, int(min(xs) - pad) // self.k * self.k),
               max(0, int(min(ys) - pad) // self.k * self.k),
               min(w, -(-int(max(xs) + pad) // self.k) * self.k),
               min(h, -(-int(max(ys) + pad) // self.k) * self.k))
        return Canvas(self.view, self.image.crop(box), (box[0], box[1]))

    def finish(self) -> Image.Image:
        return self.image.reduce(self.k)

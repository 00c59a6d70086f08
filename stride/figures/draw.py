"""Drawing a figure's frames and packing them into a looping GIF (and the contact sheet).

One palette for every frame, so the GIF stays small and the same data always gives the same
bytes; a one-sided move plays again mirrored, for the other side.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .body import paint_body
from .camera import layout
from .canvas import Canvas
from .scene import FRAME_MS, frames, key_indices
from .scenery import draw_scenery
from .spec import FigureSpec
from .style import BODY_REACH, HEIGHT, PALETTE_COLOURS, WIDTH


def render_frames(spec: FigureSpec) -> list[Image.Image]:
    """One side's loop as RGB frames of WIDTH x HEIGHT."""
    all_frames = frames(spec)
    view = layout(spec, all_frames)
    scenery = Canvas(view)  # what does not move, drawn once: floor, props, the trail
    draw_scenery(scenery, spec, all_frames)
    card = scenery.finish()
    images = []
    for frame in all_frames:
        part = scenery.part(list(frame.joints.values()), BODY_REACH)
        paint_body(part, spec, frame)
        image = card.copy()
        image.paste(part.finish(), (part.origin[0] // part.k, part.origin[1] // part.k))
        images.append(image)
    return images


def key_frames(spec: FigureSpec) -> list[Image.Image]:
    """The frames at the key poses (for the contact sheet)."""
    images = render_frames(spec)
    return [images[i] for i in key_indices(spec)]


def _palette(images: Sequence[Image.Image]) -> Image.Image:
    """One palette for the whole loop, from a few of its frames."""
    sample = Image.new("RGB", (WIDTH, HEIGHT * min(len(images), 4)))
    for i, image in enumerate(images[:: max(1, len(images) // 4)][:4]):
        sample.paste(image, (0, HEIGHT * i))
    return sample.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)


def encode_gif(images: Sequence[Image.Image], frame_ms: int = FRAME_MS, *,
               mirrored: bool = False) -> bytes:
    """A looping GIF with one palette for all frames (same frames, same bytes); `mirrored`
    plays the frames again flipped left to right (the other side)."""
    palette = _palette(images)
    frames_p = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    if mirrored:
        frames_p += [ImageOps.mirror(im) for im in frames_p]
    out = io.BytesIO()
    frames_p[0].save(out, format="GIF", save_all=True, append_images=frames_p[1:],
                     duration=frame_ms, loop=0, optimize=False, disposal=1)
    return out.getvalue()


def render_gif(spec: FigureSpec) -> bytes:
    """The figure's GIF: the loop, then (for a one-sided move) the same mirrored."""
    return encode_gif(render_frames(spec), mirrored=spec.sides == "both")


def contact_sheet(figures: Mapping[str, tuple[str, FigureSpec]], columns: int = 2) -> bytes:
    """PNG of every figure's key poses, labelled, `columns` figures to a row."""
    thumb_w, thumb_h, label_h = WIDTH // 2, HEIGHT // 2, 18
    cell_w = thumb_w * 4 + 12
    rows = math.ceil(len(figures) / columns)
    sheet = Image.new("RGB", (cell_w * columns, rows * (thumb_h + label_h + 8)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    for n, (exercise_id, (name, spec)) in enumerate(figures.items()):
        x0 = (n % columns) * cell_w
        y0 = (n // columns) * (thumb_h + label_h + 8)
        draw.text((x0 + 4, y0 + 2), f"{name} ({exercise_id}, {spec.sides} side"
                  f"{'s' if spec.sides == 'both' else ''})", fill=(20, 20, 20), font=font)
        for i, image in enumerate(key_frames(spec)[:4]):
            sheet.paste(image.resize((thumb_w, thumb_h), Image.Resampling.LANCZOS),
                        (x0 + i * thumb_w, y0 + label_h))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()

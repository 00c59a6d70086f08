"""The figures the bot shows: drawn ahead and shipped, or drawn once and kept on disk.

A shipped GIF is used while its poses are unchanged (the manifest records the digest it was
drawn from). Any other figure, a club's own or a shipped one the club re-posed, is drawn once
into the cache folder under its digest, so that a restart finds it. Reading happens on first
use; every GIF read is kept in memory (a few MB for the whole library).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ROOT
from .draw import render_gif
from .spec import FigureSpec

log = logging.getLogger(__name__)

def shipped_folder(poses: Path) -> Path:
    """Where the GIFs drawn ahead from a poses file are: the folder of the same name beside
    it (data/figures.toml -> data/figures/)."""
    return poses.with_suffix("")


SHIPPED = shipped_folder(ROOT / "data" / "figures.toml")


@dataclass
class Manifest:
    """exercise id -> digest of the poses the shipped GIF was drawn from."""

    digests: dict[str, str]

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            raw = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return cls({})
        return cls({str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {})

    def write(self, folder: Path) -> None:
        text = json.dumps(dict(sorted(self.digests.items())), indent=1) + "\n"
        (folder / "manifest.json").write_text(text, encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure ready to attach: `attachment://{filename}` in an embed shows it."""

    exercise: str
    filename: str
    data: bytes


@dataclass
class FigureLibrary:
    specs: Mapping[str, FigureSpec]
    cache: Path | None = None  # where figures drawn here are kept; None: memory only
    shipped: Path = SHIPPED
    _manifest: Manifest = field(init=False)
    _ready: dict[str, Figure] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._manifest = Manifest.read(self.shipped)

    def _path(self, spec: FigureSpec) -> Path | None:
        if self._manifest.digests.get(spec.exercise) == spec.digest:
            return self.shipped / f"{spec.exercise}.gif"
        if self.cache is not None:
            return self.cache / f"{spec.exercise}-{spec.digest}.gif"
        return None

    def get(self, exercise_id: str) -> Figure | None:
        """The exercise's figure, or None if it has none (or it is not drawn yet)."""
        found = self._ready.get(exercise_id)
        if found is not None:
            return found
        spec = self.specs.get(exercise_id)
        path = self._path(spec) if spec is not None else None
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return self._keep(exercise_id, data)

    def _keep(self, exercise_id: str, data: bytes) -> Figure:
        figure = Figure(exercise_id, f"{exercise_id}.gif", data)
        self._ready[exercise_id] = figure
        return figure

    def missing(self) -> list[str]:
        """Exercises with poses whose GIF is neither shipped nor cached."""
        out = []
        for ident, spec in self.specs.items():
            path = self._path(spec)
            if ident not in self._ready and (path is None or not path.is_file()):
                out.append(ident)
        return out

    def draw_missing(self) -> list[str]:
        """Draw what `missing` lists and keep it (blocking: run it in a thread)."""
        drawn = []
        for ident in self.missing():
            data = render_gif(self.specs[ident])
            path = self._path(self.specs[ident])
            if path is not None:
                try:
                    _write_atomically(path, data)
                except OSError as exc:  # a read-only folder: keep it in memory only
                    log.warning("Could not keep the figure for %s in %s: %s", ident, path, exc)
            self._keep(ident, data)
            drawn.append(ident)
        return drawn


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".figure-", suffix=".gif")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

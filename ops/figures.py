"""`python -m ops.figures`: draw the exercise figures ahead, and look at them.

    python -m ops.figures              # draw every shipped figure into data/figures/, write
                                       # the contact sheet docs/figures.png, print the checks
    python -m ops.figures --check      # only say whether data/figures/ matches the poses
    python -m ops.figures --only clams,squats --sheet /tmp/sheet.png --figures my-poses.toml

The shipped GIFs are drawn ahead so that the bot starts without drawing; the bot draws a
club's own figures itself (see stride/figures/library.py). The report lists each figure's
size, frames and the kinematic checks the tests make.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from stride.catalog import CatalogError, load_catalog
from stride.config import DEFAULT_CLUB_EXERCISES, DEFAULT_EXERCISES, DEFAULT_FIGURES, ROOT
from stride.figures import load_figures, measure, render_gif
from stride.figures.draw import contact_sheet
from stride.figures.library import SHIPPED, Manifest

SHEET = ROOT / "docs" / "figures.png"


def _rel(path: Path) -> Path:
    return path.relative_to(ROOT)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops.figures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=Path, action="append",
                        help=f"poses file(s) to read (default: {_rel(DEFAULT_FIGURES)})")
    parser.add_argument("--club", type=Path, default=DEFAULT_CLUB_EXERCISES,
                        help="the club's exercises, merged over the shipped ones (default: "
                        f"{_rel(DEFAULT_CLUB_EXERCISES)}, if it exists)")
    parser.add_argument("--only", help="comma-separated exercise ids")
    parser.add_argument("--sheet", type=Path, help=f"contact sheet PNG (default: {_rel(SHEET)})")
    parser.add_argument("--out", type=Path, help=f"folder for the GIFs (default: {_rel(SHIPPED)})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a shipped GIF differs from its poses")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        catalog = load_catalog(DEFAULT_EXERCISES, args.club)
        specs = load_figures(catalog, *(args.figures or [DEFAULT_FIGURES]))
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.only:
        wanted = [i.strip() for i in args.only.split(",") if i.strip()]
        missing = [i for i in wanted if i not in specs]
        if missing:
            print(f"no figure for: {', '.join(missing)}", file=sys.stderr)
            return 2
        specs = {i: specs[i] for i in wanted}
    out = args.out or SHIPPED
    problems = 0
    drawn: dict[str, bytes] = {}
    print(f"{'exercise':24} {'KB':>6} {'frames':>6} {'ms':>6} {'drift px':>8} {'bone':>7}"
          f" {'floor':>6}  checks")
    for ident, spec in specs.items():
        started = time.perf_counter()
        gif = render_gif(spec)
        spent = (time.perf_counter() - started) * 1000
        drawn[ident] = gif
        report = measure(spec)
        with Image.open(io.BytesIO(gif)) as image:
            count = getattr(image, "n_frames", 1)
        notes = []
        if report.out_of_range:
            notes.append("out of range: " + "; ".join(report.out_of_range[:3]))
        if report.worst_drift > 3.0:
            worst = max(report.drift, key=lambda p: report.drift[p])
            notes.append(f"{worst} moves {report.drift[worst]:.1f} px")
        if report.below_floor > 0.005:
            notes.append(f"{report.below_floor:.3f} under the floor")
        if len(gif) > 200_000:
            notes.append("over 200 KB")
        problems += bool(notes)
        print(f"{ident:24} {len(gif) / 1024:6.1f} {count:6} {spent:6.0f} "
              f"{report.worst_drift:8.1f} {report.bone_error:7.1e} {report.below_floor:6.3f}"
              f"  {'; '.join(notes) or 'ok'}")
    if args.check:
        manifest = Manifest.read(out)
        stale = [i for i, gif in drawn.items()
                 if manifest.digests.get(i) != specs[i].digest
                 or not (out / f"{i}.gif").is_file() or (out / f"{i}.gif").read_bytes() != gif]
        for ident in stale:
            print(f"{out / (ident + '.gif')} does not match its poses: run python -m ops.figures",
                  file=sys.stderr)
        return 1 if stale or problems else 0
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.read(out) if args.only else Manifest({})
    for ident, gif in drawn.items():
        (out / f"{ident}.gif").write_bytes(gif)
        manifest.digests[ident] = specs[ident].digest
    manifest.write(out)
    sheet = args.sheet or SHEET
    sheet.parent.mkdir(parents=True, exist_ok=True)
    names = {e.id: e.name for e in catalog.exercises}
    sheet.write_bytes(contact_sheet({i: (names.get(i, i), s) for i, s in specs.items()}))
    print(f"wrote {len(drawn)} GIFs to {out} and the contact sheet {sheet}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

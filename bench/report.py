"""The rows of `python -m bench`'s table of results against targets, and the table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    what: str
    result: str
    target: str
    met: bool | None  # None: for reference, no target


def table(rows: list[Row]) -> str:
    width = [max(len(getattr(r, f)) for r in rows) for f in ("what", "result", "target")]
    mark = {True: "yes", False: "NO", None: ""}
    lines = [f"{'benchmark':{width[0]}}  {'result':{width[1]}}  {'target':{width[2]}}  met"]
    lines.append("-" * len(lines[0]))
    lines += [f"{r.what:{width[0]}}  {r.result:{width[1]}}  {r.target:{width[2]}}  {mark[r.met]}"
              for r in rows]
    return "\n".join(lines)

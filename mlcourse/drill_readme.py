"""What a drill's README promises in points, read from its points table.

One home for reading the table: the layout test holds it to the checks' markers, the lesson-header
test holds each notebook's "Prepares: drill ... (N points)" to it.
"""

from __future__ import annotations

import re
from pathlib import Path

POINTS_CELL = re.compile(r"(?:(\d+)\s*[×x]\s*)?(\d+)")  # "2", or "3 × 1": three checks of one point each


def readme_points(readme: Path) -> tuple[int, int | None]:
    """The points column of the README's points table, summed, and its **total** row if it has one."""
    listed, total, column = 0, None, None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if column is None:
            column = next((i for i, c in enumerate(cells) if c.lower() == "points"), None)
            continue
        match = POINTS_CELL.fullmatch(cells[column]) if column < len(cells) else None
        if not match:
            continue
        points = int(match.group(1) or 1) * int(match.group(2))
        if any(c.lower() == "total" for c in cells):
            total = points
        else:
            listed += points
    return listed, total

"""One report writer for every benchmark: ``report.md``, ``report.json`` and ``report.png``, with machine facts.

A figure measured on a busy two-core laptop means something else than the same figure on an idle
server, so every report says where and when it was measured. Figures are drawn with
:class:`matplotlib.figure.Figure` directly: no pyplot, no global backend, nothing done at import.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

REPORT_FILES = ("report.md", "report.json", "report.png")


def machine_facts() -> dict[str, Any]:
    """Where a figure was measured: processors, how busy they were, Python and the platform."""
    return {
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def new_figure(columns: int = 1, *, width: float = 6.5, height: float = 4.0) -> tuple[Figure, list[Any]]:
    """A figure with ``columns`` side-by-side axes, for :func:`write_report` to save."""
    figure = Figure(figsize=(width * columns, height))
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def machine_line(facts: dict[str, Any]) -> str:
    return (
        f"Measured on {facts['cpus']} CPUs (1-minute load average {facts['load_avg_1m']}: other processes share "
        f"them), Python {facts['python']}, {facts['platform']}, at {facts['measured_at']}."
    )


def write_report(
    out_dir: Path, *, title: str, markdown: str, data: dict[str, Any], figure: Figure | None = None
) -> dict[str, Path]:
    """Write the three files into ``out_dir``; ``data`` gains a ``machine`` entry. Returns the paths by suffix."""
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    paths = {name.split(".")[1]: out_dir / name for name in REPORT_FILES}
    paths["json"].write_text(json.dumps({**data, "machine": facts}, indent=2, default=str) + "\n")
    paths["md"].write_text(f"# {title}\n\n{markdown.strip()}\n\n{machine_line(facts)}\n")
    if figure is None:
        paths.pop("png").unlink(missing_ok=True)
    else:
        figure.tight_layout()
        figure.savefig(paths["png"], dpi=110)
    return paths

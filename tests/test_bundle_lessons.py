"""The lessons and course tools that run a learner's drill, run in a fresh learners' bundle on the blank starters.

Each notebook either runs to its end, or stops with ``DrillNotFinished`` (one line, naming the drill) in the cell
that calls ``require_finished``, inside the section its header's **Prerequisites** say needs that drill; every cell
before it runs. Each course tool exits with status 2 and that one line on stderr before its first step, never a
traceback. A notebook is executed only up to that first stop, so the whole test takes a minute or so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

# Builds a bundle from the instructor's repository (the `bundle` fixture of tests/conftest.py).
pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(300)]

LESSONS = ("00_workflow", "07_load_testing", "08_hybrid_pipelines", "10_beyond_one_machine")
# A tool (its name: the words before its options) and the drill its message names first, the first unfinished one
# of those it runs. Each runs with its defaults, which in the bundle are the learner's drills.
TOOLS = {
    "python -m mlcourse.pipeline.bench --impl drills": "d4_port_server",
    "python -m mlcourse.port.bench": "d4_port_server",
    "python -m mlcourse.chaos": "d1_sentiment_api",
    "python -m mlcourse.loadtest": "d1_sentiment_api",
    "python -m mlcourse.loadtest.efficiency": "d1_sentiment_api",
    "python -m mlcourse.matmul.report": "d2_jit_matmul",
    "python -m mlcourse.encoder bench": "d1_sentiment_api",
    "python -m mlcourse.distributed.serve": "d1_sentiment_api",
}
NOTEBOOK_TIMEOUT_S = 200  # the cells before the first stop, on a loaded 2-core machine
CELL_TIMEOUT_S = 120
TOOL_TIMEOUT_S = 60  # a tool refuses before its first step: imports only
# Runs one notebook with nbclient and writes it back executed, as far as it ran. In a child process: the kernel
# inherits the bundle's environment, and the notebooks run side by side.
RUNNER = """
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

source, out, cell_timeout_s = sys.argv[1:]
nb = nbformat.read(source, as_version=4)
for cell in nb.cells:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
where = {"metadata": {"path": str(Path(source).parent)}}
try:
    NotebookClient(nb, timeout=int(cell_timeout_s), kernel_name="python3", resources=where).execute()
except CellExecutionError:
    pass  # the failed cell holds the error; the cells after it hold nothing
nbformat.write(nb, out)
"""
SECTION = re.compile(r"^## (?P<number>\d+)\b")
TRACEBACK = "Traceback (most recent call last)"


def execute(notebook: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(notebook), str(out), str(CELL_TIMEOUT_S)],
        cwd=notebook.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=NOTEBOOK_TIMEOUT_S,
        check=False,
    )


def first_error(cells: list[dict[str, Any]]) -> tuple[int, dict[str, Any]] | None:
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                return index, output
    return None


def section_of(cells: list[dict[str, Any]], index: int) -> str | None:
    """The number of the last ``## N`` heading above cell ``index`` (None: none is numbered)."""
    for cell in reversed(cells[:index]):
        if cell["cell_type"] == "markdown" and (match := SECTION.match("".join(cell["source"]))):
            return match["number"]
    return None


def prerequisites(cells: list[dict[str, Any]]) -> str:
    text = " ".join("".join(cells[0]["source"]).split())
    return text.split("**Prerequisites:**", 1)[1].split("**Time:**", 1)[0]


def lesson_problems(name: str, run: subprocess.CompletedProcess[str], executed: Path) -> list[str]:
    """What is wrong with how lesson ``name`` ran on the blank starters (nothing: it ran to its end, or stopped
    where its header says)."""
    if not executed.exists():
        return [f"{name}: the notebook was not run (exit {run.returncode}):\n{run.stderr[-2000:]}"]
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    error = first_error(cells)
    if error is None:
        unrun = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and c["execution_count"] is None]
        return [f"{name}: cells {unrun} never ran, and no cell failed"] if unrun else []
    index, output = error
    where = f"{name}, cell {index}"
    if output["ename"] != "DrillNotFinished":
        return [f"{where} failed with {output['ename']}: {output['evalue']}"]
    problems = []
    guards = [i for i, c in enumerate(cells) if "require_finished(" in "".join(c["source"])]
    if index != guards[0]:
        problems.append(f"{where} stopped, not the first cell that calls require_finished (cell {guards[0]})")
    drill = re.search(r"your drill (d\d+_\w+),", output["evalue"])
    header = prerequisites(cells)
    if not drill or drill[1] not in header:
        problems.append(
            f"{where}: the header's prerequisites ({header!r}) do not name the drill of: {output['evalue']}"
        )
    section = section_of(cells, index)
    if section and not re.search(rf"\bsections? [^.]*?\b{section}\b[^.]*?{drill[1] if drill else '?'}", header):
        problems.append(f"{where} is in section {section}: the header's prerequisites do not say it needs the drill")
    return problems


def test_each_lesson_runs_or_stops_where_its_header_says_on_blank_starters(
    bundle: Path, bundle_env: dict[str, str], tmp_path: Path
) -> None:
    notebooks = [bundle / "notebooks" / f"{name}.ipynb" for name in LESSONS]
    outs = [tmp_path / notebook.name for notebook in notebooks]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(execute, notebooks, outs, [bundle_env] * len(notebooks)))
    found = [problem for name, run, out in zip(LESSONS, runs, outs) for problem in lesson_problems(name, run, out)]
    assert not found, "\n\n".join(found)


def test_each_course_tool_refuses_an_unfinished_drill_in_one_line(bundle: Path, bundle_env: dict[str, str]) -> None:
    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command.split(),
            cwd=bundle,
            env=bundle_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        done = dict(zip(TOOLS, pool.map(run, TOOLS)))
    found = []
    for command, drill in TOOLS.items():
        tool = command.split(" --")[0]
        expected = f"DrillNotFinished: {tool} runs your drill {drill}, which is not finished yet: "
        shown = done[command]
        if shown.returncode != 2 or not shown.stderr.startswith(expected) or TRACEBACK in shown.stderr:
            found.append(f"{command}: exit {shown.returncode}, expected 2 and {expected!r}:\n{shown.stderr[-1500:]}")
    assert not found, "\n\n".join(found)

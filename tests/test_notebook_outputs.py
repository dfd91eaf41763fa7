"""No stored notebook output looks like a failure: no warning, no stray traceback, no library's log line.

A learner reads a warning or an ``E`` log line under a cell as "something broke". So a warning's
cause is fixed (a missing package installed, a deprecated call replaced), a library's logs are
kept out by its own log-level settings, and a notebook never hides a warning with a filter.
Errors are stored only where a cell means to raise one: it is tagged ``raises-exception``, the tag
nbval and nbconvert honour.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlcourse.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
RAISES = "raises-exception"  # the tag of a cell whose error is the lesson
LOOKS_LIKE_FAILURE = {  # what a stored text output must not hold, by what it is
    "a warning": re.compile(r"\b[A-Z]\w*Warning\b|\bwarnings\.warn\b|\bWarning:", re.MULTILINE),
    "a traceback": re.compile(r"^Traceback \(most recent call last\)", re.MULTILINE),
    "a glog-style E/W/F log line": re.compile(  # C++ logs: "E1201 10:00:00.000 ..." or "[2026-11-24 06:35:51,519 E 1 2]"
        r"^(?:[EWF]\d{4} \d\d:\d\d:\d\d|\[\d{4}-\d\d-\d\d [\d:.,]+ [EWF] \d+ \d+\])", re.MULTILINE
    ),
    "a Python log record at WARNING or above": re.compile(
        r"^(?:\S+ )?(?:\d{4}-\d\d-\d\d[ T][\d:.,]+\s+)?(?:WARNING|ERROR|CRITICAL)\b", re.MULTILINE
    ),
    "Ray's log": re.compile(
        r"Missing packages|core_worker|^(?:\x1b\[\d+m)?\((?:raylet|[\w:.()-]+ pid=\d+[^)]*)\)", re.MULTILINE
    ),
}
# The one stderr line a notebook may keep: Ray's C++ core confirming the log level the notebook set
# (RAY_BACKEND_LOG_LEVEL, notebook 10), printed unconditionally before that level applies. It echoes a
# setting; it is neither a warning nor an error.
RAY_LEVEL_ECHO = re.compile(
    r"\[\d{4}-\d\d-\d\d [\d:.,]+ I \d+ \d+\] logging\.cc:\d+: "
    r"Set ray log level from environment variable RAY_BACKEND_LOG_LEVEL to -?\d+"
)
HIDING = re.compile(r"\bwarnings\.(?:filterwarnings|simplefilter)\b|\bfilterwarnings\(")


def texts(output: dict) -> list[str]:
    """The text a reader sees in one stored output (streams, and the plain text of results and displays)."""
    if output["output_type"] == "stream":
        return ["".join(output["text"])]
    return ["".join(output.get("data", {}).get("text/plain", ""))]


def problems(cell: dict) -> list[str]:
    """What in one code cell's stored outputs looks like a failure, one line each."""
    found = []
    intended = RAISES in cell.get("metadata", {}).get("tags", [])
    for output in cell.get("outputs", []):
        if output["output_type"] == "error" and not intended:
            found.append(f"an error not tagged {RAISES}: {output['ename']}: {output['evalue']}"[:200])
        if output["output_type"] == "stream" and output["name"] == "stderr":
            if all(RAY_LEVEL_ECHO.fullmatch(line) for line in "".join(output["text"]).strip().splitlines()):
                continue
            found.append(f"a stderr stream: {''.join(output['text']).strip()[:160]!r}")
            continue  # everything on stderr is reported once, whatever it holds
        for text in texts(output):
            for what, pattern in LOOKS_LIKE_FAILURE.items():
                if match := pattern.search(text):
                    line = text[text.rfind("\n", 0, match.start()) + 1 :].split("\n", 1)[0]
                    found.append(f"{what}: {line.strip()[:160]!r}")
    return found


def code_cells(path: Path) -> list[tuple[int, dict]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(index, cell) for index, cell in enumerate(cells) if cell["cell_type"] == "code"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_stored_output_looks_like_a_failure(notebook: Path) -> None:
    found = [f"cell {index}: {problem}" for index, cell in code_cells(notebook) for problem in problems(cell)]
    assert not found, f"{notebook.name} stores outputs that look like failures:\n" + "\n".join(found)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_notebook_hides_a_warning(notebook: Path) -> None:
    hiding = [index for index, cell in code_cells(notebook) if HIDING.search("".join(cell["source"]))]
    assert not hiding, f"{notebook.name} filters warnings in cells {hiding}: fix their cause instead"


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": [text]}


PLANTED = {  # outputs the check must catch, as notebook 10 stored them before its logs were silenced
    "tqdm": stream("/x/tqdm/auto.py:21: TqdmWarning: IProgress not found. Please update jupyter and ipywidgets."),
    "stderr": stream("anything at all", name="stderr"),
    "stderr beside the echo": stream(
        "[2026-12-01 11:06:05,369 I 1 1] logging.cc:303: Set ray log level from "
        "environment variable RAY_BACKEND_LOG_LEVEL to 3\nUserWarning: x\n",
        name="stderr",
    ),
    "ray missing": stream("2026-11-24 06:34:54,673\tINFO util.py:155 -- Missing packages: ['ipywidgets']."),
    "core_worker": stream("[2026-11-24 06:35:51,519 E 1530 1530] core_worker.cc:2465: Actor with class name"),
    "glog": stream("ok\nW1201 10:00:00.000123  4242 pjrt.cc:12] a warning from C++\n"),
    "raylet": stream("\x1b[33m(raylet)\x1b[0m Task ServeController.graceful_shutdown failed."),
    "actor": stream("(ServeReplica:app:Model pid=123) hello"),
    "log record": stream("2026-11-24 06:34:56,914\tWARNING authentication_token_setup.py:85 -- Token"),
    "warn call": stream("  warnings.warn(message)"),
    "traceback": stream("Traceback (most recent call last):\n  File ..."),
    "result": {"output_type": "execute_result", "data": {"text/plain": ["FutureWarning: soon"]}},
    "error": {"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []},
}
BENIGN = {  # outputs that only look alike: figures, tables, the word "error" in a result; Ray's level echo
    "ray level": stream(
        "[2026-12-01 11:06:05,369 I 32367 32367] logging.cc:303: Set ray log level from environment "
        "variable RAY_BACKEND_LOG_LEVEL to 3\n",
        name="stderr",
    ),
    "table": stream("┌ E ┐\n│ W 1 │\nE = 3\n"),
    "counts": stream("rows_failed: 0, errors: 0, warnings seen: none\n"),
    "error key": {"output_type": "execute_result", "data": {"text/plain": ["{'error': {'code': 'empty_text'}}"]}},
}


@pytest.mark.parametrize("name", PLANTED)
def test_the_check_catches_a_planted_failure(name: str) -> None:
    assert problems({"cell_type": "code", "metadata": {}, "outputs": [PLANTED[name]]})


def test_an_intended_error_and_plain_results_pass() -> None:
    tagged = {"cell_type": "code", "metadata": {"tags": [RAISES]}, "outputs": [PLANTED["error"]]}
    assert problems(tagged) == []
    assert problems({"cell_type": "code", "metadata": {}, "outputs": list(BENIGN.values())}) == []

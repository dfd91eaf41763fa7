"""The course never contradicts itself: no measured figure typed into prose, no reference to nothing.

A measured figure (a time, a rate, a ratio, a memory size) differs from one machine to the next,
so the cell that measures it prints it, and Markdown says how to read it. Markdown may state a
constant of the course (the list below), an input its own code sets (a literal in one of the
notebook's code cells: a 20 ms sleep, a 5 s timeout), or a figure that a validated output prints
(within rounding): nbval proves such a figure the same on every machine, the fake model's cost
for instance. What a run measures is printed only by cells tagged ``nbval-ignore-output``, and
Markdown never repeats it. Stored outputs
and Markdown never show the executing machine's own folders. References to notebooks, sections
and drills resolve (``mlcourse.course_refs``), and nothing is called planned.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlcourse.course_refs import check_links, check_text, notebooks
from mlcourse.paths import REPO_ROOT

# The stated constants of the course, as (value, unit): the drills' success criteria and the
# batcher's knobs (DESIGN.md's drills table and the drill READMEs). Keep this list short.
COURSE_CONSTANTS = frozenset(
    {
        (16, "texts"),
        (50, "ms"),
        (200, "requests"),  # d1's batcher: 16 texts or 50 ms, queue limit 200
        (250, "ms"),
        (100, "req/s"),  # d1's target: p99 < 250 ms at 100 req/s
        (10, "x"),  # d2: at least 10x at 2048 x 2048
        (90, "%"),
        (60, "s"),  # d3: 90% held-out accuracy, training under 60 s
        (1, "s"),  # d4: the 1 s timeout
        (50, "%"),
        (95, "%"),
        (99, "%"),
        (99.9, "%"),  # the percentiles d5 reports (p50, p95, p99, p99.9)
    }
)
UNITS = {  # how prose spells a unit -> the unit it means
    "ms": "ms",
    "µs": "µs",
    "us": "µs",
    "ns": "ns",
    "s": "s",
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "min": "min",
    "minute": "min",
    "minutes": "min",
    "h": "h",
    "hour": "h",
    "hours": "h",
    "req/s": "req/s",
    "requests/s": "req/s",
    "requests per second": "req/s",
    "rps": "req/s",
    "rows/s": "rows/s",
    "texts/s": "texts/s",
    "tokens/s": "tokens/s",
    "texts per second": "texts/s",
    "kb": "kB",
    "kib": "KiB",
    "mb": "MB",
    "mib": "MiB",
    "gb": "GB",
    "gib": "GiB",
    "tb": "TB",
    "gflop/s": "GFLOP/s",
    "gflops": "GFLOP/s",
    "x": "x",
    "×": "x",
    "times faster": "x",
    "times slower": "x",
    "%": "%",
    "percent": "%",
    "texts": "texts",
    "requests": "requests",
    "tokens": "tokens",
}  # a count of data rows is a fact of the data, the same on every machine: not a unit here
SCALES = {"ms": 1e-3, "µs": 1e-6, "ns": 1e-9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}
_SPELLINGS = "|".join(sorted((re.escape(s) for s in UNITS), key=len, reverse=True))
# a number, a unit, and no letter, digit or "× 32" after it (so "16 × 32" is a shape, not a ratio)
FIGURE = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s?(" + _SPELLINGS + r")(?![\w/])(?!\s?\d)", re.IGNORECASE)
CODE_NUMBER = re.compile(r"(?<![\w.])\d[\d_,]*(?:\.\d+)?(?:e-?\d+)?")
IGNORE_OUTPUT = "nbval-ignore-output"  # the tag of cells whose output differs between runs: measured figures
ROUNDING = 0.01  # prose may round a validated figure: "about 380" for a printed 381
STATUS_PLURAL = re.compile(r"[45]\d\ds")  # "429s", "500s" are counts of responses, not seconds
ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:work|tmp|root|home|Users|mnt|private/var)/[\w.-]")
SANITIZED = [
    re.compile(line.split(":", 1)[1].strip())
    for line in (REPO_ROOT / "tests" / "nbval_sanitize.cfg").read_text(encoding="utf-8").splitlines()
    if line.startswith("regex:")
]  # what nbval masks (the kernel's cell files) is no machine's folder
PAGES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").rglob("*.md"), *(REPO_ROOT / "drills").rglob("*.md")])
NOTEBOOKS = sorted(notebooks().values())


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def stated_numbers(path: Path) -> set[float]:
    """The numbers a notebook's prose may state: literals of its code, and figures its validated outputs print."""
    code = [cell for cell in cells(path) if cell["cell_type"] == "code"]
    texts = ["".join(cell["source"]) for cell in code]
    texts += [
        text for cell in code if IGNORE_OUTPUT not in cell["metadata"].get("tags", []) for text in output_texts(cell)
    ]
    return {float(n.replace("_", "").replace(",", "")) for text in texts for n in CODE_NUMBER.findall(text)}


def typed_figures(markdown: str, stated: set[float]) -> list[str]:
    """Figures with a unit in one Markdown text that are not a course constant nor a number the notebook states."""
    found = []
    for match in FIGURE.finditer(markdown):
        if STATUS_PLURAL.fullmatch(match.group(0)):
            continue
        value, unit = float(match.group(1).replace(",", "")), UNITS[match.group(2).lower()]
        scale = SCALES.get(unit, 1.0)
        spellings = (value, value * scale, value * 1e3 if unit == "s" else value)  # "0.042 s" is a printed "42 ms"
        if (value, unit) in COURSE_CONSTANTS or any(abs(n - v) <= ROUNDING * v for n in stated for v in spellings):
            continue
        found.append(match.group(0).replace("\n", " "))
    return found


def output_texts(cell: dict) -> list[str]:
    """The text of a code cell's stored outputs (streams, results, errors)."""
    texts = []
    for output in cell.get("outputs", []):
        texts.append("".join(output.get("text", [])))
        texts += [
            "".join(v) if isinstance(v, list) else str(v)
            for k, v in output.get("data", {}).items()
            if k.startswith("text/")
        ]
        texts += output.get("traceback", [])
    return texts


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_markdown_types_no_measured_figure(notebook: Path) -> None:
    stated = stated_numbers(notebook)
    typed = [
        f"cell {i}: {', '.join(figures)}"
        for i, cell in enumerate(cells(notebook))
        if cell["cell_type"] == "markdown" and (figures := typed_figures("".join(cell["source"]), stated))
    ]
    assert not typed, (
        f"{notebook.name} types figures into Markdown that are neither constants of the course, inputs its code "
        f"sets, nor figures its validated outputs print: {'; '.join(typed)}. Print a measured figure from the cell "
        "that measures it, and say in prose how to read it."
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_absolute_path_of_the_executing_machine(notebook: Path) -> None:
    found = []
    for i, cell in enumerate(cells(notebook)):
        texts = ["".join(cell["source"])] if cell["cell_type"] == "markdown" else output_texts(cell)
        for text in texts:
            for pattern in SANITIZED:
                text = pattern.sub("", text)
            found += [
                f"cell {i}: {text[m.start() : m.start() + 40].splitlines()[0]}..." for m in ABSOLUTE_PATH.finditer(text)
            ]
    assert not found, (
        f"{notebook.name} shows the executing machine's folders: {'; '.join(found)}. Print paths "
        "relative to the repository (path.relative_to(REPO_ROOT))."
    )


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_page_references_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    where = str(page.relative_to(REPO_ROOT))
    problems = check_text(where, text) + check_links(page, text)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_references_resolve(notebook: Path) -> None:
    problems = []
    for i, cell in enumerate(cells(notebook)):
        if cell["cell_type"] != "markdown":
            continue
        text, where = "".join(cell["source"]), f"{notebook.name}, cell {i}"
        problems += check_text(where, text, own_notebook=notebook.name[:2]) + check_links(notebook, text)
    assert not problems, "\n".join(map(str, problems))

"""What the course's own text refers to ("notebook 08, section 3", "05 §2–3", "d6"), and whether it exists.

One home for the rule that a reference resolves: the text test reads every page and notebook
with it, and the quiz test reads each question's pointer with it. A notebook's sections are
its numbered second-level headings, ``## 3 · Title`` or ``## 3. Title``; ``### ...`` headings
are parts of a section, and a notebook whose ``##`` headings carry no number has no numbered
sections to point at (name it by its heading instead).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mlcourse.paths import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DRILLS_DIR = REPO_ROOT / "drills"
SECTION_HEADING = re.compile(r"^##\s+(\d+)\s*[·.]\s", re.MULTILINE)
_RANGE = r"(\d+)((?:\s*(?:,|–|-|to|and)\s*\d+\b)*)"  # "3", "2 to 5", "1, 3 and 5", "2–3"
# "notebook 08", "notebook 08, section 3", "notebooks 05 and 08", "notebook 05, sections 2 to 5", "notebook 04 §5"
NOTEBOOK_REF = re.compile(
    r"\bnotebooks?\s+(\d{2})((?:\s*(?:,|and|or)\s*\d{2}\b)*)(?:(?:,\s*|\s+|'s\s+)(?:sections?\s+|§\s*)" + _RANGE + ")?",
    re.IGNORECASE,
)
# the crib's short form: "01 §3", "04 §2–3", "02 §5, §7"
SHORT_REF = re.compile(r"\b(\d{2})\s*§\s*" + _RANGE + r"((?:,\s*§\s*\d+(?:\s*[–-]\s*\d+)?)*)")
# a section of the page's own notebook: "section 3", "sections 1 and 3", "§4"
OWN_SECTION_REF = re.compile(r"(?:\bsections?\s+|§\s*)" + _RANGE, re.IGNORECASE)
DRILL_REF = re.compile(r"(?<![\w/.-])d(\d+)(_[a-z0-9_]+)?\b")
# "planned" near a word naming course material ("the planned notebook 08", "09 ... are planned")
PLANNED = re.compile(r"\bplanned\b", re.IGNORECASE)
COURSE_WORD = re.compile(r"notebook|drill|section|§|lesson|chapter|\b\d{2}\b", re.IGNORECASE)
PLANNED_REACH = 60  # characters either side of "planned" in which a course word makes it a promise


@dataclass(frozen=True)
class Problem:
    """A reference that names what does not exist, or promises material as planned."""

    where: str
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}: {self.why}"


@cache
def notebooks() -> dict[str, Path]:
    """The course's notebooks by number ("08" -> notebooks/08_hybrid_pipelines.ipynb)."""
    return {path.name[:2]: path for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))}


def markdown_cells(path: Path) -> list[str]:
    """The sources of a notebook's Markdown cells, in order."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


@cache
def sections(number: str) -> frozenset[int]:
    """The numbered sections of one notebook (empty when it has none or does not exist)."""
    path = notebooks().get(number)
    if path is None:
        return frozenset()
    return frozenset(int(n) for cell in markdown_cells(path) for n in SECTION_HEADING.findall(cell))


@cache
def drills() -> frozenset[str]:
    """Drill folder names ("d6_hybrid_pipeline")."""
    return frozenset(path.name for path in DRILLS_DIR.glob("d[0-9]*_*") if path.is_dir())


def _numbers(first: str, *tails: str | None) -> list[int]:
    """Section numbers named by "2", "2 to 5" (both ends), "1, 3 and 5" and ", §7" tails."""
    return [int(first), *(int(n) for tail in tails for n in re.findall(r"\d+", tail or ""))]


def _check_sections(where: str, text: str, number: str, named: list[int]) -> list[Problem]:
    if number not in notebooks():
        return [Problem(where, text, f"there is no notebook {number}")]
    missing = [n for n in named if n not in sections(number)]
    if not missing:
        return []
    have = ", ".join(str(n) for n in sorted(sections(number))) or "none (its headings carry no numbers)"
    return [Problem(where, text, f"notebook {number} has no section {missing[0]} (its sections: {have})")]


def check_text(where: str, text: str, own_notebook: str | None = None) -> list[Problem]:
    """Every reference in one text that does not resolve, and every "planned" course material.

    ``own_notebook`` is the number of the notebook the text belongs to: there, "section 3" is its own.
    """
    problems: list[Problem] = []
    taken: list[tuple[int, int]] = []
    for match in NOTEBOOK_REF.finditer(text):
        taken.append(match.span())
        numbers = [match.group(1), *re.findall(r"\d{2}", match.group(2) or "")]
        problems += [
            Problem(where, match.group(0), f"there is no notebook {n}") for n in numbers if n not in notebooks()
        ]
        if match.group(3):
            problems += _check_sections(where, match.group(0), match.group(1), _numbers(match.group(3), match.group(4)))
    for match in SHORT_REF.finditer(text):
        taken.append(match.span())
        problems += _check_sections(
            where, match.group(0), match.group(1), _numbers(match.group(2), match.group(3), match.group(4))
        )
    if own_notebook is not None:
        for match in OWN_SECTION_REF.finditer(text):
            if not any(start <= match.start() < end for start, end in taken):
                problems += _check_sections(
                    where, match.group(0), own_notebook, _numbers(match.group(1), match.group(2))
                )
    for match in DRILL_REF.finditer(text):
        number, name = match.group(1), match.group(2)
        found = [d for d in drills() if d.split("_")[0] == f"d{number}"]
        if not found or (name and f"d{number}{name}" not in drills()):
            problems.append(Problem(where, match.group(0), "there is no such drill in drills/"))
    for match in PLANNED.finditer(text):
        near = text[max(0, match.start() - PLANNED_REACH) : match.end() + PLANNED_REACH]
        if COURSE_WORD.search(near):
            problems.append(
                Problem(where, near.replace("\n", " "), "course material is never 'planned': link what exists")
            )
    return problems


def check_links(where: Path, text: str) -> list[Problem]:
    """Relative Markdown links in a page or notebook that point at no file."""
    problems = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:|#", target):
            continue
        path = (where.parent / target.split("#")[0]).resolve()
        if not path.exists():
            shown = where.relative_to(REPO_ROOT) if where.is_relative_to(REPO_ROOT) else where
            problems.append(Problem(str(shown), target, "the link points at no file"))
    return problems

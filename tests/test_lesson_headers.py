"""Every lesson opens with a header that tells the truth: what to read first, how long it takes, what it prepares.

The header is the paragraph right after the notebook's title:
``**Prerequisites:** ... **Time:** ... **Prepares:** ...``. Its prerequisites are earlier
notebooks; its time is said in words from ``MINUTES`` (the prose rule keeps measured figures out of
Markdown), adds up, and claims no less for running the cells than their stored outputs took; the
drill it prepares is the README course map's, with the points of that drill's points table; and a
drill that builds on another says so where the learner reads it. Nothing is executed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from mlcourse.book import course_map, drill_folders
from mlcourse.course_refs import notebooks
from mlcourse.drill_readme import readme_points
from mlcourse.paths import REPO_ROOT

# The words a header may say a time in, and the minutes each claims at most.
MINUTES = {
    "under a minute": 1,
    "a minute or two": 2,
    "a few minutes": 5,
    "about ten minutes": 10,
    "about fifteen minutes": 15,
    "about twenty minutes": 20,
    "about half an hour": 30,
    "about forty minutes": 40,
    "about forty-five minutes": 45,
    "about fifty minutes": 50,
    "about an hour": 60,
    "about an hour and a quarter": 75,
    "about an hour and a half": 90,
    "about two hours": 120,
}
_PHRASE = "|".join(sorted(map(re.escape, MINUTES), key=len, reverse=True))
HEADER = re.compile(
    r"\*\*Prerequisites:\*\* (?P<prerequisites>.+?) \*\*Time:\*\* (?P<time>.+?) \*\*Prepares:\*\* (?P<prepares>.+)"
)
TIME = re.compile(
    rf"(?P<total>{_PHRASE}) in all: (?P<lesson>{_PHRASE}) to read the lesson and run its cells "
    rf"\(the cells run in (?P<cells>{_PHRASE})\), and (?:(?P<exercises>{_PHRASE}) for the exercises(?:, the drill apart)?|it has no exercises)"
)
PREPARED_DRILL = re.compile(r"^drill (?P<folder>d\d+_\w+) \((?P<points>\d+) points\)")
NOTEBOOK_NUMBER = re.compile(r"\b\d{2}\b")
# Drills whose work runs another drill's code, as their READMEs say: d5's checks serve the learner's d1,
# d6's pipeline and benchmark score through it.
BUILDS_ON = {"d5_backpressure": "d1_sentiment_api", "d6_hybrid_pipeline": "d1_sentiment_api"}
NOTEBOOKS = sorted(notebooks().values())
LESSONS = {lesson.stem: lesson.drill for lesson in course_map((REPO_ROOT / "README.md").read_text(encoding="utf-8"))}
DRILL_FOLDERS = drill_folders(REPO_ROOT)


def header(path: Path) -> re.Match[str]:
    """The header's three fields, from the paragraph after the title, its lines joined."""
    cell = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    paragraphs = "".join(cell["source"]).split("\n\n")
    assert cell["cell_type"] == "markdown" and paragraphs[0].startswith("# "), f"{path.name} opens without a title"
    match = HEADER.fullmatch(" ".join(paragraphs[1].split())) if len(paragraphs) > 1 else None
    assert match, (
        f"{path.name}: the paragraph after the title is not the lesson header "
        "(**Prerequisites:** ... **Time:** ... **Prepares:** ...)"
    )
    return match


def time_claims(path: Path) -> dict[str, int]:
    """The header's times in minutes: in all, the lesson with its cells, the cells alone, the exercises."""
    match = TIME.fullmatch(header(path)["time"].rstrip("."))
    assert match, (
        f"{path.name}'s **Time:** does not read 'TOTAL in all: LESSON to read the lesson and run its cells (the cells "
        f"run in CELLS), and EXERCISES for the exercises', each time one of: {', '.join(MINUTES)}"
    )
    return {name: MINUTES[phrase] if phrase else 0 for name, phrase in match.groupdict().items()}


def stored_run_minutes(path: Path) -> tuple[float, int]:
    """How long the stored outputs took to compute: each code cell's execute_input to execute_reply, summed."""
    seconds, timed = 0.0, 0
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        stamps = cell["metadata"].get("execution", {}) if cell["cell_type"] == "code" else {}
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            start, end = (datetime.fromisoformat(stamps[k]) for k in ("iopub.execute_input", "shell.execute_reply"))
            seconds += (end - start).total_seconds()
            timed += 1
    return seconds / 60, timed


def prepared(path: Path) -> tuple[str | None, int | None]:
    """The drill folder the header says the notebook prepares and its points (None, None: no drill)."""
    text = header(path)["prepares"]
    match = PREPARED_DRILL.match(text)
    if match:
        return match["folder"], int(match["points"])
    assert text.startswith("no drill"), (
        f"{path.name}'s **Prepares:** names neither a drill ('drill dN_name (N points)')"
    )
    return None, None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prerequisites_are_earlier_notebooks(notebook: Path) -> None:
    text, own = header(notebook)["prerequisites"], notebook.name[:2]
    named = NOTEBOOK_NUMBER.findall(text)
    if own == "00":
        assert text.startswith("none"), f"{notebook.name} is the first lesson: its prerequisites are 'none: ...'"
    assert named or own == "00", f"{notebook.name} names no earlier notebook as a prerequisite: {text!r}"
    wrong = [n for n in named if n not in notebooks() or n >= own]
    assert not wrong, f"{notebook.name}'s prerequisites name {', '.join(wrong)}: not an earlier notebook"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_time_adds_up(notebook: Path) -> None:
    claims = time_claims(notebook)
    assert claims["total"] == claims["lesson"] + claims["exercises"], (
        f"{notebook.name}'s **Time:** in all ({claims['total']} min) is not the lesson ({claims['lesson']} min) "
        f"plus the exercises ({claims['exercises']} min)"
    )
    assert claims["cells"] <= claims["lesson"], f"{notebook.name}: the cells take longer than the lesson they are in"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_cells_run_within_the_time_claimed(notebook: Path) -> None:
    minutes, timed = stored_run_minutes(notebook)
    assert timed, f"{notebook.name} stores no execution timestamps: re-execute it (make notebooks) to time its cells"
    claimed = time_claims(notebook)["cells"]
    assert minutes <= claimed, (
        f"{notebook.name}'s stored outputs took {minutes:.1f} min to run, its header says the cells run in at most "
        f"{claimed} min: say a longer time from {', '.join(MINUTES)}"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prepares_the_course_maps_drill_with_its_readmes_points(notebook: Path) -> None:
    drill = LESSONS.get(notebook.stem)
    folder, points = prepared(notebook)
    expected = DRILL_FOLDERS[drill] if drill else None
    assert folder == expected, f"{notebook.name}'s header prepares {folder}, README.md's course map says {expected}"
    if folder:
        listed, _ = readme_points(REPO_ROOT / "drills" / folder / "README.md")
        assert points == listed, f"{notebook.name}'s header gives {folder} {points} points, its README's table {listed}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_drill_built_on_another_says_so(notebook: Path) -> None:
    folder, _ = prepared(notebook)
    text = " ".join(header(notebook)["prepares"].split())
    for drill, base in BUILDS_ON.items():
        if folder == drill:
            assert f"builds on drill {base}" in text, (
                f"{notebook.name} prepares {drill}: its header must say that it builds on drill {base}"
            )
        if folder == base:
            short = drill.split("_")[0]
            assert re.search(rf"\b{short}\b", text), (
                f"{notebook.name} prepares {base}: its header must say that {short} builds on it"
            )


@pytest.mark.parametrize(("drill", "base"), BUILDS_ON.items())
def test_the_drill_readme_names_the_drill_it_builds_on(drill: str, base: str) -> None:
    readme = (REPO_ROOT / "drills" / drill / "README.md").read_text(encoding="utf-8")
    short = base.split("_")[0]
    assert re.search(rf"\bdrill {short}\b|\b{base}\b", readme), (
        f"drills/{drill}/README.md never says it builds on {base}"
    )

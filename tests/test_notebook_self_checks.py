"""Every notebook ends with "Check yourself": 3 to 5 questions, worked answers folded in <details>."""

from __future__ import annotations

import re

import nbformat
import pytest

from mlcourse.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
QUESTION = re.compile(r"^\s*(?:\*\*)?(?:Q\s*)?\d+[.)]", re.MULTILINE)
FOLDED = re.compile(r"<details>.*?</details>", re.DOTALL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_ends_with_check_yourself_and_folded_answers(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"]
    start = next((i for i, cell in enumerate(cells) if "## Check yourself" in cell.source), None)
    assert start is not None, (
        f"{path.name}: end with a '## Check yourself' section (3 to 5 questions, answers in <details>)"
    )
    section = "\n".join(cell.source for cell in cells[start:])
    section = section[section.index("## Check yourself") :]
    count = len(QUESTION.findall(FOLDED.sub("", section)))  # answers may follow each question or come last
    assert 3 <= count <= 5, f"{path.name}: 'Check yourself' asks {count} numbered questions, expected 3 to 5"
    assert "<details>" in section, f"{path.name}: fold the worked answers of 'Check yourself' in <details>"
    text = "\n".join(cell.source for cell in cells)
    if "## Exercises" in text:
        exercises = text[text.index("## Exercises") : text.index("## Check yourself")]
        assert "<details>" in exercises, f"{path.name}: give worked answers to the exercises, folded in <details>"

"""Every notebook paired with a plain-text script (jupytext) says the same thing in both files.

The script is the file a reviewer reads in a diff; if it drifts from the notebook, the review
approves something the learner never runs. (Outputs live only in the notebook.)
"""

import jupytext
import pytest

from mlcourse.paths import REPO_ROOT

PAIRED = sorted(p for p in (REPO_ROOT / "notebooks").glob("*.ipynb") if p.with_suffix(".py").exists())


def cells(path):
    return [(cell.cell_type, cell.source.strip()) for cell in jupytext.read(path).cells]


@pytest.mark.parametrize("notebook", PAIRED, ids=[p.stem for p in PAIRED])
def test_paired_script_matches_its_notebook(notebook):
    assert cells(notebook) == cells(notebook.with_suffix(".py")), (
        f"{notebook.name} and its script differ: run `jupytext --sync {notebook.relative_to(REPO_ROOT)}`"
    )


def test_the_workflow_notebook_is_paired():
    assert any(p.stem == "00_workflow" for p in PAIRED)

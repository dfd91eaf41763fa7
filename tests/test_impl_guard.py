"""A lesson or a course tool that runs a drill first asks whether the drill is finished, and says where it is not.

``require_finished`` reads the starters' own marker (a ``raise NotImplementedError`` in one of the drill's
modules, never in its checks) and raises ``DrillNotFinished``, which IPython shows as one line; a tool's
command line prints that line on stderr and exits 2 (``exit_unless_finished``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlcourse.book import drill_folders
from mlcourse.impl import DrillNotFinished, exit_unless_finished, load_drill, require_finished, unfinished_parts
from mlcourse.paths import REPO_ROOT

DRILLS = sorted(drill_folders(REPO_ROOT).values())
# The drills with code to write: a module besides the package's __init__.py, its checks and its conftest.py.
CODED = [
    drill
    for drill in DRILLS
    if any(
        not p.name.startswith("test_") and p.name not in {"__init__.py", "conftest.py"}
        for p in (REPO_ROOT / "drills" / drill).glob("*.py")
    )
]
PART = re.compile(r"(?P<file>\w+\.py) line (?P<line>\d+)")


def write_drill(folder: Path, modules: dict[str, str]) -> Path:
    """A learner's submission folder holding one drill, ``d1_sentiment_api``, made of ``modules``."""
    drill = folder / "d1_sentiment_api"
    drill.mkdir(parents=True)
    for name, text in {"__init__.py": '"""A submission."""\n', **modules}.items():
        (drill / name).write_text(text)
    return folder


@pytest.mark.needs_solutions
def test_every_reference_is_finished() -> None:
    assert len(CODED) >= 6, CODED
    assert require_finished("solutions", *DRILLS, needed_by="this check") == "solutions"


@pytest.mark.parametrize("drill", CODED)
def test_a_blank_starter_is_refused_naming_the_drill_and_a_line_that_raises(drill: str) -> None:
    with pytest.raises(DrillNotFinished) as refused:
        require_finished("drills", drill, needed_by="notebook 08, section 3")
    message = str(refused.value)
    assert message.startswith(f"notebook 08, section 3 runs your drill {drill}, which is not finished yet: ")
    assert f"make grade DRILLS={drill}" in message
    named = PART.search(message)
    assert named, f"no file and line in {message!r}"
    line = (REPO_ROOT / "drills" / drill / named["file"]).read_text().splitlines()[int(named["line"]) - 1]
    assert "raise NotImplementedError" in line, f"{named[0]} of {drill} is {line!r}"


def test_a_learners_folder_is_judged_on_its_modules_not_its_checks(tmp_path: Path) -> None:
    unwritten = '"""The app."""\n\n\ndef create_app():\n    raise NotImplementedError("the app")\n'
    check = "def test_it():\n    raise NotImplementedError\n"
    folder = write_drill(tmp_path, {"app.py": unwritten, "test_app.py": check, "conftest.py": check})
    assert unfinished_parts(load_drill(str(folder), "d1_sentiment_api")) == ["app.py line 5"]
    with pytest.raises(DrillNotFinished, match=r"your drill d1_sentiment_api, .*: app\.py line 5 still raise"):
        require_finished(str(folder), "d1_sentiment_api", needed_by="python -m mlcourse.loadtest")
    (folder / "d1_sentiment_api" / "app.py").write_text('def create_app():\n    return "an app"\n')
    assert require_finished(str(folder), "d1_sentiment_api", needed_by="x") == str(folder)


def test_the_message_names_three_places_and_counts_the_rest(tmp_path: Path) -> None:
    pieces = "".join(f"def piece_{i}():\n    raise NotImplementedError\n" for i in range(5))
    folder = write_drill(tmp_path, {"app.py": pieces})
    with pytest.raises(DrillNotFinished, match=r": app\.py line 2, app\.py line 4, app\.py line 6 and 2 more still"):
        require_finished(str(folder), "d1_sentiment_api", needed_by="x")


def test_ipython_shows_one_line_and_a_tool_exits_2_with_it_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_drill(tmp_path, {"app.py": "def create_app():\n    raise NotImplementedError\n"})
    with pytest.raises(DrillNotFinished) as refused:
        require_finished(str(folder), "d1_sentiment_api", needed_by="notebook 00, section 7")
    assert refused.value._render_traceback_() == [f"DrillNotFinished: {refused.value}"]
    with pytest.raises(SystemExit) as exited:
        exit_unless_finished(str(folder), "d1_sentiment_api", needed_by="python -m mlcourse.loadtest")
    assert exited.value.code == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    assert shown.err.startswith("DrillNotFinished: python -m mlcourse.loadtest runs your drill d1_sentiment_api, ")
    assert shown.err.count("\n") == 1, shown.err

"""Every shell command the README and the drill READMEs show a learner runs in a fresh learners' bundle.

On the blank starters each ends as a learner can act on: it succeeds (a set-up command), or it stops with the
drill's own error (a ``NotImplementedError`` raised in ``drills/``, or a non-zero exit with the tool's message),
never with a ``ModuleNotFoundError`` or a traceback from the course's own code.

The commands are the lines (with their ``\\`` continuations) of every ```bash block, but for these, by rule:

* those under a heading that names instructors ("Grading (instructors)", "For instructors"): they need
  ``solutions/`` or a class of submissions, which a bundle does not have;
* ``make lab`` and ``make test``, the whole course: JupyterLab runs no drill, and ``.ci/run`` runs the bundle's
  own ``make test``;
* ``curl``: a client of the API that ``make serve IMPL=drills`` serves once the learner's d1 is written;
* ``pytest drills/dN_x``: one drill of ``pytest drills``, which runs once, each drill's row of its table checked.

A synopsis's placeholders (``INPUT.csv``, ``URL``, ``OUT.csv``, ``[--option value]``) are filled in. On the
blank starters no server can start (d1 is not written), so every command ends on its own: one still running
after ``TIMEOUT_S`` fails, and is stopped as Ctrl-C stops it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

# Builds a bundle from the instructor's repository; a bundle's own tree is what the learner edits.
pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(300)]

PAGES = ("README.md", "drills/*/README.md")
INSTRUCTORS = re.compile(r"instructor", re.IGNORECASE)
LEFT_OUT = re.compile(r"^(make (lab|test)\b|curl\b|\S*python -m pytest drills/)")
PLACEHOLDERS = {
    "INPUT.csv": "build/commands/input.csv",
    "URL": "http://127.0.0.1:9",
    "OUT.csv": "build/commands/out.csv",
}
TIMEOUT_S = 90.0  # a command that is no server ends well within this, on a loaded 2-core machine
ALL_DRILLS = ".venv/bin/python -m pytest drills"  # the README's; it covers each `pytest drills/dN_x`
STOP_WITHIN_S = 15.0
TRACEBACK = re.compile(
    r"^Traceback \(most recent call last\):\n(?P<frames>(?:[ \t].*\n)+)(?P<error>\S.*)$", re.MULTILINE
)
FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+', re.MULTILINE)


@dataclass(frozen=True)
class Command:
    page: str
    line: str


@dataclass(frozen=True)
class Outcome:
    returncode: int | None  # None: still running after TIMEOUT_S, then stopped
    output: str


def shown_commands(root: Path) -> list[Command]:
    """Every command of every ```bash block of the pages, its continuations joined, with the section it sits in."""
    commands = []
    for page in sorted(path for pattern in PAGES for path in root.glob(pattern)):
        heading, fence, pending = "", None, ""
        for text in page.read_text(encoding="utf-8").splitlines():
            if text.startswith("```"):
                fence = text[3:].strip() if fence is None else None
            elif fence is None and text.startswith("#"):
                heading = text
            elif fence == "bash" and text.strip():
                pending += text.rstrip().removesuffix("\\")
                if not text.rstrip().endswith("\\"):
                    if not INSTRUCTORS.search(heading):
                        commands.append(Command(str(page.relative_to(root)), pending.strip()))
                    pending = ""
    return commands


def runnable(command: Command) -> str:
    """The command as the test runs it: its comment dropped, a synopsis's placeholders filled in."""
    line = re.sub(r"\s+#\s.*$", "", command.line)
    line = re.sub(r"\[(--[^\]]+)\]", r"\1", line)
    return " ".join(PLACEHOLDERS.get(word, word) for word in line.split())


def run(line: str, bundle: Path, env: dict[str, str]) -> Outcome:
    """Run ``line`` in bash in the bundle, in its own session; still running after ``TIMEOUT_S``, it gets Ctrl-C."""
    child = subprocess.Popen(
        ["bash", "-c", line],
        cwd=bundle,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = child.communicate(timeout=TIMEOUT_S)
        return Outcome(child.returncode, output)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGINT)
        try:
            output, _ = child.communicate(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            output, _ = child.communicate()
            return Outcome(-9, output + f"\n(still running {STOP_WITHIN_S:.0f} s after Ctrl-C)")
        return Outcome(None, output)


def problem(line: str, outcome: Outcome, bundle: Path) -> str | None:
    """What is wrong with how a command ended on the blank starters, or None."""
    output = outcome.output
    if re.search(r"\b(ModuleNotFoundError|ImportError)\b", output):
        return "an import failed"
    if outcome.returncode is None:
        return f"still running after {TIMEOUT_S:.0f} s"
    if "python -m pytest" in line:
        if outcome.returncode != 1 or "ERROR collecting" in output or "Points per drill" not in output:
            return f"pytest did not end with failed checks and the points table (exit {outcome.returncode})"
        return None
    for traceback in TRACEBACK.finditer(output):
        frames = FRAME.findall(traceback["frames"])
        raised_in = Path(frames[-1]) if frames else None
        if not (
            traceback["error"].startswith("NotImplementedError: ")
            and raised_in is not None
            and raised_in.is_relative_to(bundle / "drills")
        ):
            return f"a traceback from the course's code: {traceback['error']} (in {raised_in})"
    if outcome.returncode != 0 and not output.strip():
        return f"exit {outcome.returncode} without a message"
    return None


def test_every_command_shown_ends_with_the_drills_own_error_on_blank_starters(
    bundle: Path, bundle_env: dict[str, str]
) -> None:
    commands = [command for command in shown_commands(bundle) if not LEFT_OUT.match(command.line)]
    assert len(commands) >= 10, f"too few commands found: {commands}"
    (bundle / "build" / "commands").mkdir(parents=True, exist_ok=True)
    (bundle / PLACEHOLDERS["INPUT.csv"]).write_text("id,text\n1,I love this course\n2,This is a waste of time\n")
    lines = [runnable(command) for command in commands]
    # A handled SIGINT is reset to its default at exec (an ignored one is not): each child stops at Ctrl-C, as in a
    # terminal, even where this process was started in the background.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            outcomes = dict(zip(lines, pool.map(lambda line: run(line, bundle, bundle_env), lines)))
    finally:
        signal.signal(signal.SIGINT, previous)
    found = {
        f"{command.page}: {line}\n  {what}\n{outcomes[line].output[-1500:]}"
        for command, line in zip(commands, lines)
        if (what := problem(line, outcomes[line], bundle))
    }
    assert not found, "\n\n".join(sorted(found))
    table = outcomes[ALL_DRILLS].output.split("Points per drill")[-1]
    drills = sorted(path.name for path in (bundle / "drills").glob("d*_*") if path.is_dir())
    missing = [drill for drill in drills if not re.search(rf"^{drill}\s+\d+\s+0\s+0/\d+$", table, re.MULTILINE)]
    assert not missing, f"`{ALL_DRILLS}` shows no row of 0 points for {missing}:\n{table}"


def test_the_rule_reads_continuations_and_leaves_out_instructor_sections(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "# Course\n\n```bash\nmake setup   # set up\npython -m drills.d6 IN.csv \\\n    [--queue-rows 64]\n```\n\n"
        "## For instructors\n\n```bash\npython -m solutions.d6 IN.csv\n```\n\n```\nnot a command\n```\n"
    )
    commands = shown_commands(tmp_path)
    assert [c.line for c in commands] == ["make setup   # set up", "python -m drills.d6 IN.csv     [--queue-rows 64]"]
    assert [runnable(c) for c in commands] == ["make setup", "python -m drills.d6 IN.csv --queue-rows 64"]


def test_the_verdict_tells_the_drills_own_error_from_a_crash(tmp_path: Path) -> None:
    def traceback(file: Path, error: str) -> str:
        return f'Traceback (most recent call last):\n  File "{file}", line 3, in f\n    raise it\n{error}\n'

    starter, course = tmp_path / "drills" / "d2_x" / "bench.py", tmp_path / "mlcourse" / "report.py"
    tool = ".venv/bin/python -m mlcourse.matmul.report"
    assert problem(tool, Outcome(1, traceback(starter, "NotImplementedError: d2: write it")), tmp_path) is None
    assert problem(tool, Outcome(2, "--impl drills: create_app is not written yet\n"), tmp_path) is None
    assert "course's code" in str(problem(tool, Outcome(1, traceback(course, "KeyError: 'rows'")), tmp_path))
    assert "course's code" in str(problem(tool, Outcome(1, traceback(course, "NotImplementedError: x")), tmp_path))
    assert "import" in str(problem(tool, Outcome(1, "ModuleNotFoundError: No module named 'solutions'"), tmp_path))
    assert "without a message" in str(problem(tool, Outcome(1, ""), tmp_path))
    assert "still running" in str(problem(tool, Outcome(None, ""), tmp_path))
    assert "points table" in str(problem(ALL_DRILLS, Outcome(4, "ERROR collecting drills/d2_x"), tmp_path))

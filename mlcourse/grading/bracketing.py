"""The grading contract's proof: every pointed check passes on solutions/ and fails on the starters.

``python -m mlcourse.grading bracket`` is what ``make test`` runs: it exports the untouched starters
of the checked-out commit (``git archive HEAD drills``) into ``build/pristine/``, grades them, runs
the tests, the notebooks and the checks on the reference solutions, then verifies the two grade
books. In the learners' bundle (no solutions/) it runs the tests and notebooks, grades the
learner's own drills, and says the proof needs the instructor's repository.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from mlcourse.paths import BUILD_DIR, REPO_ROOT

PYTEST = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider")


def verify_bracketing(solutions: dict, starters: dict) -> dict[str, str]:
    """Every pointed check passes on solutions/ and fails on the untouched starters.

    Returns ``{check: problem}``; an empty dict means the contract holds.
    """
    sol = {c["nodeid"]: c for d in solutions["drills"].values() for c in d["checks"]}
    sta = {c["nodeid"]: c for d in starters["drills"].values() for c in d["checks"]}
    problems = {}
    if not sol:
        problems["(all)"] = "no pointed check ran against solutions/"
    for nodeid in sorted(sol.keys() | sta.keys()):
        if nodeid not in sta:
            problems[nodeid] = "not run against the starters"
        elif nodeid not in sol:
            problems[nodeid] = "not run against the solutions"
        elif sol[nodeid]["passed"] is not True:
            problems[nodeid] = f"fails on solutions/: {sol[nodeid]['message'][:300]}"
        elif sta[nodeid]["passed"] is not False:
            problems[nodeid] = "an untouched starter passes it: the check cannot fail"
    return problems


def verify(solutions_path: Path, starters_path: Path) -> int:
    """Print each broken check and the tally; 1 when the contract is broken."""
    solutions = json.loads(solutions_path.read_text())
    starters = json.loads(starters_path.read_text())
    problems = verify_bracketing(solutions, starters)
    held = [c for d in solutions["drills"].values() for c in d["checks"] if c["nodeid"] not in problems]
    for nodeid, problem in problems.items():
        print(f"  {nodeid}: {problem}")
    print(
        f"starters scored {starters['earned']}/{starters['possible']}, "
        f"solutions {solutions['earned']}/{solutions['possible']}"
    )
    print(f"bracketing: {len(held)} passed, {len(problems)} failed")
    return 1 if problems else 0


def shown(path: Path) -> str:
    """A path as the messages show it: from the course root when it is inside it."""
    path = (REPO_ROOT / path).resolve()  # a relative path is the course root's
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def git_head(root: Path) -> str | None:
    """The short hash of the checked-out commit, or None outside a git checkout (or before a first commit)."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def export_starters(pristine: Path, root: Path = REPO_ROOT) -> None:
    """``pristine/drills``: the starters of HEAD, plus any drill folder HEAD does not have, as it is on disk."""
    shutil.rmtree(pristine, ignore_errors=True)
    (pristine / "drills").mkdir(parents=True)
    head = git_head(root)
    if head:
        archive = subprocess.run(["git", "archive", "HEAD", "drills"], cwd=root, capture_output=True, check=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(pristine, filter="data")
        print(f"== the untouched starters of commit {head} ({shown(pristine / 'drills')})")
    else:
        print("== not a git checkout: the starters' proof runs on a copy of drills/ as it is (solved drills fail it)")
    for drill in sorted(p for p in (root / "drills").glob("d*_*") if p.is_dir()):
        if not (pristine / "drills" / drill.name).exists():
            shutil.copytree(drill, pristine / "drills" / drill.name, symlinks=True)


def pytest(*args: str, log: Path | None = None) -> int:
    """Run pytest from the course root, its output to the terminal or to ``log``."""
    sys.stdout.flush()
    if log is None:
        return subprocess.run([*PYTEST, *args], cwd=REPO_ROOT, check=False).returncode
    with log.open("w") as out:
        return subprocess.run(
            [*PYTEST, *args], cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode


def bracket(test_paths: list[str], drill_paths: list[str], suite_args: list[str], grades: Path) -> int:
    """``make test``: the tests and notebooks, then the bracketing proof where solutions/ exists."""
    grades.mkdir(parents=True, exist_ok=True)
    if not (REPO_ROOT / "solutions").is_dir():
        print("== tests and notebooks", flush=True)
        if pytest(*test_paths, *suite_args):
            return 1
        print("== your drills (details: make grade)", flush=True)
        pytest(
            *drill_paths, "--impl", "drills", "--grades", shown(grades / "drills.json"), "-q", "--tb=no", "--no-header"
        )
        print("bracketing proof skipped: it needs the instructor's repository (with solutions/)")
        return 0
    pristine = BUILD_DIR / "pristine"
    export_starters(pristine)
    starters, log = grades / "starters.json", grades / "starters.log"
    print(f"   every pointed check must fail on them (log: {shown(log)})", flush=True)
    pytest(
        *drill_paths,
        "--impl",
        shown(pristine / "drills"),
        "--grades",
        shown(starters),
        "-q",
        "--tb=line",
        "--no-header",
        log=log,
    )
    print("== tests, notebooks and the reference solutions", flush=True)
    solutions = grades / "solutions.json"
    if pytest(
        *test_paths, *drill_paths, *suite_args, "--impl", "solutions", "--grades", shown(solutions), "--durations=30"
    ):
        return 1
    return verify(solutions, starters)

"""The grading command line: ``verify`` (the bracketing proof), ``class`` (grade every learner), ``release``.

    python -m mlcourse.grading verify build/grades/solutions.json build/grades/starters.json
    python -m mlcourse.grading class submissions/ -j 2
    python -m mlcourse.grading release build/release
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlcourse.grading.bracketing import verify_bracketing
from mlcourse.grading.class_grading import grade_class
from mlcourse.grading.limits import GIB, Limits
from mlcourse.grading.release import build_release
from mlcourse.grading.sandbox import bwrap_path
from mlcourse.paths import BUILD_DIR


def verify(solutions_path: Path, starters_path: Path) -> int:
    solutions = json.loads(solutions_path.read_text())
    starters = json.loads(starters_path.read_text())
    problems = verify_bracketing(solutions, starters)
    held = [c for d in solutions["drills"].values() for c in d["checks"] if c["nodeid"] not in problems]
    for nodeid, problem in problems.items():
        print(f"  {nodeid}: {problem}")
    print(f"starters scored {starters['earned']}/{starters['possible']}, "
          f"solutions {solutions['earned']}/{solutions['possible']}")
    print(f"bracketing: {len(held)} passed, {len(problems)} failed")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.grading", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="prove every pointed check passes on solutions and fails on starters")
    check.add_argument("solutions", type=Path)
    check.add_argument("starters", type=Path)
    klass = commands.add_parser("class", help="grade every learner folder in SUBMISSIONS, append to class.csv",
                                description="Extra arguments (e.g. -k EXPR) go to pytest.")
    klass.add_argument("submissions", type=Path)
    klass.add_argument("--out", type=Path, default=BUILD_DIR / "grades" / "class")
    klass.add_argument("-j", "--jobs", type=int, default=1, help="learners graded at once (default 1)")
    klass.add_argument("--learner-limit", type=float, default=Limits.learner_s, help="seconds per learner")
    klass.add_argument("--check-limit", type=float, default=Limits.check_s, help="seconds per check")
    klass.add_argument("--memory-gib", type=float, default=Limits.memory_bytes / GIB, help="resident GiB per learner")
    klass.add_argument("--drills", default="", help="comma-separated drills (default: every drills/dN_name)")
    klass.add_argument("--no-bwrap", action="store_true", help="do not use bubblewrap even where it is installed")
    release = commands.add_parser("release", help="write the learners' bundle (no solutions, nothing held back)")
    release.add_argument("out", type=Path, nargs="?", default=BUILD_DIR / "release")
    args, extra = parser.parse_known_args(argv)

    if args.command == "verify":
        return verify(args.solutions, args.starters)
    if args.command == "release":
        print(f"learners' bundle written to {build_release(args.out)}")
        return 0
    use_bwrap = bwrap_path() is not None and not args.no_bwrap
    if not use_bwrap:
        print("bubblewrap (bwrap) is not in use: each learner gets its own session and course copy, but can "
              "write outside it and reach the network (apt-get install bubblewrap)", file=sys.stderr)
    limits = Limits(args.learner_limit, args.check_limit, int(args.memory_gib * GIB))
    drills = [d for d in args.drills.split(",") if d] or None
    table = grade_class(args.submissions, args.out, jobs=args.jobs, limits=limits, drills=drills,
                        use_bwrap=use_bwrap, pytest_args=tuple(extra))
    print(f"class grades in {table}, feedback in {table.parent / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

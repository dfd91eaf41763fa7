"""The grading command line: ``verify`` (the bracketing proof) and ``class`` (grade every learner).

    python -m mlcourse.grading verify build/grades/solutions.json build/grades/starters.json
    python -m mlcourse.grading class submissions/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlcourse.grading.bracketing import verify_bracketing
from mlcourse.grading.class_grading import grade_class
from mlcourse.paths import BUILD_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.grading", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="prove every pointed check passes on solutions and fails on starters")
    verify.add_argument("solutions", type=Path)
    verify.add_argument("starters", type=Path)
    klass = commands.add_parser("class", help="grade every learner folder in SUBMISSIONS, write class.csv")
    klass.add_argument("submissions", type=Path)
    klass.add_argument("--out", type=Path, default=BUILD_DIR / "grades" / "class")
    args, extra = parser.parse_known_args(argv)

    if args.command == "verify":
        solutions = json.loads(args.solutions.read_text())
        starters = json.loads(args.starters.read_text())
        problems = verify_bracketing(solutions, starters)
        held = [c for d in solutions["drills"].values() for c in d["checks"] if c["nodeid"] not in problems]
        for nodeid, problem in problems.items():
            print(f"  {nodeid}: {problem}")
        print(f"starters scored {starters['earned']}/{starters['possible']}, "
              f"solutions {solutions['earned']}/{solutions['possible']}")
        print(f"bracketing: {len(held)} passed, {len(problems)} failed")
        return 1 if problems else 0
    table = grade_class(args.submissions, args.out, extra)
    print(f"class grades written to {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

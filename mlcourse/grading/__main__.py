"""The grading command line: ``bracket`` (make test's proof), ``class`` (grade every learner), ``release``.

python -m mlcourse.grading bracket --test-paths "tests notebooks" --suite-args "--nbval --nbval-current-env"
python -m mlcourse.grading class submissions/ -j 2
RAY_ADDRESS=head:6379 python -m mlcourse.grading class submissions/   # one Ray task per learner
python -m mlcourse.grading release build/release
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from mlcourse.distributed.cluster import ClusterError, joined
from mlcourse.grading.bracketing import bracket
from mlcourse.grading.class_grading import ClassIncomplete, grade_class
from mlcourse.grading.limits import GIB, Limits
from mlcourse.grading.release import build_release
from mlcourse.grading.sandbox import bwrap_path
from mlcourse.paths import BUILD_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.grading", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    proof = commands.add_parser(
        "bracket",
        help="the tests, notebooks and the proof that every pointed check "
        "passes on solutions/ and fails on the untouched starters",
    )
    proof.add_argument("--test-paths", default="tests notebooks", help="what pytest runs besides the drills")
    proof.add_argument("--drill-paths", default="drills", help="the checks graded on starters and solutions")
    proof.add_argument("--suite-args", default="", help="pytest options for the tests and notebooks (e.g. --nbval)")
    proof.add_argument("--grades", type=Path, default=BUILD_DIR / "grades", help="folder for the grade books")
    klass = commands.add_parser(
        "class",
        help="grade every learner folder in SUBMISSIONS, append to class.csv",
        description="Extra arguments (e.g. -k EXPR) go to pytest.",
    )
    klass.add_argument("submissions", type=Path)
    klass.add_argument("--out", type=Path, default=BUILD_DIR / "grades" / "class")
    klass.add_argument(
        "-j", "--jobs", type=int, default=1, help="learners graded at once (default 1; with RAY_ADDRESS: free CPUs)"
    )
    klass.add_argument("--learner-limit", type=float, default=Limits.learner_s, help="seconds per learner")
    klass.add_argument("--check-limit", type=float, default=Limits.check_s, help="seconds per check")
    klass.add_argument("--memory-gib", type=float, default=Limits.memory_bytes / GIB, help="resident GiB per learner")
    klass.add_argument("--drills", default="", help="comma-separated drills (default: every drills/dN_name)")
    klass.add_argument("--no-bwrap", action="store_true", help="do not use bubblewrap even where it is installed")
    release = commands.add_parser("release", help="write the learners' bundle (no solutions, nothing held back)")
    release.add_argument("out", type=Path, nargs="?", default=BUILD_DIR / "release")
    args, extra = parser.parse_known_args(argv)

    if args.command == "bracket":
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)} (pytest options go in --suite-args)")
        return bracket(
            shlex.split(args.test_paths),
            shlex.split(args.drill_paths),
            shlex.split(args.suite_args),
            args.grades.resolve(),
        )
    if args.command == "release":
        print(f"learners' bundle written to {build_release(args.out)}")
        return 0
    if not joined() and (args.no_bwrap or bwrap_path() is None):  # on a cluster, each row names its node's isolation
        print(
            "bubblewrap (bwrap) is not in use: each learner gets its own session and course copy, but can "
            "write outside it and reach the network (apt-get install bubblewrap)",
            file=sys.stderr,
        )
    limits = Limits(args.learner_limit, args.check_limit, int(args.memory_gib * GIB))
    drills = [d for d in args.drills.split(",") if d] or None
    try:
        table = grade_class(
            args.submissions,
            args.out,
            jobs=args.jobs,
            limits=limits,
            drills=drills,
            use_bwrap=not args.no_bwrap,
            pytest_args=tuple(extra),
        )
    except ClusterError as error:
        print(error, file=sys.stderr)
        return 2
    except ClassIncomplete as error:
        print(f"these learners have no row yet (run the command again to grade them):\n{error}", file=sys.stderr)
        return 1
    print(f"class grades in {table}, feedback in {table.parent / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A class graded on a Ray cluster: each learner one Ray task, on whichever node has a free CPU.

The task grades its learner exactly as the local grader does (``ClassGrader.assess``: the same
sandbox, limits and cross-checks, bubblewrap where that node has it), in a child process of the
course's own Python, started in the course folder, which every node has at the same path (and
the class folder too). Only JSON crosses between driver and node: a spec in, the row, the item
rows and the learner's feedback and logs out. The driver alone writes ``class.csv``, so a task that
Ray runs again after its node died (``max_retries``) still gives one row.

On the node: ``python -m mlcourse.grading.on_ray SCRATCH`` reads the spec on stdin and prints the
result as its last line; it stops (and kills what it started) when the Ray worker above it dies.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from mlcourse.distributed.cluster import join
from mlcourse.grading.class_grading import ClassGrader
from mlcourse.grading.gradebook import Check
from mlcourse.grading.limits import Limits
from mlcourse.grading.sandbox import bwrap_path, fingerprint
from mlcourse.paths import BUILD_DIR_ENV

RETRIES = 2  # a learner whose node dies is graded again elsewhere, at most this many times
LOG_TAIL_BYTES = 1 << 20  # what comes back of each log: a submission can print without end
PARENT_POLL_S = 0.5


def grade_on_ray(grader: ClassGrader, learners: list[Path], *, use_bwrap: bool) -> list[str]:
    """Grade ``learners`` as Ray tasks on the cluster at ``RAY_ADDRESS``, appending each row as it
    comes back; return ``"learner: why"`` for each one that could not be graded (it has no row)."""
    import ray

    join(os.environ["RAY_ADDRESS"])
    task = ray.remote(grade_on_node).options(num_cpus=1, max_retries=RETRIES, retry_exceptions=False)
    course_print = fingerprint(grader.course_root)
    pending = {task.remote(json.dumps(spec(grader, learner, use_bwrap, course_print))): learner for learner in learners}
    failed = []
    try:
        with tqdm(total=len(pending), desc="learners graded") as progress:
            while pending:
                [ready], _ = ray.wait(list(pending), num_returns=1)
                learner = pending.pop(ready)
                try:
                    record(grader, json.loads(ray.get(ready)))
                except ray.exceptions.RayError as error:  # retries spent, or the node could not grade at all
                    failed.append(f"{learner.name}: {str(getattr(error, 'cause', None) or error).strip()[-2000:]}")
                progress.update()
    finally:  # Ctrl-C: the learners still running are stopped on their nodes
        for ref in pending:
            ray.cancel(ref, force=True)
        ray.shutdown()
    return failed


def spec(grader: ClassGrader, learner: Path, use_bwrap: bool, course_print: str) -> dict[str, Any]:
    """What a node needs to grade ``learner`` as ``grader`` would here: paths, selection, limits, checks."""
    return {
        "python": sys.executable,
        "course_root": str(grader.course_root),
        "course_print": course_print,
        "learner": str(learner),
        "drills": grader.drills,
        "checks": {drill: [asdict(check) for check in checks] for drill, checks in grader.checks.items()},
        "limits": asdict(grader.limits),
        "use_bwrap": use_bwrap,
        "pytest_args": list(grader.pytest_args),
    }


def record(grader: ClassGrader, result: dict[str, Any]) -> None:
    """A node's result on the driver: the learner's feedback and logs, then its row and item rows."""
    for relative, text in result["files"].items():
        path = grader.out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    grader.append(result["row"], result["items"])


def grade_on_node(spec_json: str) -> str:
    """The Ray task: grade one learner in the course's Python on this node; the result as JSON."""
    spec = json.loads(spec_json)
    node = socket.gethostname()
    for needed in (spec["python"], spec["course_root"], spec["learner"]):
        if not Path(needed).exists():
            raise FileNotFoundError(f"{node} has no {needed}: every node needs the course and the class at that path")
    scratch = tempfile.mkdtemp(prefix="mlcourse-grade-")
    env = {  # Ray's workers carry the environment their node was started with: grading's own is set here
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TMPDIR": tempfile.gettempdir(),
        "HF_HUB_OFFLINE": "1",
        BUILD_DIR_ENV: str(Path(scratch) / "build"),
    }
    try:
        done = subprocess.run(
            [spec["python"], "-m", "mlcourse.grading.on_ray", scratch],
            input=spec_json,
            cwd=spec["course_root"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(
            f"grading {spec['learner']} on {node} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done.stdout.strip().splitlines()[-1]


def assess_here(spec: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """Grade the spec's learner on this node, into ``scratch``: its row, item rows, feedback and logs."""
    course_root, learner = Path(spec["course_root"]), Path(spec["learner"])
    if fingerprint(course_root) != spec["course_print"]:
        raise SystemExit(f"the course at {course_root} on {socket.gethostname()} is not the driver's: update it")
    grader = ClassGrader(
        scratch,
        drills=spec["drills"],
        limits=Limits(**spec["limits"]),
        use_bwrap=spec["use_bwrap"] and bwrap_path() is not None,
        course_root=course_root,
        pytest_args=tuple(spec["pytest_args"]),
        checks={drill: [Check(**check) for check in checks] for drill, checks in spec["checks"].items()},
    )
    row, items = grader.assess(learner)
    written = [scratch / "feedback" / f"{learner.name}.md", *sorted((scratch / "logs" / learner.name).glob("*.log"))]
    files = {str(path.relative_to(scratch)): tail(path) for path in written if path.is_file()}
    return {"row": row, "items": items, "files": files}


def tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
        return handle.read().decode(errors="replace")


def stop_with_parent() -> None:
    """Interrupt this process (so that ``run_limited`` kills what it started) once its parent is gone:
    a Ray worker dies with its node, or when the driver cancels the task."""
    parent = os.getppid()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(scratch: Path) -> None:
    stop_with_parent()
    try:
        print(json.dumps(assess_here(json.loads(sys.stdin.read()), scratch)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))

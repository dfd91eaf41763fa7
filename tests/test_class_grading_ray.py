"""`make grade-class` on a two-node Ray cluster (RAY_ADDRESS), and with one node killed mid-run.

Both nodes run on this machine as separate ``ray start`` processes, one CPU each, on loopback, each
in a temp dir, a home and a TMPDIR of its own: this test finds, signals and stops only the processes
that name them. The class is tiny (drill d7 only): the reference as an honest learner, the untouched
starter, and a hostile learner who ships its own passing checks and conftest.py beside the blank
answers. Its rows must be what local grading gives, one per learner, also after the raylet of the
second node is SIGKILLed while it grades a learner (Ray grades that one again on the head).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from mlcourse.api.process import free_port
from mlcourse.grading.bracketing import export_starters
from mlcourse.grading.sandbox import fingerprint
from mlcourse.paths import REPO_ROOT, install_stamp

pytestmark = [pytest.mark.needs_solutions, pytest.mark.timeout(420)]

RAY = Path(sys.executable).with_name("ray")
DRILL = "d7_knowledge_check"
COURSE_PARTS = ("conftest.py", "pyproject.toml", f"drills/{DRILL}", f"solutions/{DRILL}")
FREE_POINTS = "import pytest\n\n\n@pytest.mark.points(31)\ndef test_answer():\n    pass\n"
GRADING_ON = re.compile(rf"/work/([^/]+)-{DRILL}/")  # a learner's workspace, in its sandbox's command line
STOP_S = 20.0

if not RAY.exists():
    pytest.skip(f"Ray's command line is not installed beside {sys.executable}", allow_module_level=True)


@dataclass(frozen=True)
class Node:
    """One ``ray start`` of this test: its process group, and the folders that its processes name."""

    starter: subprocess.Popen[str]
    temp_dir: Path
    tmp: Path  # its TMPDIR: where its Ray workers put the learners' workspaces

    def processes(self) -> list[psutil.Process]:
        marks = (str(self.temp_dir), str(self.tmp))
        return [
            p for p in psutil.process_iter(["cmdline"]) if any(m in " ".join(p.info["cmdline"] or []) for m in marks)
        ]

    def grading(self) -> dict[psutil.Process, str]:
        """Its processes that grade a learner now, and whom."""
        found = {}
        for process in self.processes():
            with suppress(psutil.Error):
                if learner := GRADING_ON.search(" ".join(process.cmdline())):
                    found[process] = learner.group(1)
        return found

    def raylet(self) -> psutil.Process:
        return next(p for p in self.processes() if p.name() == "raylet")


@dataclass(frozen=True)
class Cluster:
    address: str
    home: Path
    nodes: tuple[Node, Node]  # the head, the second node

    def env(self) -> dict[str, str]:
        """The instructor's shell: RAY_ADDRESS set, no other Ray settings, a home without a token."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PYTEST_", "MAKE", "MFLAGS"))}
        return {**env, "HOME": str(self.home), "RAY_ADDRESS": self.address}


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start_node(root: Path, name: str, env: dict[str, str], *args: str) -> Node:
    temp_dir, tmp = root / f"{name}-ray", root / f"{name}-tmp"  # short: Ray's socket paths must fit 107 bytes
    tmp.mkdir(parents=True)
    command = [str(RAY), "start", *args, "--node-ip-address", "127.0.0.1", "--num-cpus", "1"]
    command += ["--disable-usage-stats", "--temp-dir", str(temp_dir)]
    starter = subprocess.Popen(
        command,
        env={**env, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output, _ = starter.communicate(timeout=180)
    node = Node(starter, temp_dir, tmp)
    assert starter.returncode == 0, f"ray start {' '.join(args)} failed:\n{output[-3000:]}"
    return node


def stop(nodes: list[Node]) -> None:
    """SIGINT to each node's process group (as Ctrl-C), then SIGKILL whatever of theirs is still there."""
    for node in nodes:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(node.starter.pid, signal.SIGINT)
    processes = [p for node in nodes for p in node.processes()]
    _, still = psutil.wait_procs(processes, timeout=5)  # Ray's agents linger; nothing of theirs is kept
    for process in still:
        with suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(still, timeout=5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root, home = tmp_path_factory.mktemp("r"), tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env |= {"HOME": str(home), "PYTHONPATH": str(REPO_ROOT / "config" / "ray_env")}
    port, nodes = free_port(), []
    try:
        nodes.append(start_node(root, "head", env, "--head", "--port", str(port), "--include-dashboard=false"))
        nodes.append(start_node(root, "second", env, "--address", f"127.0.0.1:{port}"))
        yield Cluster(f"127.0.0.1:{port}", home, (nodes[0], nodes[1]))
    finally:
        stop(nodes)
    left = [" ".join(p.cmdline())[:120] for node in nodes for p in node.processes() if alive(p)]
    assert not left, f"the cluster's processes outlived the test: {left}"


def build_class(root: Path, tag: str) -> Path:
    """honest-TAG (the reference), blank-TAG (the starter of HEAD), hostile-TAG (its own passing checks)."""
    klass = root / f"class-{tag}"
    shutil.copytree(REPO_ROOT / "solutions" / DRILL, klass / f"honest-{tag}" / DRILL)
    export_starters(root / f"pristine-{tag}")
    for learner in ("blank", "hostile"):
        shutil.copytree(root / f"pristine-{tag}" / "drills" / DRILL, klass / f"{learner}-{tag}" / DRILL)
    hostile = klass / f"hostile-{tag}" / DRILL
    (hostile / "test_knowledge_check.py").write_text(FREE_POINTS)
    (hostile / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    return klass


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "class.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def by_learner(out: Path) -> dict[str, dict[str, str]]:
    table = rows(out)
    names = [row["learner"] for row in table]
    assert len(names) == len(set(names)), f"a learner has two rows: {names}"
    return {row["learner"].split("-")[0]: row for row in table}


def make_grade_class(klass: Path, out: Path) -> list[str]:
    """The README's command, narrowed to d7, into ``out``; ``-o`` keeps make from reinstalling this venv."""
    stamp = install_stamp()
    return [
        "make",
        "--no-print-directory",
        "-o",
        stamp,
        "grade-class",
        f"CLASS={klass}",
        f"DRILLS={DRILL}",
        f"GRADE_CLASS_ARGS=--out {out}",
    ]


def finish(running: Any, timeout_s: float = 300) -> None:
    running.leader.wait(timeout=timeout_s)
    running.track()
    assert running.leader.returncode == 0, running.output()[-4000:]
    assert not running.alive(), [p.pid for p in running.alive()]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]]]:
    """The same class graded here, without RAY_ADDRESS: the rows the cluster must give."""
    root = tmp_path_factory.mktemp("local")
    klass, out = build_class(root, "t"), root / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")} | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mlcourse.grading", "class", str(klass), "--out", str(out), "--drills", DRILL],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return klass, by_learner(out)


def same_points(mine: dict[str, dict[str, str]], local: dict[str, dict[str, str]]) -> None:
    assert set(mine) == {"honest", "blank", "hostile"}, mine
    for learner, row in mine.items():
        expected = local[learner]
        for column in ("total", "possible", "status", DRILL, "reasons", "isolation"):
            assert row[column] == expected[column], (learner, column, row, expected)
    assert mine["honest"]["total"] == mine["honest"]["possible"] != "0", mine["honest"]
    assert mine["blank"]["total"] == mine["hostile"]["total"] == "0", mine


def test_a_class_on_two_nodes_gets_the_local_rows_once_and_resumes(
    cluster: Cluster, local: tuple[Path, dict[str, dict[str, str]]], job: Callable[..., Any], tmp_path: Path
) -> None:
    klass, expected = local
    course = fingerprint(REPO_ROOT, COURSE_PARTS)
    out = tmp_path / "out"
    started = time.monotonic()
    finish(job(make_grade_class(klass, out), cluster.env()))
    seconds = time.monotonic() - started
    mine = by_learner(out)
    same_points(mine, expected)
    assert (out / "feedback" / f"{mine['honest']['learner']}.md").is_file()
    assert (out / "logs" / mine["blank"]["learner"] / f"{DRILL}.log").is_file()
    print(
        f"two nodes: the class of 3 in {seconds:.1f} s; honest learner {mine['honest']['seconds']} s on its node, "
        f"{expected['honest']['seconds']} s graded here without Ray"
    )
    table = (out / "class.csv").read_bytes()
    finish(job(make_grade_class(klass, out), cluster.env()))  # the second run resumes: nobody is graded again
    assert (out / "class.csv").read_bytes() == table
    assert fingerprint(REPO_ROOT, COURSE_PARTS) == course, "grading on the cluster changed the course"


def test_a_node_killed_mid_grade_leaves_a_complete_class_without_duplicates(
    cluster: Cluster, local: tuple[Path, dict[str, dict[str, str]]], job: Callable[..., Any], tmp_path: Path
) -> None:
    _, expected = local
    klass, out, second = build_class(tmp_path, "k"), tmp_path / "out", cluster.nodes[1]
    running = job(make_grade_class(klass, out), cluster.env())
    deadline, victim = time.monotonic() + 120, None
    while victim is None and time.monotonic() < deadline and running.leader.poll() is None:
        victim = next(iter(second.grading().values()), None)
        time.sleep(0.2)
    assert victim, f"the second node graded nobody:\n{running.output()[-3000:]}"
    raylet = second.raylet()
    raylet.send_signal(signal.SIGKILL)
    raylet.wait(timeout=10)
    finish(running)
    mine = by_learner(out)
    same_points(mine, expected)
    assert victim.split("-")[0] in mine, f"{victim}, graded on the killed node, has no row"
    _, survivors = psutil.wait_procs(list(second.grading()), timeout=STOP_S)
    assert not [p for p in survivors if alive(p)], f"grading on the killed node outlived it: {survivors}"

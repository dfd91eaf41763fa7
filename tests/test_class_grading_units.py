"""The pieces of class grading on their own: limits that leave nothing behind, the channel cross-check, the sandbox."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import psutil
import pytest

from mlcourse.grading.crosscheck import DrillVerdict, judge
from mlcourse.grading.gradebook import Check
from mlcourse.grading.items import (
    ITEMS_FILE,
    SUMMARY_FILE,
    SUMMARY_PLOT,
    DrillSpread,
    append_items,
    check_summaries,
    drill_points,
    item_rows,
    keep_learners,
    read_items,
    write_item_analysis,
)
from mlcourse.grading.limits import Outcome, run_limited
from mlcourse.grading.sandbox import PLUGINS_NO_CHECK_USES, Workspace, bwrap_path, sandbox_env, wrap
from mlcourse.grading.timing_lock import TimingLock, timed_drills
from mlcourse.paths import REPO_ROOT

NODE = "drills/d9_demo/test_demo.py::test_one"
SPAWN_GRANDCHILD = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "


def survivors(marker: str) -> list[int]:
    return [p.pid for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


def run_python(code: str, tmp_path: Path, *, wall_s: float, memory_bytes: int) -> Outcome:
    """``python -c code`` under the grader's limits, its output in ``tmp_path/log``."""
    return run_limited(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=sandbox_env(),
        log=tmp_path / "log",
        wall_s=wall_s,
        memory_bytes=memory_bytes,
    )


def test_a_run_past_its_wall_clock_is_killed_with_every_process_it_started(tmp_path):
    marker = f"sleep-marker-{tmp_path.name}"
    code = SPAWN_GRANDCHILD + f"import time; time.sleep(300)  # {marker}"
    outcome = run_python(code, tmp_path, wall_s=2, memory_bytes=2**34)
    assert outcome.killed_for == "time limit" and outcome.seconds < 15
    assert survivors(marker) == []


def test_a_memory_hog_is_killed_by_resident_size_not_address_space(tmp_path):
    code = (
        "import time\nheld = []\nfor _ in range(40):\n    held.append(bytearray(b'x') * (64 << 20))\n"
        "    time.sleep(0.05)\ntime.sleep(30)\n"
    )
    outcome = run_python(code, tmp_path, wall_s=60, memory_bytes=400 << 20)
    assert outcome.killed_for == "memory limit"
    assert outcome.peak_rss_bytes > 400 << 20


def test_a_run_within_its_limits_keeps_its_exit_status_and_has_no_stdin(tmp_path):
    code = "import sys; print(repr(sys.stdin.read())); sys.exit(3)"
    outcome = run_python(code, tmp_path, wall_s=30, memory_bytes=2**34)
    assert (outcome.returncode, outcome.killed_for) == (3, "")
    assert "''" in (tmp_path / "log").read_text()


def write_results(folder: Path, *, junit_passed: bool | None, book_passed: bool | None) -> None:
    folder.mkdir(exist_ok=True)
    if junit_passed is not None:
        failure = "" if junit_passed else '<failure message="AssertionError: make it faster">trace</failure>'
        (folder / "junit.xml").write_text(
            textwrap.dedent(f"""\
            <testsuites><testsuite><testcase classname="drills.d9_demo.test_demo" name="test_one">{failure}
            <properties><property name="speedup" value="12 x"/></properties></testcase></testsuite></testsuites>""")
        )
    if book_passed is not None:
        check = {"nodeid": NODE, "passed": book_passed}
        (folder / "grades.json").write_text(json.dumps({"drills": {"d9_demo": {"checks": [check]}}}))


def expected() -> list[Check]:
    return [Check(NODE, "d9_demo", 3, "one")]


@pytest.mark.parametrize(
    ("junit_passed", "book_passed", "returncode", "earned", "reason"),
    [
        (True, True, 0, 3, ""),
        (False, False, 1, 0, ""),
        (False, True, 1, 0, "needs review: the result channels disagree"),  # a grade book patched in memory
        (True, True, 1, 0, "needs review: the result channels disagree (pytest exited with 1"),
        (None, True, 0, 0, "needs review: results missing or unreadable"),  # a self-written grades file
        (None, None, 0, 0, "crash"),  # os._exit before any result
    ],
)
def test_points_need_every_channel_to_agree(tmp_path, junit_passed, book_passed, returncode, earned, reason):
    write_results(tmp_path, junit_passed=junit_passed, book_passed=book_passed)
    verdict = judge("d9_demo", expected(), tmp_path, returncode, "", "")
    assert verdict.earned == earned and verdict.reason.startswith(reason), verdict.reason
    if earned:
        assert verdict.checks[0].metrics == {"speedup": {"value": 12.0, "unit": "x"}}
    elif junit_passed is False and not reason:
        assert verdict.checks[0].message == "make it faster"


def test_a_killed_or_timed_out_run_scores_zero_with_the_reason_and_the_check_it_was_in(tmp_path):
    write_results(tmp_path, junit_passed=True, book_passed=True)
    assert judge("d9_demo", expected(), tmp_path, -9, "memory limit", "").reason.startswith("memory limit: ")
    timed_out = judge("d9_demo", expected(), tmp_path, 1, "", "++++++++ Timeout ++++++++", [NODE])
    assert timed_out.earned == 0 and timed_out.reason.startswith("time limit in test_one: "), timed_out.reason
    killed = judge("d9_demo", expected(), tmp_path, -9, "time limit", "", ["drills/d9_demo/test_demo.py::test_x[2]"])
    assert killed.reason.startswith("time limit in test_x[2]: "), killed.reason


@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed (apt-get install bubblewrap)")
def test_bwrap_gives_a_read_only_course_a_private_tmp_no_solutions_and_no_network(tmp_path):
    space = Workspace(tmp_path / "space", REPO_ROOT)
    results = space.results / "run"
    listener = socket.create_server(("127.0.0.1", 0))  # the host's loopback: unreachable from a sandbox's own
    port = listener.getsockname()[1]
    results.mkdir(parents=True)
    space.course.mkdir()
    secret = tmp_path / "host-secret.txt"
    secret.write_text("the grader's /tmp")
    outside = REPO_ROOT / "build" / f"probe-{tmp_path.name}.txt"  # on disk, not in the private /tmp
    code = textwrap.dedent(f"""
        import os, socket
        from pathlib import Path
        for target in ({str(outside)!r}, {str(space.course / "x")!r}):
            try:
                Path(target).write_text('x'); print('wrote', target)
            except OSError as error:
                print('refused', error.errno)
        Path({str(results / "ok")!r}).write_text('ok')
        print('host tmp hidden' if not os.path.exists({str(secret)!r}) else 'host tmp visible')
        print('solutions hidden' if not any(Path({str(REPO_ROOT / "solutions")!r}).iterdir()) else 'solutions visible')
        try:
            socket.create_connection(('127.0.0.1', {port}), timeout=2); print('network')
        except OSError:
            print('no network')
        """)
    with listener:
        done = subprocess.run(
            wrap([sys.executable, "-c", code], space, results, use_bwrap=True),
            env=sandbox_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("refused 30") == 2, done.stdout  # EROFS
    assert (results / "ok").exists() and not outside.exists()
    assert "host tmp hidden" in done.stdout
    assert "solutions hidden" in done.stdout  # a submission cannot read (or link to) the reference
    assert "no network" in done.stdout


def graded_verdicts() -> dict[str, list[DrillVerdict]]:
    """Three learners on one drill of two checks: all passed, one failed with figures, forced to 0."""

    def verdict(first: bool, second: bool, reason: str = "", speedup: float = 12.0) -> DrillVerdict:
        checks = [
            Check(
                NODE,
                "d9_demo",
                3,
                "one",
                passed=first,
                message="" if first else "make it faster",
                metrics={"speedup": {"value": speedup, "unit": "x"}},
            ),
            Check(
                NODE.replace("one", "two"),
                "d9_demo",
                1,
                "two",
                passed=second,
                message="" if second else "AssertionError: wrong shape",
            ),
        ]
        earned = 0 if reason else 3 * first + second
        return DrillVerdict("d9_demo", earned, 4, reason, checks)

    return {
        "ann": [verdict(True, True, speedup=10.0)],
        "bob": [verdict(False, True, speedup=2.0)],
        "cat": [verdict(True, True, "needs review: the result channels disagree", speedup=30.0)],
    }


def test_items_have_a_row_per_learner_and_check_that_sums_to_the_drill_points(tmp_path):
    for learner, verdicts in graded_verdicts().items():
        append_items(tmp_path / ITEMS_FILE, item_rows(learner, verdicts))
    rows = read_items(tmp_path / ITEMS_FILE)
    assert [(r["learner"], r["check"], r["points"], r["passed"]) for r in rows] == [
        ("ann", "test_one", "3", "yes"),
        ("ann", "test_two", "1", "yes"),
        ("bob", "test_one", "0", "no"),
        ("bob", "test_two", "1", "yes"),
        ("cat", "test_one", "0", "no"),
        ("cat", "test_two", "0", "no"),
    ]
    assert rows[2]["reason"] == "make it faster" and rows[4]["reason"].startswith("needs review")
    assert json.loads(rows[2]["metrics"]) == {"speedup": {"value": 2.0, "unit": "x"}}
    for learner, verdicts in graded_verdicts().items():
        assert sum(int(r["points"]) for r in rows if r["learner"] == learner) == verdicts[0].earned
    keep_learners(tmp_path / ITEMS_FILE, {"ann", "cat"})  # bob's class.csv row was never written
    assert {r["learner"] for r in read_items(tmp_path / ITEMS_FILE)} == {"ann", "cat"}


def test_the_summary_gives_pass_shares_medians_common_failures_and_the_points_spread(tmp_path):
    for learner, verdicts in graded_verdicts().items():
        append_items(tmp_path / ITEMS_FILE, item_rows(learner, verdicts))
    summaries = {s.check: s for s in check_summaries(read_items(tmp_path / ITEMS_FILE))}
    one = summaries["test_one"]
    assert one.passed == pytest.approx(1 / 3) and one.learners == 3
    assert one.medians == {"speedup": {"value": 10.0, "unit": "x"}}
    assert summaries["test_two"].failure.startswith("needs review") and summaries["test_two"].failure_count == 1
    assert drill_points(read_items(tmp_path / ITEMS_FILE)) == {
        "d9_demo": DrillSpread({"ann": 4, "bob": 1, "cat": 0}, 4)
    }
    paths = write_item_analysis(tmp_path)
    markdown = (tmp_path / SUMMARY_FILE).read_text()
    assert "| d9_demo | test_one | 33% of 3 | speedup = 10 x | make it faster (1×) |" in markdown, markdown
    assert "| d9_demo | 4 | 1 | 0: 1, 1: 1, 4: 1 |" in markdown, markdown
    assert (tmp_path / SUMMARY_PLOT).read_bytes().startswith(b"\x89PNG") and len(paths) == 2


def test_the_plugins_class_grading_turns_off_exist_and_no_drill_check_imports_their_packages():
    """``-p no:NAME`` of a name pytest does not know is silently nothing; a check that needs one would break."""
    installed = {entry.name for entry in entry_points(group="pytest11")}
    assert set(PLUGINS_NO_CHECK_USES) <= installed, f"not pytest plugins here: {set(PLUGINS_NO_CHECK_USES) - installed}"
    imports = re.compile(rf"^\s*(from|import)\s+({'|'.join(PLUGINS_NO_CHECK_USES.values())})\b", re.MULTILINE)
    users = [str(p) for p in (REPO_ROOT / "drills").rglob("*.py") if imports.search(p.read_text())]
    assert not users, f"drill code imports a package whose pytest plugin class grading turns off (sandbox.py): {users}"


def test_a_timed_drill_runs_alone_and_the_wait_is_not_the_learners_time():
    lock, log = TimingLock(), []

    def run(name: str, exclusive: bool, seconds: float) -> None:
        with lock.hold(exclusive=exclusive):
            log.append(f"{name} in")
            time.sleep(seconds)
            log.append(f"{name} out")

    untimed = threading.Thread(target=run, args=("untimed", False, 0.3))
    untimed.start()
    time.sleep(0.05)
    with lock.hold(exclusive=True) as waited:  # waits for the untimed run to end
        log.append("timed in")
    untimed.join()
    assert log == ["untimed in", "untimed out", "timed in"]
    assert waited >= 0.2
    assert timed_drills(REPO_ROOT, ["d1_sentiment_api", "d7_knowledge_check"]) == {"d1_sentiment_api"}

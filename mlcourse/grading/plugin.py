"""The grading harness as a pytest plugin (the root ``conftest.py`` registers it).

* A drill check is a test in ``drills/dN_name/`` carrying ``@pytest.mark.points(n)``.
* ``--impl drills`` (default) grades the learner's code, ``--impl solutions`` the reference,
  ``--impl PATH`` a submission folder laid out like ``drills/``.
* The run ends with a table of points per drill; ``--grades FILE`` writes it as JSON.
* Checks reach the code under test only through the ``drill`` fixture, never by importing
  ``drills`` or ``solutions`` themselves.

A plugin module is registered once by name, so a course copy nested in another course's tree
(class grading's workspace) does not add the options twice.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mlcourse.grading.gradebook import Check, Gradebook, failure_message
from mlcourse.impl import DRILL_FOLDER, Drill, Implementation, ImplementationError
from mlcourse.paths import REPO_ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the network

GRADEBOOK = pytest.StashKey[Gradebook]()
IMPLEMENTATION = pytest.StashKey[Implementation]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grading")
    group.addoption(
        "--impl",
        default="drills",
        metavar="drills|solutions|PATH",
        help="which implementation of the drills to grade (default: drills, the learner's code)",
    )
    group.addoption("--grades", default=None, metavar="FILE", help="write the points per drill as JSON to FILE")
    group.addoption(
        "--started-log",
        default=None,
        metavar="FILE",
        help="append each test's node id to FILE as it starts (class grading names the check a time limit stopped)",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        impl = Implementation.parse(config.getoption("--impl"))
    except ImplementationError as error:
        raise pytest.UsageError(str(error)) from error
    config.stash[IMPLEMENTATION] = impl
    config.stash[GRADEBOOK] = Gradebook(impl.label)
    started = config.getoption("--started-log")
    config.pluginmanager.register(
        PhaseRecorder(config.stash[GRADEBOOK], Path(started) if started else None), "grading-phase-recorder"
    )


def drill_name(path: Path) -> str | None:
    """The drill a test file belongs to: its nearest ``dN_name`` folder."""
    for folder in path.parents:
        if DRILL_FOLDER.match(folder.name):
            return folder.name
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    book = config.stash[GRADEBOOK]
    for item in items:
        marker = item.get_closest_marker("points")
        if marker is None:
            continue
        name = drill_name(item.path)
        points = marker.args[0] if marker.args else None
        if name is None or not isinstance(points, int) or points <= 0:
            raise pytest.UsageError(f"{item.nodeid}: points(n) needs a positive int and a drills/dN_name/ folder")
        doc = (getattr(item, "function", None).__doc__ or item.name).strip().splitlines()[0]
        book.add(Check(nodeid=item.nodeid, drill=name, points=points, description=doc))
    if not (REPO_ROOT / "solutions").is_dir():  # the learners' bundle: what runs the reference is skipped, not failed
        skip = pytest.mark.skip(reason="runs the reference solutions: only in the instructor's repository")
        for item in items:
            if item.get_closest_marker("needs_solutions") or notebook_needs_solutions(item.path):
                item.add_marker(skip)


@functools.cache
def notebook_needs_solutions(path: Path) -> bool:
    """A notebook serving a drill's reference says so in its metadata (``"mlcourse": {"needs_solutions": true}``)."""
    if path.suffix != ".ipynb":
        return False
    return bool(json.loads(path.read_text()).get("metadata", {}).get("mlcourse", {}).get("needs_solutions"))


class PhaseRecorder:
    """Feeds each test phase's outcome to the grade book (a plugin, since these hooks get no config)."""

    def __init__(self, book: Gradebook, started_log: Path | None = None) -> None:
        self.book = book
        self.started_log = started_log

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if self.started_log is not None:
            with self.started_log.open("a") as log:  # closed at once: a time limit ends the run with os._exit
                log.write(nodeid + "\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and report.passed:
            return
        message = ""
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            lines = report.longreprtext.strip().splitlines()
            message = failure_message(crash.message) if crash is not None else (lines[-1] if lines else "")
        elif report.skipped:
            message = "skipped: a pointed check earns nothing unless it runs"
        self.book.record_phase(report.nodeid, report.passed, message)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    book = config.stash[GRADEBOOK]
    if not book.checks:
        return
    terminalreporter.section("grades")
    for line in book.table_lines():
        terminalreporter.write_line(line)
    grades = config.getoption("--grades")
    if grades:
        book.write(Path(grades))
        terminalreporter.write_line(f"grades written to {grades}")


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementation:
    """The implementation under test, from ``--impl``."""
    return pytestconfig.stash[IMPLEMENTATION]


@pytest.fixture(scope="module")
def drill(request: pytest.FixtureRequest, impl: Implementation) -> Drill:
    """The drill of the requesting test's folder, in the implementation under test."""
    name = drill_name(request.path)
    if name is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the drill fixture is for tests in drills/dN_name/")
    return impl.drill(name)


@pytest.fixture
def report_metric(request: pytest.FixtureRequest):
    """Record a measured figure; it is printed in the points table and written to the grades JSON."""
    book = request.config.stash[GRADEBOOK]

    def record(name: str, value: float, unit: str = "") -> None:
        book.record_metric(request.node.nodeid, name, float(value), unit)
        request.node.user_properties.append((name, f"{value} {unit}".strip()))

    return record


@pytest.fixture
def run() -> Callable[..., Any]:
    """``run(coroutine, limit_s=30)``: an async check in a fresh event loop that fails, never hangs, past the limit.

    Only the limit's own expiry becomes the generic message (with the time it really ran): a
    ``TimeoutError`` the check raises itself reaches the check, whose handler states its own hint.
    An exception that escaped the app under test is named as such, not left as a bare error in the check.
    """

    def run_bounded(coroutine: Awaitable[Any], limit_s: float = 30.0) -> Any:
        async def bounded() -> Any:
            started = time.perf_counter()
            limit = asyncio.timeout(limit_s)
            try:
                async with limit:
                    return await coroutine
            except TimeoutError as error:
                elapsed = time.perf_counter() - started
                if not limit.expired():
                    error.add_note(f"(raised by the check after {elapsed:.1f} s)")
                    raise
                pytest.fail(
                    f"the check did not finish within its {limit_s:g} s limit (stopped after {elapsed:.1f} s): "
                    "a request, a call or a shutdown hangs"
                )
            except Exception as error:
                if not escaped_the_app(error):
                    raise
                pytest.fail(
                    f"an exception escaped the app: {type(error).__name__}: {str(error)[:200]}. Every error, even an "
                    "unexpected exception, must be answered with the JSON error (500) by the app itself: Starlette's "
                    "ServerErrorMiddleware re-raises an exception after any @app.exception_handler(Exception) has "
                    "answered, so catch it where it happens (in the route) and return the JSON 500 there"
                )

        return asyncio.run(bounded())

    return run_bounded


def escaped_the_app(error: BaseException) -> bool:
    """True when ``error`` passed through Starlette's outermost middleware: the ASGI app let it out."""
    return any(
        frame.f_code.co_filename.endswith(os.path.join("starlette", "middleware", "errors.py"))
        for frame, _line in traceback.walk_tb(error.__traceback__)
    )

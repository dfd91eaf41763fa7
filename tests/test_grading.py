"""The grading contract's own machinery: the grade book and the starter/solution proof."""

import pytest

from mlcourse.grading.bracketing import verify_bracketing
from mlcourse.grading.gradebook import Check, Gradebook, failure_message
from mlcourse.impl import Implementation, ImplementationError
from mlcourse.paths import REPO_ROOT


def book_with(outcomes: dict[str, bool | None]) -> dict:
    book = Gradebook("test")
    for nodeid, passed in outcomes.items():
        book.add(Check(nodeid=nodeid, drill="d9_demo", points=2, description=nodeid))
        if passed is not None:
            book.record_phase(nodeid, passed, "" if passed else "E AssertionError: nope")
    return book.summary()


def test_points_count_only_passed_checks():
    summary = book_with({"a": True, "b": False})
    assert (summary["earned"], summary["possible"]) == (2, 4)
    assert summary["drills"]["d9_demo"]["earned"] == 2


def test_a_failed_phase_is_never_overwritten_by_a_later_pass():
    book = Gradebook("test")
    book.add(Check(nodeid="a", drill="d9_demo", points=1, description="a"))
    book.record_phase("a", False, "setup failed")
    book.record_phase("a", True, "")
    assert book.summary()["earned"] == 0


@pytest.mark.parametrize(
    ("exception_text", "message"),
    [
        ("AssertionError: make start() work first\nassert '' == 'x'\n + where '' = f()", "make start() work first"),
        ("Failed: the check did not finish within its 30 s limit", "the check did not finish within its 30 s limit"),
        ("RequestTimeout: no answer within 1.0 s", "RequestTimeout: no answer within 1.0 s"),
        ("AssertionError: first line\n  second line\nassert False", "first line second line"),
        ("assert 1 == 2", "assert 1 == 2"),
    ],
)
def test_the_grade_book_keeps_the_checks_own_sentence(exception_text, message):
    assert failure_message(exception_text) == message


def test_bracketing_holds_when_solutions_pass_and_starters_fail():
    assert verify_bracketing(book_with({"a": True}), book_with({"a": False})) == {}


@pytest.mark.parametrize(
    ("solutions", "starters", "problem"),
    [
        ({"a": True}, {"a": True}, "cannot fail"),
        ({"a": False}, {"a": False}, "fails on solutions"),
        ({"a": True}, {}, "not run against the starters"),
        ({"a": None}, {"a": False}, "fails on solutions"),
    ],
)
def test_bracketing_reports_each_broken_check(solutions, starters, problem):
    problems = verify_bracketing(book_with(solutions), book_with(starters))
    assert problem in problems["a"]


def test_table_lists_each_drill_and_the_total():
    book = Gradebook("solutions")
    book.add(Check(nodeid="x::t", drill="d2_jit_matmul", points=3, description="t"))
    book.record_phase("x::t", True, "")
    book.record_metric("x::t", "speedup", 12.5, "x")
    lines = book.table_lines()
    assert any(line.startswith("d2_jit_matmul") and line.endswith("3/3") for line in lines)
    assert lines[-1].strip() == "t: speedup = 12.5 x"


def test_impl_resolves_builtin_names_and_folders(tmp_path):
    assert Implementation.parse("solutions").drill("d2_jit_matmul").package == "solutions.d2_jit_matmul"
    (tmp_path / "d2_jit_matmul").mkdir()
    submission = Implementation.parse(str(tmp_path)).drill("d2_jit_matmul")
    assert submission.package == "d2_jit_matmul"
    assert submission.folder == tmp_path / "d2_jit_matmul"
    assert str(tmp_path) in submission.env({})["PYTHONPATH"].split(":")
    assert str(REPO_ROOT) in submission.env({})["PYTHONPATH"].split(":")


def test_impl_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ImplementationError, match="laid out like drills"):
        Implementation.parse(str(tmp_path / "nowhere"))


def test_every_load_test_request_carries_its_own_text():
    """A response cache must not pass d1's latency check: no two requests of a run share a text."""
    from mlcourse.loadtest.generator import SAMPLE_TEXTS, distinct_text

    texts = [distinct_text(SAMPLE_TEXTS, i) for i in range(5000)]
    assert len(set(texts)) == len(texts)

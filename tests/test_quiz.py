"""The knowledge check: answers normalise, the key hides letters, bad input is refused clearly, the quiz is fair.

Fair: each pointer names a section that exists, the right option is not given away by its length, and a
failure says what to change without printing the check's source."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from mlcourse.course_refs import check_text
from mlcourse.paths import REPO_ROOT
from mlcourse.quiz import (
    AnswerFormatError,
    answer_hash,
    load_answers,
    main,
    make_key,
    missing_and_extra,
    normalise,
    read_questions,
)


def test_letters_normalise_in_any_case_order_or_separator():
    assert normalise("B, d") == normalise("db") == normalise(" d;b ") == "b,d"
    assert normalise("  ") == ""


def test_anything_but_choice_letters_is_refused():
    with pytest.raises(AnswerFormatError, match="letters a to f"):
        normalise("the event loop")


def test_hash_depends_on_salt_question_and_answer_but_not_spelling():
    base = answer_hash("q01", "a,c", "s")
    assert base == answer_hash("q01", "C A", "s")
    assert (
        len({base, answer_hash("q02", "a,c", "s"), answer_hash("q01", "a", "s"), answer_hash("q01", "a,c", "t")}) == 4
    )


def test_key_tool_hashes_an_answered_file_and_refuses_a_blank_one(tmp_path, capsys):
    answered = tmp_path / "answers.toml"
    answered.write_text('q01 = "b"\nk1 = "c, a"\n')
    assert make_key(answered, "s") == {"q01": answer_hash("q01", "b", "s"), "k1": answer_hash("k1", "a,c", "s")}
    main(["key", str(answered), "--salt", "s"])
    assert answer_hash("k1", "a,c", "s") in capsys.readouterr().out
    answered.write_text('q01 = ""\n')
    with pytest.raises(AnswerFormatError, match="no answer for q01"):
        make_key(answered, "s")


@pytest.mark.parametrize("text, message", [("q01 = b", "not valid TOML"), ("q01 = 2", "quoted strings")])
def test_a_malformed_answers_file_says_how_to_fix_it(tmp_path, text, message):
    path = tmp_path / "answers.toml"
    path.write_text(text)
    with pytest.raises(AnswerFormatError, match=message):
        load_answers(path)
    with pytest.raises(AnswerFormatError, match="missing"):
        load_answers(tmp_path / "absent.toml")


def test_a_wrong_set_counts_the_missing_and_the_extra_letters():
    digest = answer_hash("k1", "a,b,d", "s")
    assert missing_and_extra("k1", "a,c", digest, "s", "abcdef") == (2, 1)
    assert missing_and_extra("k1", "b,a,d", digest, "s", "abcdef") == (0, 0)
    with pytest.raises(AnswerFormatError, match="matches the key"):
        missing_and_extra("k1", "a", digest, "s", "abc")


QUESTIONS_MD = REPO_ROOT / "drills" / "d7_knowledge_check" / "QUESTIONS.md"
PRINTED = read_questions(QUESTIONS_MD)
NAMES_A_PLACE = re.compile(r"notebook \d{2}, sections? \d|the crib|README|docs/")


def test_every_pointer_names_a_section_that_exists():
    """Each question names where its answer is taught; a multi-answer one, per statement."""
    pointers = {}
    for question in PRINTED.values():
        pointers[question.id] = question.pointer
        if question.option_pointers:
            assert question.option_pointers.keys() == question.options.keys(), (
                f"{question.id}: a statement lacks a pointer"
            )
        pointers |= {f"{question.id} {letter})": where for letter, where in question.option_pointers.items()}
    unnamed = sorted(name for name, where in pointers.items() if not NAMES_A_PLACE.search(where))
    assert not unnamed, f"pointers that name no notebook section or page: {unnamed}"
    problems = [problem for name, where in pointers.items() for problem in check_text(f"QUESTIONS.md {name}", where)]
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.needs_solutions
def test_the_right_option_is_seldom_the_longest():
    """A learner who picks the longest option must not pass: at most a third of single-answer questions."""
    key = load_answers(REPO_ROOT / "solutions" / "d7_knowledge_check" / "answers.toml")
    assert key.keys() == PRINTED.keys(), "QUESTIONS.md and the solutions' answers.toml list different questions"
    single = [q for q in PRINTED.values() if "," not in normalise(key[q.id])]
    longest = [
        q.id
        for q in single
        if all(len(q.options[key[q.id]]) > len(text) for letter, text in q.options.items() if letter != key[q.id])
    ]
    assert len(longest) <= len(single) / 3, (
        f"the right option is the longest in {len(longest)} of {len(single)}: {longest}"
    )


@pytest.mark.needs_solutions
def test_a_failed_check_prints_its_message_not_its_source(tmp_path):
    """The failure says how many letters are missing and extra; the check's code (and its key) stay out of it."""
    answered = (REPO_ROOT / "solutions" / "d7_knowledge_check" / "answers.toml").read_text(encoding="utf-8")
    submission = tmp_path / "d7_knowledge_check"
    submission.mkdir()
    (submission / "answers.toml").write_text(re.sub(r'(?m)^k1 = ".*?"', 'k1 = "a"', answered), encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "drills/d7_knowledge_check",
            "--impl",
            str(tmp_path),
            "-q",
            "-k",
            "k1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"k1: 'a' is not exactly the right set: \d right letter\(s\) missing, 0 wrong", run.stdout)
    assert "answer_hash(" not in run.stdout and "KEY[" not in run.stdout, run.stdout

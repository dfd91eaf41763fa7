"""Drill d7: the knowledge check and the quiz, graded from the learner's answers.toml.

The key is stored as salted hashes (``mlcourse.quiz``), never as letters: the learner's
bundle does not give the answers away. Each question is one check; a wrong answer names the
sections to re-read, read from QUESTIONS.md (for a multi-answer question, per statement, and
how many right letters are missing and how many wrong ones were chosen).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcourse.quiz import (
    AnswerFormatError,
    PrintedQuestion,
    answer_hash,
    load_answers,
    missing_and_extra,
    normalise,
    read_questions,
)

SALT = "d7-v1"
ANSWERS_FILE = "answers.toml"
QUESTIONS = read_questions(Path(__file__).with_name("QUESTIONS.md"))
KEY = {  # python -m mlcourse.quiz key solutions/d7_knowledge_check/answers.toml --salt d7-v1
    "k1": "a860e115f97d1780af6d8ad731333e0bff0036494aef5e4c0a98191ee796fdca",
    "k2": "6f00a493acd5bb4897c0b0f639628a8ca05d44451e4154a03d489bbf4ada1d3a",
    "k3": "cb220c2d891f63124f0b36df2232657a869b66d6b3c877ba37f6b926e025f3f8",
    "q01": "e7eba49c359dc5764dab769835ec4ff4719a7020d1c6b7d76654dc8cad312bc3",
    "q02": "1ef0d8bf8003e506b6c66ed0464537249b5b4e94e0e793505304e452d64655c2",
    "q03": "c6cd51d0afb9bce5da54b4f1e2caec3ea360e96422be73f77050b1dab1ea865e",
    "q04": "abd4b6c8de3fd95a857675adf72fcbe4c8182bfd2c103fec5df13b336c240f11",
    "q05": "69fbf67965c718a1b4e29bb0c2eac0ae34b77f84c2a640886948059b990315f3",
    "q06": "471d19bd0cbee424da7b4653fb71e98214324e053b87fa7fbc34218dad376337",
    "q07": "5ed623ac76e34c0d1cdf3de4cb74059e1c61aa8aa417dcc2c85f0a1f9a5ca307",
    "q08": "01acbff2373e77dc2b9a57649b35272f2e4a1f84c9248fcef3690b2dc35de88f",
    "q09": "070d9408a417aa73b49cfd78f7116adfd27a4e071fb35c96be106bc3a5eb6608",
    "q10": "808cd636f9e210402f8333c9406bc961394577809823e721c16b4deeef5206f1",
    "n01a": "1705926f55a6c28c46f347a925f1a0639b1bdeadae75be3fac0b6dd79f620bfd",
    "n01b": "ddeddb6143397e31df46e5be362bb47982eb35597fa7d29e4eae6b926dfcd344",
    "n02a": "0d1b6075ff672f20c0edb1206e993acfd6883198591c46ed3013ac4d98ff2ea1",
    "n02b": "8e1f490179d2650d4c98e1459b8c5c31f59d73b99f21207f5c217b3f3fdc9229",
    "n03a": "5bd0036b62698575302d32caed7753d88104e6fc2a4fda8630594c2010c5fe09",
    "n03b": "069d0b5aede070c5df66ad0c03d4cbbff7663e199040ae0d7b042c65585d76f0",
    "n04a": "358861f590b58ae883138001ad96746bbb11df7581229ac84927207525d3ed4e",
    "n04b": "7a7eae645d106cda7a69bcb8d16bdc6b1bf00f9bfb3d9b5998bc0a2ec700d2ae",
    "n05": "05c09c58c719225a4c86065fd8540ed83e718d2e3e7795413cc8141bea51cbb2",
    "n06a": "5b2fd34286b6ba2add03ce61e3e0ace350732c34ec6332ed33b18e03d236148f",
    "n06b": "509495616506a8dbfb710754905e71e2cadde6c542a52b85d44d5e9aee81ddd6",
    "n11": "e5403a2f61ad98faf092972cd296308478099cabf72e47d62e32a6270ab13f46",
}
MULTI_ANSWER_POINTS = 3  # k1 to k3 (choose all that apply); every other question is worth 1


def points(question: PrintedQuestion) -> int:
    return MULTI_ANSWER_POINTS if question.option_pointers else 1


def reread(question: PrintedQuestion) -> str:
    """Where the answer is taught: per statement for a multi-answer question."""
    if question.option_pointers:
        return "; ".join(f"{letter}) {where}" for letter, where in question.option_pointers.items())
    return question.pointer


@pytest.fixture(scope="module")
def answers(drill) -> dict[str, str]:
    """The learner's answers, read once from the drill folder of the implementation under test."""
    try:
        return load_answers(drill.folder / ANSWERS_FILE)
    except AnswerFormatError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.mark.parametrize(
    "question", [pytest.param(q, id=q.id, marks=pytest.mark.points(points(q))) for q in QUESTIONS.values()]
)
def test_answer(answers: dict[str, str], question: PrintedQuestion) -> None:
    """The answer to one question of QUESTIONS.md is right."""
    try:
        letters = normalise(answers.get(question.id, ""))
    except AnswerFormatError as error:
        pytest.fail(f"{question.id}: {error}", pytrace=False)
    if not letters:
        pytest.fail(f"{question.id} has no answer yet: write the letter(s) you choose in {ANSWERS_FILE}", pytrace=False)
    digest = KEY[question.id]
    if answer_hash(question.id, letters, SALT) == digest:
        return
    if question.option_pointers:
        missing, extra = missing_and_extra(question.id, letters, digest, SALT, "".join(question.options))
        pytest.fail(
            f"{question.id}: {letters!r} is not exactly the right set: {missing} right letter(s) missing, "
            f"{extra} wrong one(s) chosen. Re-read, per statement: {reread(question)}.",
            pytrace=False,
        )
    pytest.fail(f"{question.id}: {letters!r} is not the answer. Re-read {reread(question)}.", pytrace=False)

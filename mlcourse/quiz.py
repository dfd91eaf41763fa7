"""Salted hashes for the knowledge-check drill, so its answer key is never in plain text.

The checks keep one hash per question; the learner's answer is normalised, hashed the same
way and compared. An instructor makes the key from an answered file:

    python -m mlcourse.quiz key solutions/d7_knowledge_check/answers.toml --salt d7-v1

A hash hides the key from a reader of the learner's bundle; it does not stop someone who
hashes every combination of letters on purpose (that takes more effort than answering).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

LETTERS = re.compile(r"[a-f]")
HEADING = re.compile(r"^\*\*([a-z]\d+[a-z]?) · ", re.MULTILINE)  # "**q01 · The lazy scan.** ..."
OPTION = re.compile(r"(?:^- |\s·\s)([a-f])\) ", re.MULTILINE)  # "- a) ..." or inline "a) 1 · b) 2"
POINTER = re.compile(r"\*\(([^)]*(?:\([^)]*\)[^)]*)*)\)\*\s*$")  # a trailing "*(notebook 05, section 3)*"


class AnswerFormatError(ValueError):
    """An answer is not a set of choice letters, or the answers file cannot be read."""


def normalise(answer: str) -> str:
    """Choice letters in any case, order or separator ("B, d", "db") become "b,d"."""
    text = re.sub(r"[\s,;]+", "", answer.lower())
    if not text:
        return ""
    if not all(LETTERS.fullmatch(char) for char in text):
        raise AnswerFormatError(f'{answer!r}: answer with choice letters a to f only, e.g. "b" or "a,c"')
    return ",".join(sorted(set(text)))


def answer_hash(question_id: str, answer: str, salt: str) -> str:
    """The stored form of one answer: SHA-256 of salt, question id and the normalised letters."""
    return hashlib.sha256(f"{salt}\x00{question_id}\x00{normalise(answer)}".encode()).hexdigest()


@dataclass(frozen=True)
class PrintedQuestion:
    """One question as QUESTIONS.md prints it: its options and where each part is taught."""

    id: str
    pointer: str  # the sections named after the stem
    options: dict[str, str]  # letter -> text, without its pointer
    option_pointers: dict[str, str]  # letter -> the sections named after that option (multi-answer ones)


def read_questions(path: Path) -> dict[str, PrintedQuestion]:
    """The questions of a QUESTIONS.md, so the checks and the tests read the pointers from one place."""
    blocks = HEADING.split(Path(path).read_text(encoding="utf-8"))[1:]
    questions = {}
    for question_id, body in zip(blocks[::2], blocks[1::2]):
        parts = OPTION.split(body.split("\n## ")[0])
        stem = POINTER.search(parts[0].strip())
        options, pointers = {}, {}
        for letter, text in zip(parts[1::2], parts[2::2]):
            text = " ".join(text.split())
            if found := POINTER.search(text):
                pointers[letter], text = found.group(1), text[: found.start()].rstrip()
            options[letter] = text
        pointer = " ".join(stem.group(1).split()) if stem else ""
        questions[question_id] = PrintedQuestion(question_id, pointer, options, pointers)
    return questions


def missing_and_extra(question_id: str, answer: str, digest: str, salt: str, choices: str) -> tuple[int, int]:
    """How many right letters an answer lacks and how many wrong ones it has, found by hashing every subset.

    A multi-answer question's failure says this much, so a learner knows whether to add or drop a letter.
    """
    given = set(normalise(answer).split(",")) - {""}
    for size in range(len(choices) + 1):
        for subset in itertools.combinations(choices, size):
            if answer_hash(question_id, ",".join(subset), salt) == digest:
                return len(set(subset) - given), len(given - set(subset))
    raise AnswerFormatError(f"{question_id}: no set of the letters {choices} matches the key")


def load_answers(path: Path) -> dict[str, str]:
    """The answers file: one ``question_id = "letters"`` line per question (TOML)."""
    try:
        answers = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AnswerFormatError(f"{path} is missing: answer in the drill's answers.toml") from error
    except tomllib.TOMLDecodeError as error:
        raise AnswerFormatError(f'{path} is not valid TOML ({error}): keep lines like q01 = "b"') from error
    not_text = sorted(key for key, value in answers.items() if not isinstance(value, str))
    if not_text:
        raise AnswerFormatError(f'{path}: answers must be quoted strings, e.g. q01 = "b"; fix {", ".join(not_text)}')
    return answers


def make_key(path: Path, salt: str) -> dict[str, str]:
    """Hash every answer of an answered file (the instructor's tool)."""
    answers = load_answers(path)
    empty = sorted(key for key, value in answers.items() if not normalise(value))
    if empty:
        raise AnswerFormatError(f"{path}: no answer for {', '.join(empty)}")
    return {key: answer_hash(key, value, salt) for key, value in answers.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mlcourse.quiz", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("key", help="print the hashed key of an answered file, ready to paste into a check")
    key.add_argument("answers", type=Path)
    key.add_argument("--salt", required=True)
    args = parser.parse_args(argv)
    for question_id, digest in make_key(args.answers, args.salt).items():
        print(f'    "{question_id}": "{digest}",')


if __name__ == "__main__":
    main()

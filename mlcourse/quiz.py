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
import re
import tomllib
from pathlib import Path

LETTERS = re.compile(r"[a-f]")


class AnswerFormatError(ValueError):
    """An answer is not a set of choice letters, or the answers file cannot be read."""


def normalise(answer: str) -> str:
    """Choice letters in any case, order or separator ("B, d", "db") become "b,d"."""
    text = re.sub(r"[\s,;]+", "", answer.lower())
    if not text:
        return ""
    if not all(LETTERS.fullmatch(char) for char in text):
        raise AnswerFormatError(f"{answer!r}: answer with choice letters a to f only, e.g. \"b\" or \"a,c\"")
    return ",".join(sorted(set(text)))


def answer_hash(question_id: str, answer: str, salt: str) -> str:
    """The stored form of one answer: SHA-256 of salt, question id and the normalised letters."""
    return hashlib.sha256(f"{salt}\x00{question_id}\x00{normalise(answer)}".encode()).hexdigest()


def load_answers(path: Path) -> dict[str, str]:
    """The answers file: one ``question_id = "letters"`` line per question (TOML)."""
    try:
        answers = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AnswerFormatError(f"{path} is missing: answer in the drill's answers.toml") from error
    except tomllib.TOMLDecodeError as error:
        raise AnswerFormatError(f"{path} is not valid TOML ({error}): keep lines like q01 = \"b\"") from error
    not_text = sorted(key for key, value in answers.items() if not isinstance(value, str))
    if not_text:
        raise AnswerFormatError(f"{path}: answers must be quoted strings, e.g. q01 = \"b\"; fix {', '.join(not_text)}")
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

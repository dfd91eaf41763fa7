"""The knowledge check's hashing: answers normalise, the key hides letters, bad input is refused clearly."""

from __future__ import annotations

import pytest

from mlcourse.quiz import AnswerFormatError, answer_hash, load_answers, main, make_key, normalise


def test_letters_normalise_in_any_case_order_or_separator():
    assert normalise("B, d") == normalise("db") == normalise(" d;b ") == "b,d"
    assert normalise("  ") == ""


def test_anything_but_choice_letters_is_refused():
    with pytest.raises(AnswerFormatError, match="letters a to f"):
        normalise("the event loop")


def test_hash_depends_on_salt_question_and_answer_but_not_spelling():
    base = answer_hash("q01", "a,c", "s")
    assert base == answer_hash("q01", "C A", "s")
    assert len({base, answer_hash("q02", "a,c", "s"), answer_hash("q01", "a", "s"), answer_hash("q01", "a,c", "t")}) == 4


def test_key_tool_hashes_an_answered_file_and_refuses_a_blank_one(tmp_path, capsys):
    answered = tmp_path / "answers.toml"
    answered.write_text('q01 = "b"\nk1 = "c, a"\n')
    assert make_key(answered, "s") == {"q01": answer_hash("q01", "b", "s"), "k1": answer_hash("k1", "a,c", "s")}
    main(["key", str(answered), "--salt", "s"])
    assert answer_hash("k1", "a,c", "s") in capsys.readouterr().out
    answered.write_text('q01 = ""\n')
    with pytest.raises(AnswerFormatError, match="no answer for q01"):
        make_key(answered, "s")


@pytest.mark.parametrize("text, message", [('q01 = b', "not valid TOML"), ("q01 = 2", "quoted strings")])
def test_a_malformed_answers_file_says_how_to_fix_it(tmp_path, text, message):
    path = tmp_path / "answers.toml"
    path.write_text(text)
    with pytest.raises(AnswerFormatError, match=message):
        load_answers(path)
    with pytest.raises(AnswerFormatError, match="missing"):
        load_answers(tmp_path / "absent.toml")

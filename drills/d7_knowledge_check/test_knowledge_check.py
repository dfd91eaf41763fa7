"""Drill d7: the knowledge check and the quiz, graded from the learner's answers.toml.

The key is stored as salted hashes (``mlcourse.quiz``), never as letters: the learner's
bundle does not give the answers away. Each question is one check; a wrong answer names the
section to re-read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mlcourse.quiz import AnswerFormatError, answer_hash, load_answers, normalise

SALT = "d7-v1"
ANSWERS_FILE = "answers.toml"


@dataclass(frozen=True)
class Question:
    id: str
    points: int
    digest: str  # answer_hash(id, right letters, SALT)
    reread: str  # where the answer is taught


QUESTIONS = [
    Question("k1", 3, "a860e115f97d1780af6d8ad731333e0bff0036494aef5e4c0a98191ee796fdca",
             "notebook 05, sections 2 to 5 (batching, bounded queues, inference off the event loop), and notebook 06, section 2 (blocking calls and the GIL)"),
    Question("k2", 3, "85f39b8f159fdb70b323242fb42de1128614805f847ed142c76bb2a70a44a357",
             "notebook 02, section 6 (a big CSV, eagerly and lazily), and notebook 05, section 3 (overload and bounded queues)"),
    Question("k3", 3, "cb220c2d891f63124f0b36df2232657a869b66d6b3c877ba37f6b926e025f3f8",
             "notebook 06, sections 3 to 5 (messages on a byte stream, supervision, deciding), and docs/elixir-to-python.md"),
    Question("q01", 1, "e7eba49c359dc5764dab769835ec4ff4719a7020d1c6b7d76654dc8cad312bc3",
             "notebook 02, section 6 (a big CSV, eagerly and lazily)"),
    Question("q02", 1, "1ef0d8bf8003e506b6c66ed0464537249b5b4e94e0e793505304e452d64655c2",
             "notebook 05, sections 2 and 3 (the bounded queue), and docs/elixir-to-python.md, section 'Streams and backpressure'"),
    Question("q03", 1, "c6cd51d0afb9bce5da54b4f1e2caec3ea360e96422be73f77050b1dab1ea865e",
             "notebook 05, section 3 (overload) and drill d1's README (429 on overflow)"),
    Question("q04", 1, "abd4b6c8de3fd95a857675adf72fcbe4c8182bfd2c103fec5df13b336c240f11",
             "notebook 06, section 4 (supervision), the part on orphans"),
    Question("q05", 1, "69fbf67965c718a1b4e29bb0c2eac0ae34b77f84c2a640886948059b990315f3",
             "notebook 06, section 3 (messages on a byte stream)"),
    Question("q06", 1, "471d19bd0cbee424da7b4653fb71e98214324e053b87fa7fbc34218dad376337",
             "docs/elixir-to-python.md, section 'Serving' (REST and gRPC)"),
    Question("q07", 1, "5ed623ac76e34c0d1cdf3de4cb74059e1c61aa8aa417dcc2c85f0a1f9a5ca307",
             "notebook 05, section 3 (overload), and docs/elixir-to-python.md, section 'Clients'"),
    Question("q08", 1, "01acbff2373e77dc2b9a57649b35272f2e4a1f84c9248fcef3690b2dc35de88f",
             "notebook 01, sections 2 and 3 (pure functions and jax.jit; tracing)"),
    Question("q09", 1, "070d9408a417aa73b49cfd78f7116adfd27a4e071fb35c96be106bc3a5eb6608",
             "notebook 01, section 1 (arrays, shapes and dtypes: immutability)"),
    Question("q10", 1, "808cd636f9e210402f8333c9406bc961394577809823e721c16b4deeef5206f1",
             "notebook 05, section 2 (a size-or-timeout batcher)"),
    Question("n01a", 1, "1705926f55a6c28c46f347a925f1a0639b1bdeadae75be3fac0b6dd79f620bfd",
             "notebook 01, section 3 (tracing, and recompilation when a shape changes)"),
    Question("n01b", 1, "ddeddb6143397e31df46e5be362bb47982eb35597fa7d29e4eae6b926dfcd344",
             "notebook 01, section 7 (random numbers: keys, not a global seed)"),
    Question("n02a", 1, "0d1b6075ff672f20c0edb1206e993acfd6883198591c46ed3013ac4d98ff2ea1",
             "notebook 02, section 1 (reading a CSV and checking the schema)"),
    Question("n02b", 1, "8e1f490179d2650d4c98e1459b8c5c31f59d73b99f21207f5c217b3f3fdc9229",
             "notebook 02, section 4 (z-scores without leakage)"),
    Question("n03a", 1, "5bd0036b62698575302d32caed7753d88104e6fc2a4fda8630594c2010c5fe09",
             "notebook 03, section 6 (split and merge; train and eval modes)"),
    Question("n03b", 1, "069d0b5aede070c5df66ad0c03d4cbbff7663e199040ae0d7b042c65585d76f0",
             "notebook 03, section 5 (checkpoint) and its exercise 4"),
    Question("n04a", 1, "358861f590b58ae883138001ad96746bbb11df7581229ac84927207525d3ed4e",
             "notebook 04, section 5 (padding, the attention mask, truncation)"),
    Question("n04b", 1, "7a7eae645d106cda7a69bcb8d16bdc6b1bf00f9bfb3d9b5998bc0a2ec700d2ae",
             "notebook 04, section 6 (latency against batch size and sequence length)"),
    Question("n05", 1, "05c09c58c719225a4c86065fd8540ed83e718d2e3e7795413cc8141bea51cbb2",
             "notebook 05, section 3 (overload: an unbounded queue lets latency explode)"),
    Question("n06a", 1, "5b2fd34286b6ba2add03ce61e3e0ace350732c34ec6332ed33b18e03d236148f",
             "notebook 06, section 2 (blocking calls and the GIL)"),
    Question("n06b", 1, "25b6d0812e353c39574ffd2cfbc11432f5102c192bb1ba1cf693a44cb2dc0801",
             "notebook 06, section 4 (supervision), the part on restart intensity"),
    Question("n11", 1, "e5403a2f61ad98faf092972cd296308478099cabf72e47d62e32a6270ab13f46",
             "notebook 11, section 2 (the fitness of a whole population with vmap)"),
]


@pytest.fixture(scope="module")
def answers(drill) -> dict[str, str]:
    """The learner's answers, read once from the drill folder of the implementation under test."""
    try:
        return load_answers(drill.folder / ANSWERS_FILE)
    except AnswerFormatError as error:
        pytest.fail(str(error))


@pytest.mark.parametrize(
    "question", [pytest.param(q, id=q.id, marks=pytest.mark.points(q.points)) for q in QUESTIONS]
)
def test_answer(answers: dict[str, str], question: Question) -> None:
    """The answer to one question of QUESTIONS.md is right."""
    given = answers.get(question.id, "")
    try:
        letters = normalise(given)
    except AnswerFormatError as error:
        pytest.fail(f"{question.id}: {error}")
    if not letters:
        pytest.fail(f"{question.id} has no answer yet: write the letter(s) you choose in {ANSWERS_FILE}")
    if answer_hash(question.id, letters, SALT) != question.digest:
        several = " (every right letter, and only those)" if question.points > 1 else ""
        pytest.fail(f"{question.id}: {letters!r} is not the answer{several}. Re-read {question.reread}.")

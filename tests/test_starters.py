"""Drill starters state goals and point at the lesson; hints are folded; no line of the reference leaks.

A learner stuck on a starter reads its ``NotImplementedError``: it says what the piece must do, in
which notebook section that is taught, and that the drill README's Hints section holds more. The
hints are folded (``<details>``), so a learner opens them only when stuck. And no starter or README
hands over a line of the reference: a pasted line turns the drill into copying.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator

import pytest

from mlcourse.course_refs import NOTEBOOK_REF, check_text
from mlcourse.impl import not_implemented_raises, own_modules
from mlcourse.paths import REPO_ROOT

CODE_DRILLS = sorted(p.name for p in (REPO_ROOT / "drills").glob("d[1-6]_*") if p.is_dir() and any(p.glob("*.py")))
HINTS_POINTER = "README.md, Hints"
SHORTEST_LEAK = 30  # characters: below this a shared line is an idiom (`return None`), not the reference's code
# a call of one of the drill's own functions on plain names, as the README's table names the piece
OWN_CALL = re.compile(r"^(\w+)\(\w+(?:, \w+)*\)$")
HINTS_SECTION = re.compile(r"^## Hints[ \t]*\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
DETAILS_BLOCK = re.compile(r"<details>\s*<summary>.+?</summary>[ \t]*\n[ \t]*\n.*?</details>", re.DOTALL)
# what a line may open with and still carry the reference's expression: `return`, `x = `, `a, b = `
LEAD = re.compile(r"^(?:(?:return|yield from|yield|await|raise|assert)\s+|(?:[\w.]+\s*(?:,\s*[\w.]+\s*)*)=(?!=)\s*)")


def not_implemented_messages(source: str) -> Iterator[tuple[int, str | None]]:
    """(line, message) of each ``raise NotImplementedError(...)``; message None when it is not one string."""
    for node in not_implemented_raises(source):
        args = node.exc.args if isinstance(node.exc, ast.Call) else []
        text = args[0].value if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str) else None
        yield node.lineno, text


def message_problems(message: str | None) -> list[str]:
    """Why one starter message does not follow the convention (empty when it does)."""
    if message is None:
        return ["its message is not one string"]
    problems = []
    if not any(match.group(3) for match in NOTEBOOK_REF.finditer(message)):
        problems.append('it names no "notebook NN, section K" where the piece is taught')
    problems += [problem.why for problem in check_text("message", message)]
    if HINTS_POINTER not in message:
        problems.append(f'it does not point at "{HINTS_POINTER}"')
    return problems


@pytest.mark.parametrize("drill", CODE_DRILLS)
def test_every_starter_message_names_its_lesson_and_the_hints(drill: str) -> None:
    found, bad = 0, []
    for path in own_modules(REPO_ROOT / "drills" / drill):
        for line, message in not_implemented_messages(path.read_text(encoding="utf-8")):
            found += 1
            bad += [f"{path.relative_to(REPO_ROOT)}:{line}: {why}" for why in message_problems(message)]
    if not found:  # a learner's finished drill (in the learners' bundle); bracketing proves the course's are blank
        pytest.skip(f"drills/{drill} raises no NotImplementedError: its pieces are written")
    assert not bad, (
        'each starter message reads "<the goal>. Taught in notebook NN, section K; stuck: README.md, Hints." '
        "(NN and K a real numbered heading):\n" + "\n".join(bad)
    )


def hints_problems(readme: str) -> list[str]:
    """Why a drill README's Hints section is missing, out of place, or holds more than folded blocks."""
    sections = HINTS_SECTION.findall(readme)
    if len(sections) != 1:
        return [f"it has {len(sections)} '## Hints' sections, expected one"]
    body = sections[0]
    blocks = DETAILS_BLOCK.findall(body)
    rest = DETAILS_BLOCK.sub("", body).strip()
    problems = []
    if not blocks:
        problems.append("'## Hints' holds no <details><summary>...</summary> block (blank line after </summary>)")
    if rest:
        problems.append(f"'## Hints' holds text outside its <details> blocks: {rest[:120]!r}")
    if body.count("<details>") != len(blocks):
        problems.append("a <details> block in '## Hints' lacks its <summary>, the blank line after it, or </details>")
    instructors = readme.find("## For instructors")
    if instructors != -1 and readme.find("## Hints") > instructors:
        problems.append("'## Hints' comes after '## For instructors'")
    return problems


@pytest.mark.parametrize("drill", CODE_DRILLS)
def test_each_readme_folds_its_hints(drill: str) -> None:
    problems = hints_problems((REPO_ROOT / "drills" / drill / "README.md").read_text(encoding="utf-8"))
    assert not problems, f"drills/{drill}/README.md: " + "; ".join(problems)


def test_hints_rule_accepts_folded_blocks_and_rejects_loose_text() -> None:
    folded = "## Hints\n\n<details><summary>read_rows</summary>\n\nNotebook 08, section 1.\n\n</details>\n\n## Next\n"
    assert hints_problems(folded) == []
    assert hints_problems(folded.replace("</summary>\n\n", "</summary>\n"))  # would not render as Markdown
    assert hints_problems(folded.replace("</details>\n", "</details>\n\n* a loose hint\n"))
    assert hints_problems("## Run it\n")


# --- (3) no line of the reference in the starters or the README -------------------------------------------------


def without_comments(source: str) -> list[str]:
    """The source's lines with their comments cut off (tokenized, so a ``#`` inside a string stays)."""
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    return lines


def signature_and_docstring_lines(tree: ast.Module) -> set[int]:
    """Lines of docstrings and of def/class headers (a signature spread over several lines included)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.update(range(node.lineno, node.body[0].lineno))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                found.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return found


def body_dump(node: ast.AST) -> str:
    """A definition's body without its docstring, to tell given code (the same in both) from the learner's."""
    body = list(getattr(node, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def split_by_design(reference: ast.Module, starter: ast.Module) -> tuple[set[int], set[int]]:
    """(reference lines the learner writes, reference lines the starter gives as they are).

    A function or method whose body the starter has unchanged is given; so is a module- or class-level
    statement the starter holds too. Every other statement's lines are the learner's to write.
    """
    learner: set[int] = set()
    given: set[int] = set()

    def lines_of(node: ast.AST) -> set[int]:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
        return set(range(start, (node.end_lineno or node.lineno) + 1))  # type: ignore[attr-defined]

    def walk(ours: list[ast.stmt], theirs: list[ast.stmt]) -> None:
        defs = {n.name: n for n in theirs if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        plain = {
            ast.dump(n) for n in theirs if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        for node in ours:
            twin = defs.get(getattr(node, "name", ""))
            if isinstance(node, ast.ClassDef) and isinstance(twin, ast.ClassDef):
                walk(node.body, twin.body)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                same = type(twin) is type(node) and body_dump(twin) == body_dump(node)
                (given if same else learner).update(lines_of(node))
            else:
                (given if ast.dump(node) in plain else learner).update(lines_of(node))

    walk(reference.body, starter.body)
    return learner, given - learner


def fragment(line: str) -> str:
    """A code line as the text a leak would carry: stripped, spaces collapsed, a leading `return`/`x =` cut."""
    return LEAD.sub("", " ".join(line.split()))


def is_signature_or_boilerplate(line: str) -> bool:
    text = line.strip()
    return text.startswith(("def ", "async def ", "class ", "@", "import ", "from ")) or not text


def reference_fragments(reference_source: str, starter_source: str | None) -> set[str]:
    """The reference's code lines a learner writes (each at least SHORTEST_LEAK characters), as fragments.

    Left out: docstrings and comments, def/class signatures, decorators and imports, and every line of
    what the starter gives unchanged (a helper, a constant), which the learner reads by design.
    """
    tree = ast.parse(reference_source)
    starter = ast.parse(starter_source) if starter_source is not None else ast.Module(body=[], type_ignores=[])
    learner, given = split_by_design(tree, starter)
    lines, docs = without_comments(reference_source), signature_and_docstring_lines(tree)

    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def fragments(numbers: set[int]) -> set[str]:
        kept = (lines[n - 1] for n in numbers if n not in docs and not is_signature_or_boilerplate(lines[n - 1]))
        return {text for text in map(fragment, kept) if len(text) >= SHORTEST_LEAK and not names_a_call(text)}

    def names_a_call(text: str) -> bool:  # `fit_stats(train, target, classes)`: the README names it so
        call = OWN_CALL.match(text)
        return call is not None and call.group(1) in defined

    return fragments(learner) - fragments(given)


def leaks(fragments: set[str], text: str) -> list[str]:
    """The fragments found in ``text`` (spaces collapsed, so line breaks and indents do not hide one)."""
    flat = " ".join(text.split())
    return sorted(f for f in fragments if f in flat)


PLANTED_REFERENCE = '''
def given(response):
    """Given to the learner as it is."""
    return body if isinstance(body, dict) and all(key in body for key in keys) else None


def learners(path, columns):
    """The learner's to write."""
    scan = pl.scan_csv(path, infer_schema=False)  # every column a string
    missing = [name for name in ("id", "text") if name not in columns]
    return None
'''
PLANTED_STARTER = '''
def given(response):
    """Given to the learner as it is, with a starter's own docstring."""
    return body if isinstance(body, dict) and all(key in body for key in keys) else None


def learners(path, columns):
    """The learner's to write."""
    raise NotImplementedError("read the CSV lazily. Taught in notebook 08, section 1; stuck: README.md, Hints.")
'''


def test_leak_matcher_catches_a_planted_reference_line_and_passes_given_code() -> None:
    fragments = reference_fragments(PLANTED_REFERENCE, PLANTED_STARTER)
    assert fragments == {
        "pl.scan_csv(path, infer_schema=False)",
        '[name for name in ("id", "text") if name not in columns]',
    }
    assert leaks(fragments, PLANTED_STARTER) == []  # the given helper and the docstrings are no leak
    pasted = PLANTED_STARTER.replace(
        "    raise", "    lazy = pl.scan_csv(path,\n        infer_schema=False)\n    raise"
    )
    assert leaks(fragments, pasted) == ["pl.scan_csv(path, infer_schema=False)"]
    hint = "In a hint: `return pl.scan_csv(path, infer_schema=False)` would hand it over."
    assert leaks(fragments, hint) == ["pl.scan_csv(path, infer_schema=False)"]
    assert leaks(fragments, "Read it with `pl.scan_csv` (every column a string: `infer_schema=False`).") == []


@pytest.mark.needs_solutions
@pytest.mark.parametrize("drill", CODE_DRILLS)
def test_no_reference_line_in_the_starters_or_the_readme(drill: str) -> None:
    solution = REPO_ROOT / "solutions" / drill
    fragments: set[str] = set()
    for reference in sorted(solution.glob("*.py")):
        starter = REPO_ROOT / "drills" / drill / reference.name
        starter_source = starter.read_text(encoding="utf-8") if starter.is_file() else None
        fragments |= reference_fragments(reference.read_text(encoding="utf-8"), starter_source)
    places = [*own_modules(REPO_ROOT / "drills" / drill), REPO_ROOT / "drills" / drill / "README.md"]
    found = {
        str(path.relative_to(REPO_ROOT)): hits
        for path in places
        if (hits := leaks(fragments, path.read_text(encoding="utf-8")))
    }
    assert not found, f"lines of solutions/{drill} appear in what the learner reads: {found}"

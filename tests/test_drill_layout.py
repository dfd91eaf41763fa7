"""Starters and solutions never drift apart, and each drill README's points table matches its checks.

A learner works from the starter and is graded by checks written against the solution: a starter
that names a function differently, takes other arguments or holds another constant would fail
checks for a reason the learner cannot see. A README whose points table disagrees with the
checks' markers promises a grade the harness does not give.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Callable
from types import ModuleType

import pytest

from mlcourse.drill_readme import readme_points
from mlcourse.paths import REPO_ROOT

pytestmark = pytest.mark.needs_solutions  # tests the reference implementations

DRILLS = sorted(p.name for p in (REPO_ROOT / "drills").glob("d*_*") if (REPO_ROOT / "solutions" / p.name).is_dir())
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def learner_modules(drill: str) -> list[str]:
    """The modules a learner writes: every .py of the solution but checks and fixtures."""
    folder = REPO_ROOT / "solutions" / drill
    return sorted(
        p.stem for p in folder.glob("*.py") if not p.name.startswith(("test_", "conftest")) and p.stem != "__main__"
    )


def public_surface(module: ModuleType) -> dict[str, str]:
    """Name -> signature (functions, classes and their public methods) or repr (constants) defined here."""
    surface: dict[str, str] = {}
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if callable(value) and not inspect.ismodule(value):
            if getattr(value, "__module__", None) != module.__name__:
                continue  # imported, not defined here (a jax.jit-wrapped function keeps its module)
            surface[name] = signature(value)
            if inspect.isclass(value):
                for attr, member in vars(value).items():
                    if not attr.startswith("_") or attr == "__init__":
                        surface[f"{name}.{attr}"] = member_surface(member)
        elif CONSTANT.match(name) and not inspect.ismodule(value):
            surface[name] = ADDRESS.sub("", repr(value))
    return surface


def member_surface(member: object) -> str:
    if isinstance(member, property):
        return "property"
    if isinstance(member, (staticmethod, classmethod)):
        return f"{type(member).__name__}{signature(member.__func__)}"
    return signature(member) if callable(member) else ADDRESS.sub("", repr(member))


def signature(obj: Callable[..., object]) -> str:
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        text = type(obj).__name__
    return ADDRESS.sub("", text)  # a default such as a lambda prints its address


@pytest.mark.parametrize("drill", DRILLS)
def test_starter_exposes_the_solutions_public_names_signatures_and_constants(drill):
    for name in learner_modules(drill):
        starter = public_surface(importlib.import_module(f"drills.{drill}.{name}"))
        solution = public_surface(importlib.import_module(f"solutions.{drill}.{name}"))
        missing = sorted(solution.keys() - starter.keys())
        extra = sorted(starter.keys() - solution.keys())
        changed = sorted(k for k in solution.keys() & starter.keys() if solution[k] != starter[k])
        assert not (missing or extra or changed), (
            f"drills/{drill}/{name}.py drifted from solutions/{drill}/{name}.py: missing {missing}, extra {extra}, "
            f"different {[(k, starter[k], solution[k]) for k in changed]}"
        )


@pytest.fixture(scope="module")
def collected_checks(tmp_path_factory) -> dict:
    """Every pointed check as the harness collects it (parametrized instances included), without running one."""
    grades = tmp_path_factory.mktemp("collect") / "grades.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "drills",
            "--impl",
            "solutions",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--grades",
            str(grades),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0 and grades.exists(), result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(grades.read_text())["drills"]


@pytest.mark.parametrize("drill", sorted(p.name for p in (REPO_ROOT / "drills").glob("d*_*")))
def test_readme_points_table_matches_the_checks(drill, collected_checks):
    carried = collected_checks.get(drill, {}).get("possible", 0)
    readme = REPO_ROOT / "drills" / drill / "README.md"
    assert readme.is_file(), f"drills/{drill} has no README.md: the task and its points table go there"
    listed, total = readme_points(readme)
    assert listed == carried, (
        f"drills/{drill}/README.md's points table adds up to {listed} points, its checks carry {carried}"
    )
    assert total in (None, carried), f"drills/{drill}/README.md says the total is {total}, its checks carry {carried}"

"""Resolve which implementation of a drill is graded or run.

One rule for the grading harness and for every launcher (`make serve`,
benchmarks): ``drills`` is the learner's code, ``solutions`` the reference, and
any other value is a folder laid out like ``drills/`` (a learner's submission).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from mlcourse.paths import REPO_ROOT

BUILTIN = ("drills", "solutions")
DRILL_FOLDER = re.compile(r"^d\d+_[a-z0-9_]+$")  # what makes a folder a drill: dN_name


class ImplementationError(LookupError):
    """The requested implementation or drill does not exist."""


@dataclass(frozen=True)
class Implementation:
    """A set of drill packages: a dotted prefix and the folder that must be on sys.path."""

    label: str
    search_path: Path
    prefix: str  # "drills." / "solutions." / "" for a submission folder

    @classmethod
    def parse(cls, value: str) -> Implementation:
        if value in BUILTIN:
            return cls(value, REPO_ROOT, f"{value}.")
        folder = Path(value).expanduser().resolve()
        if not folder.is_dir():
            raise ImplementationError(
                f"--impl {value!r}: expected 'drills', 'solutions' or a folder laid out like drills/"
            )
        return cls(str(folder), folder, "")

    def drill(self, name: str) -> Drill:
        return Drill(self, name)


@dataclass(frozen=True)
class Drill:
    """One drill of one implementation: import its modules here, or run it in a child process."""

    impl: Implementation
    name: str  # e.g. "d2_jit_matmul"

    @property
    def package(self) -> str:
        """Dotted name usable with ``import`` or ``python -m``."""
        return f"{self.impl.prefix}{self.name}"

    @property
    def folder(self) -> Path:
        return self.impl.search_path / self.impl.prefix.rstrip(".") / self.name

    def module(self, submodule: str | None = None) -> ModuleType:
        """Import ``<package>.<submodule>`` (or the package itself)."""
        if not self.folder.is_dir():
            raise ImplementationError(f"{self.impl.label} has no drill folder {self.name}/ ({self.folder})")
        path = str(self.impl.search_path)
        if path not in sys.path:
            sys.path.insert(0, path)
        dotted = self.package if submodule is None else f"{self.package}.{submodule}"
        return importlib.import_module(dotted)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a child process that runs ``python -m <package>``."""
        env = dict(os.environ if base is None else base)
        paths = [str(self.impl.search_path), str(REPO_ROOT)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        return env


def reference_impl() -> str:
    """``solutions`` where the reference implementations exist, else ``drills``.

    The learners' bundle (``make release``) has no ``solutions/``: there the course's tools and the
    notebooks that call the model service run the learner's own drills, once they pass their checks.
    """
    return "solutions" if (REPO_ROOT / "solutions").is_dir() else "drills"


def implementation_of(package: str) -> str:
    """The ``--impl`` value a drill package belongs to: ``drills.d5_x`` -> ``drills``; a submission's ``d5_x`` -> its folder."""
    prefix, _, _ = package.rpartition(".")
    if prefix:
        return prefix
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ImplementationError(f"no importable drill package {package!r}")
    return str(Path(spec.origin).parent.parent)


def load_drill(impl: str, name: str) -> Drill:
    """Shorthand for launchers: ``load_drill("solutions", "d1_sentiment_api").module("app")``."""
    return Implementation.parse(impl).drill(name)

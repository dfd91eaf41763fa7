"""Resolve which implementation of a drill is graded or run.

One rule for the grading harness and for every launcher (`make serve`,
benchmarks): ``drills`` is the learner's code, ``solutions`` the reference, and
any other value is a folder laid out like ``drills/`` (a learner's submission).
"""

from __future__ import annotations

import ast
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


class DrillNotFinished(RuntimeError):
    """A lesson or a course tool runs a drill whose starters still raise ``NotImplementedError``."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the message says what to do."""
        return [f"{type(self).__name__}: {self}"]


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


def own_modules(folder: Path) -> list[Path]:
    """A drill folder's own modules, the learner's to write: not its checks or their fixtures."""
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("test_") and p.name != "conftest.py")


def not_implemented_raises(source: str) -> list[ast.Raise]:
    """Each ``raise NotImplementedError`` (bare or called) in ``source``: the starters' marker of a piece to write."""
    raises = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Raise) and node.exc is not None]
    return sorted((node for node in raises if _raised_name(node) == "NotImplementedError"), key=lambda n: n.lineno)


def _raised_name(node: ast.Raise) -> str | None:
    raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return raised.id if isinstance(raised, ast.Name) else None


def unfinished_parts(drill: Drill) -> list[str]:
    """Where the drill's own modules (not its checks) still ``raise NotImplementedError``: ``app.py line 30``."""
    if not drill.folder.is_dir():
        raise ImplementationError(f"{drill.impl.label} has no drill folder {drill.name}/ ({drill.folder})")
    return [
        f"{path.name} line {node.lineno}"
        for path in own_modules(drill.folder)
        for node in not_implemented_raises(path.read_text(encoding="utf-8"))
    ]


def require_finished(impl: str, *names: str, needed_by: str) -> str:
    """``impl`` once every named drill of it is written; else `DrillNotFinished` saying which and where.

    ``needed_by`` says who asks ("notebook 08, section 3"). The rule is the starters' own marker: a drill
    is unfinished while one of its modules still raises ``NotImplementedError``.
    """
    implementation = Implementation.parse(impl)
    for name in names:
        left = unfinished_parts(implementation.drill(name))
        if left:
            shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
            raise DrillNotFinished(
                f"{needed_by} runs your drill {name}, which is not finished yet: {shown} still raise "
                f"NotImplementedError. Finish it (make grade DRILLS={name}), then run this again."
            )
    return impl


def exit_unless_finished(impl: str, *names: str, needed_by: str) -> str:
    """`require_finished` for a course tool's command line: its one-line message on stderr and exit status 2,
    before the tool's first step, instead of a traceback from inside that step."""
    try:
        return require_finished(impl, *names, needed_by=needed_by)
    except DrillNotFinished as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(2) from None

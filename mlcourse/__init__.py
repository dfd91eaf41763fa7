"""Shared, importable, never graded: what notebooks, drills, solutions and tests all need once."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``from mlcourse import check``, loaded on first use so that importing the package stays cheap."""
    if name == "check":
        from mlcourse.drill_check import check

        return check
    raise AttributeError(f"module 'mlcourse' has no attribute {name!r}")

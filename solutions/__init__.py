"""Reference implementations of every drill, graded by the same checks as the starters."""

"""Shared, importable, never graded: what notebooks, drills, solutions and tests all need once."""

"""Grading: the grade book the pytest harness fills, the starter/solution proof, class grading.

The hooks themselves live in the root ``conftest.py`` (pytest finds them there); everything that
is not a hook lives here, so the command line (``python -m mlcourse.grading``) and the tests use
the same code as the harness.
"""

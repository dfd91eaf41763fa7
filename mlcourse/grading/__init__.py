"""Grading: the grade book the pytest harness fills, the starter/solution proof, class grading, the release.

- ``gradebook``: pointed checks, their outcomes, the points table and its JSON.
- ``bracketing``: every pointed check passes on solutions/ and fails on the pristine starters.
- ``sandbox``, ``limits``, ``crosscheck``, ``feedback``, ``class_grading``: grade a class of
  possibly hostile submissions (threat model: docs/decisions/0002-class-grading-threat-model.md).
- ``release``: the learners' bundle, without solutions/ and what ``RELEASE_EXCLUDE`` lists.

The hooks themselves live in the root ``conftest.py`` (pytest finds them there); everything that
is not a hook lives here, so the command line (``python -m mlcourse.grading``) and the tests use
the same code as the harness.
"""

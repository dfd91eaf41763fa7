"""Grading: the pytest harness, the grade book it fills, the starter/solution proof, class grading, the release.

- ``plugin``: the harness's pytest hooks and fixtures (``--impl``, ``--grades``, ``drill``, ...),
  registered by the root ``conftest.py``.
- ``gradebook``: pointed checks (:class:`~mlcourse.grading.gradebook.Check`, the one record of a
  check's result), their outcomes, the points table and its JSON.
- ``bracketing``: ``make test``'s proof that every pointed check passes on solutions/ and fails on
  the pristine starters.
- ``sandbox``, ``limits``, ``crosscheck``, ``feedback``, ``items``, ``class_grading``: grade a class
  of possibly hostile submissions, and its item analysis (threat model:
  docs/decisions/0002-class-grading-threat-model.md).
- ``release``: the learners' bundle, without solutions/ and what ``RELEASE_EXCLUDE`` lists.

The command line (``python -m mlcourse.grading``), the tests and the harness use this same code.
"""

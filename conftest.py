"""The grading harness: its hooks and fixtures are the plugin ``mlcourse.grading.plugin``.

* A drill check is a test in ``drills/dN_name/`` carrying ``@pytest.mark.points(n)``.
* ``--impl drills`` (default) grades the learner's code, ``--impl solutions`` the reference,
  ``--impl PATH`` a submission folder laid out like ``drills/``.
* The run ends with a table of points per drill; ``--grades FILE`` writes it as JSON.
"""

pytest_plugins = ["mlcourse.grading.plugin"]

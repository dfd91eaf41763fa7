"""``python -m mlcourse.loadtest``: see :mod:`mlcourse.loadtest.cli`."""

import sys

from mlcourse.loadtest.cli import main

sys.exit(main())

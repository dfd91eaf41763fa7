"""``python -m mlcourse.chaos``: see :mod:`mlcourse.chaos.cli`."""

import sys

from mlcourse.chaos.cli import main

sys.exit(main())

"""``python -m solutions.d5_backpressure --out DIR``: the backpressure proof (see :mod:`.proof`)."""

import sys

from mlcourse.drill_commands.d5_backpressure import main

from .proof import POLICIES, run_proof

sys.exit(main(__package__, run_proof=run_proof, policies=POLICIES))

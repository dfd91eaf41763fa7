"""``python -m drills.d5_backpressure --out DIR``: the backpressure proof (see :mod:`.proof`)."""

import sys

from mlcourse.loadtest.proof_cli import main

from .proof import POLICIES, run_proof

sys.exit(main(None, run_proof=run_proof, policies=POLICIES, impl="drills"))

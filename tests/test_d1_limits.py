"""d1's batching limits live once, in ``mlcourse.api.contract``: the drill's signatures default to them.

The starter and the reference are kept identical by ``test_drill_layout``; this test ties both to
the contract, so that changing a limit there changes what every server of the course starts with.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from mlcourse.api import contract

pytestmark = pytest.mark.needs_solutions  # imports the reference implementation

LIMITS = {
    "max_batch_size": contract.MAX_BATCH_SIZE,
    "max_wait_ms": contract.MAX_WAIT_MS,
    "queue_limit": contract.QUEUE_LIMIT,
}


def test_the_contract_holds_the_drills_stated_limits():
    assert (contract.MAX_BATCH_SIZE, contract.MAX_WAIT_MS, contract.QUEUE_LIMIT) == (16, 50.0, 200), (
        "the drill's README states batch size 16, 50 ms, queue limit 200: change both together"
    )


@pytest.mark.parametrize("tree", ["drills", "solutions"])
@pytest.mark.parametrize(("module", "attribute"), [("app", "create_app"), ("batcher", "Batcher")])
def test_signature_defaults_are_the_contracts_limits(tree, module, attribute):
    target = getattr(importlib.import_module(f"{tree}.d1_sentiment_api.{module}"), attribute)
    parameters = inspect.signature(target).parameters
    defaults = {name: parameters[name].default for name in LIMITS if name in parameters}
    assert defaults == LIMITS, f"{tree}.d1_sentiment_api.{module}.{attribute} defaults {defaults}, contract {LIMITS}"

"""The fixed contract of drill d1's sentiment API, shared by the starter, the solution, the checks and the tools.

* ``predict_batch(texts) -> predictions``: one model call, a list in and a list of the same
  length out, in order (the real serving object and the fake model both keep it);
* every error answer has the body ``{"error": {"code": str, "message": str}}``: the code is for
  programs, the message tells a person what is wrong and what to send instead;
* the batching limits every server of the course starts with (``create_app``'s defaults, Ray Serve's);
* the documented input limits, and how long a client may take to send its body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

DRILL = "d1_sentiment_api"  # the drill whose app every server of the course runs

Prediction = dict[str, Any]  # {"label": "positive" | "negative", "score": float}
PredictBatch = Callable[[list[str]], list[Prediction]]

MAX_BATCH_SIZE = 16  # texts per model call at most: the drill's "batch size 16"
MAX_WAIT_MS = 50.0  # a batch runs at most this long after its first text queued: "or 50 ms"
QUEUE_LIMIT = 200  # texts waiting for a batch beyond which the API answers 429: "queue limit 200"
MAX_TEXT_CHARS = 2000  # longer texts are refused (422), not silently truncated
MAX_BODY_BYTES = 64 * 1024  # bigger bodies are refused (413) before they are read whole
BODY_TIMEOUT_S = 10.0  # a body not fully arrived by then is refused (408): a slow client cannot hold a connection


@dataclass
class ApiError(Exception):
    """An answer that is not a prediction: raise it anywhere, the app turns it into a response."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        body = {"error": {"code": self.code, "message": self.message}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)

"""What a caller of drill d4's port server can be told, one class per outcome (shared by starter and solution)."""


class PortServerError(Exception):
    """Base class: the request got no prediction."""


class ProtocolError(PortServerError):
    """Bytes that do not follow the protocol: too large, truncated, undecodable or the wrong version."""


class WorkerCrashed(PortServerError):
    """The worker died, or was killed, while this request was in flight."""


class RequestTimeout(PortServerError, TimeoutError):
    """No reply within the timeout; the worker that kept the request was killed and will be replaced."""


class PredictionError(PortServerError):
    """The request was refused: by the worker (e.g. the wrong number of features), or before sending (not numbers)."""


class RestartIntensityExceeded(PortServerError):
    """A worker that dies more than max_restarts times within restart_window seconds ends the supervisor."""


class NotRunning(PortServerError):
    """predict() before start() or after stop()."""

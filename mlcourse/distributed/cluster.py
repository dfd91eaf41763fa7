"""A Ray cluster for the course: small on this machine, and shut down so that no process is left behind.

``ray.init`` starts a head node (GCS, raylet, workers) as child processes of this one. On a
shared 2-core box the cluster gets few CPUs, no dashboard and a small object store. With
``RAY_ADDRESS`` set (``ray start --head`` on a real cluster) the same code joins that cluster
instead, with the cluster's token, and shutting down removes only this program's application and
disconnects: the cluster belongs to whoever started it.
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import suppress
from pathlib import Path

import psutil

from mlcourse.paths import REPO_ROOT

RAY_ENV = REPO_ROOT / "config" / "ray_env"  # what Ray's own processes import first (see its rfc3987_syntax)

STOP_TIMEOUT_S = 20.0  # Ray's processes get this long to exit after shutdown before they count as left behind
# Joining a running cluster takes a few seconds; Ray itself retries a bad token for minutes. The variable lets a
# test of the give-up (tests/test_ray_recipe.py) wait less than a driver on a slow network would.
JOIN_TIMEOUT_S = float(os.environ.get("MLCOURSE_RAY_JOIN_TIMEOUT_S", "20"))
TOKEN_HELP = (
    "give this machine the cluster's token, as Ray's token authentication expects: RAY_AUTH_MODE=token, "
    "and the head's token in ~/.ray/auth_token (copy that file; `ray get-auth-token` on the head prints it) "
    "or in RAY_AUTH_TOKEN"
)


class ClusterError(RuntimeError):
    """The cluster at ``RAY_ADDRESS`` cannot be joined: the message says what to fix."""


OBJECT_STORE_BYTES = 256 * 1024**2  # batches of short texts: a small store suffices, and leaves memory to the models


def joined() -> bool:
    """True when this program runs on someone else's cluster (``RAY_ADDRESS``), not one it started."""
    return bool(os.environ.get("RAY_ADDRESS"))


def start(num_cpus: int = 2, object_store_bytes: int = OBJECT_STORE_BYTES, attempts: int = 2) -> None:
    """Join ``RAY_ADDRESS`` if set (:func:`join`), else start a local single-node cluster with ``num_cpus`` CPUs.

    Ray gives its node fixed deadlines to come up (the raylet waits about 15 s for its agents, the
    driver 30 s for the raylet); on an overloaded machine its agents can take longer, ``ray.init``
    then fails and leaves half a node behind. That half is stopped and the start tried again.
    """
    import ray

    if joined():
        join(os.environ["RAY_ADDRESS"])
        return
    # the processes of a node started here inherit this environment
    paths = [str(RAY_ENV), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    for attempt in range(1, attempts + 1):
        before = {process.pid for process in psutil.Process().children(recursive=True)}
        try:
            ray.init(
                address="local",
                include_dashboard=False,
                log_to_driver=False,
                logging_level="warning",
                num_cpus=num_cpus,
                object_store_memory=object_store_bytes,
            )
            return
        except Exception:
            ray.shutdown()
            terminate(
                [p for p in psutil.Process().children(recursive=True) if p.pid not in before] + session_processes()
            )
            if attempt == attempts:
                raise


def join(address: str, timeout_s: float = JOIN_TIMEOUT_S) -> None:
    """Connect to the running cluster at ``address``, or raise :class:`ClusterError` within ``timeout_s``.

    As ``ray start`` does for a head, a token found here (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or
    ``~/.ray/auth_token``) turns token authentication on unless ``RAY_AUTH_MODE`` says otherwise. Ray
    retries a missing or wrong token for minutes; this gives up sooner and says which token to give.
    """
    import ray

    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as error:
        raise ClusterError(
            f"nothing answers at RAY_ADDRESS={address} ({error}): is `ray start --head` "
            "running there, and is the address HOST:PORT?"
        ) from None
    token = token_source()
    if token and "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
    failures: list[BaseException] = []
    connected = threading.Event()

    def connect() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level="warning")
        except Exception as error:  # noqa: BLE001 (handed to the caller's thread, which reports it)
            failures.append(error)
        connected.set()

    threading.Thread(target=connect, name="ray-join", daemon=True).start()
    if not connected.wait(timeout_s) or failures:
        here = (
            f"RAY_AUTH_MODE={os.environ.get('RAY_AUTH_MODE', 'unset')}, "
            f"token {'from ' + token if token else 'none found'}"
        )
        problem = f": {failures[0]}" if failures else f" within {timeout_s:.0f} s"
        raise ClusterError(
            f"could not join the Ray cluster at {address}{problem} ({here}). A cluster started "
            f"with a token refuses a driver without it: {TOKEN_HELP}"
        )


def token_source() -> str | None:
    """Where Ray would read this machine's token from, in Ray's own order, or None if it has none."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    if os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return os.environ["RAY_AUTH_TOKEN_PATH"]
    default = Path.home() / ".ray" / "auth_token"
    return str(default) if default.is_file() and default.read_text().strip() else None


def terminate(processes: list[psutil.Process], timeout_s: float = STOP_TIMEOUT_S) -> list[psutil.Process]:
    """SIGTERM these processes (ours), SIGKILL those still alive after ``timeout_s``; return any survivors."""
    for process in processes:
        with suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    for process in alive:
        with suppress(psutil.Error):
            process.kill()
    return psutil.wait_procs(alive, timeout=5)[1]


def stop(timeout_s: float = STOP_TIMEOUT_S, *, app_name: str | None = None) -> list[str]:
    """Shut Serve and Ray down; wait for the processes Ray started here; return those still alive (if any).

    On a joined cluster (``RAY_ADDRESS``) only this program's application ``app_name`` is removed and
    the driver disconnects: Serve and the cluster stay up for whoever else uses them.
    """
    import ray
    from ray import serve

    if joined():
        if ray.is_initialized():
            try:
                if app_name:
                    serve.delete(app_name)
            finally:
                ray.shutdown()
        return []
    started_here = psutil.Process().children(recursive=True)
    if ray.is_initialized():
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
    _, alive = psutil.wait_procs(started_here, timeout=timeout_s)
    alive = terminate(alive + session_processes(), timeout_s=5)  # agents whose raylet died before them
    return [f"{process.pid} {name_of(process)}" for process in alive]


def session_processes() -> list[psutil.Process]:
    """Ray's processes of the sessions this process started (their session folder ends with our pid),
    even those re-parented away from us when a raylet died under them."""
    mine = f"_{os.getpid()}"
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.pid != os.getpid() and any(
            part.startswith("session_") and part.endswith(mine) for part in cmdline.replace("=", "/").split("/")
        ):
            found.append(process)
    return found


def name_of(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return "?"

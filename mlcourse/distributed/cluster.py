"""A Ray cluster for the course: small on this machine, and shut down so that no process is left behind.

``ray.init`` starts a head node (GCS, raylet, workers) as child processes of this one. On a
shared 2-core box the cluster gets few CPUs, no dashboard and a small object store. With
``RAY_ADDRESS`` set (``ray start --head`` on a real cluster) the same code joins that cluster
instead, and shutting down only disconnects: the cluster belongs to whoever started it.
"""

from __future__ import annotations

import os
from contextlib import suppress

import psutil

from mlcourse.paths import REPO_ROOT

RAY_ENV = REPO_ROOT / "config" / "ray_env"  # what Ray's own processes import first (see its rfc3987_syntax)

STOP_TIMEOUT_S = 20.0  # Ray's processes get this long to exit after shutdown before they count as left behind
OBJECT_STORE_BYTES = 256 * 1024**2  # batches of short texts: a small store suffices, and leaves memory to the models


def start(num_cpus: int = 2, object_store_bytes: int = OBJECT_STORE_BYTES, attempts: int = 2) -> None:
    """Join ``RAY_ADDRESS`` if set, else start a local single-node cluster with ``num_cpus`` CPUs.

    Ray gives its node fixed deadlines to come up (the raylet waits about 15 s for its agents, the
    driver 30 s for the raylet); on an overloaded machine its agents can take longer, ``ray.init``
    then fails and leaves half a node behind. That half is stopped and the start tried again.
    """
    import ray

    address = os.environ.get("RAY_ADDRESS")
    if not address:  # the processes of a node started here inherit this environment
        paths = [str(RAY_ENV), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    options = {} if address else {"num_cpus": num_cpus, "object_store_memory": object_store_bytes}
    for attempt in range(1, attempts + 1):
        before = {process.pid for process in psutil.Process().children(recursive=True)}
        try:
            ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                     logging_level="warning", **options)
            return
        except Exception:
            ray.shutdown()
            terminate([p for p in psutil.Process().children(recursive=True) if p.pid not in before]
                      + session_processes())
            if attempt == attempts:
                raise


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


def stop(timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """Shut Serve and Ray down; wait for the processes Ray started here; return those still alive (if any)."""
    import ray
    from ray import serve

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
        if process.pid != os.getpid() and any(part.startswith("session_") and part.endswith(mine)
                                              for part in cmdline.replace("=", "/").split("/")):
            found.append(process)
    return found


def name_of(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return "?"

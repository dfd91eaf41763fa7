"""Peak memory of a Polars query, measured in a fresh child process.

Each measurement gets its own interpreter, so one query's high-water mark cannot hide or inflate
another's. The child resets its peak resident set size once Polars is imported (Linux
`/proc/self/clear_refs`), runs the query, reads the new peak (`VmHWM`) and sends it back with the
result as JSON (no pickle crosses the process boundary). `ru_maxrss` alone would not do: after a
fork it can start from the parent's peak.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import polars as pl

CHILD = r"""
import json, sys, time
request = json.load(sys.stdin)
import polars as pl

def status_mib(field):
    # Linux: this process's own figures; VmHWM is the peak of its address space since exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

def reset_peak():
    # Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current resident size.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")

try:
    reset_peak()
    baseline, peak = status_mib("VmRSS"), lambda: status_mib("VmHWM")
except OSError:  # not Linux: ru_maxrss (bytes on macOS), which may include the parent's pages
    import resource
    scale = 2**20 if sys.platform == "darwin" else 1024
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
namespace = {"pl": pl, **request["variables"]}
start = time.perf_counter()
exec(request["code"], namespace)
seconds = time.perf_counter() - start
json.dump({"baseline_mib": baseline, "peak_mib": peak(), "seconds": seconds,
           "result": namespace["result"].write_json()}, sys.stdout)
"""


class MeasurementError(RuntimeError):
    """The measured code failed in the child process; the message carries its stderr."""


@dataclass(frozen=True)
class PeakMemory:
    """One query's measured figures and its result."""

    label: str
    peak_mib: float  # high-water mark of the child's resident memory
    baseline_mib: float  # the same, just before the query ran (interpreter + Polars)
    seconds: float
    result: pl.DataFrame

    @property
    def query_mib(self) -> float:
        """What the query itself added on top of the interpreter."""
        return self.peak_mib - self.baseline_mib


def measure_peak_memory(
    code: str, *, label: str = "", env: dict[str, str] | None = None, **variables: str | float
) -> PeakMemory:
    """Run `code` (which sees `pl` and `variables` and must bind `result`) in a new process.

    `env` adds environment variables for the child only, e.g. an engine setting to compare.
    """
    child_env = os.environ | (env or {})
    request = json.dumps({"code": code, "variables": variables})
    done = subprocess.run(
        [sys.executable, "-c", CHILD], input=request, capture_output=True, text=True, env=child_env, check=False
    )
    if done.returncode != 0:
        raise MeasurementError(f"{label or 'query'} failed in the child process:\n{done.stderr.strip()}")
    report = json.loads(done.stdout)
    result = pl.read_json(io.StringIO(report["result"]))
    return PeakMemory(label, report["peak_mib"], report["baseline_mib"], report["seconds"], result)

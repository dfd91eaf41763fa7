"""The grading contract's proof: every pointed check passes on solutions/ and fails on the starters."""

from __future__ import annotations


def verify_bracketing(solutions: dict, starters: dict) -> dict[str, str]:
    """Every pointed check passes on solutions/ and fails on the untouched starters.

    Returns ``{check: problem}``; an empty dict means the contract holds.
    """
    sol = {c["nodeid"]: c for d in solutions["drills"].values() for c in d["checks"]}
    sta = {c["nodeid"]: c for d in starters["drills"].values() for c in d["checks"]}
    problems = {}
    if not sol:
        problems["(all)"] = "no pointed check ran against solutions/"
    for nodeid in sorted(sol.keys() | sta.keys()):
        if nodeid not in sta:
            problems[nodeid] = "not run against the starters"
        elif nodeid not in sol:
            problems[nodeid] = "not run against the solutions"
        elif sol[nodeid]["passed"] is not True:
            problems[nodeid] = f"fails on solutions/: {sol[nodeid]['message'][:300]}"
        elif sta[nodeid]["passed"] is not False:
            problems[nodeid] = "an untouched starter passes it: the check cannot fail"
    return problems

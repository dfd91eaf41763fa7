"""The environment is locked: requirements.in holds the top-level pins, requirements.txt (`make lock`) all of them.

These checks fail when the lock is stale against requirements.in, when environment.yml stops installing the
lock, or when the environment running them (the venv `make test` uses) differs from the lock, CUDA above all.
"""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlcourse.paths import REPO_ROOT

SOURCE = REPO_ROOT / "requirements.in"
LOCK = REPO_ROOT / "requirements.txt"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")
# make lock writes this as the lock's first line; the digest is requirements.in's as it was compiled.
SOURCE_DIGEST = re.compile(r"^# Generated from requirements\.in \(sha256 ([0-9a-f]{64})\)")
CUDA = re.compile(r"^(nvidia-.*|triton)$")
REFRESH = "edit requirements.in, run make lock, commit both"


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirements: comments, blank lines and pip options (`--...`, `-r ...`) left out."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def pins(lines: list[str]) -> dict[str, str]:
    """Exact pins by normalised name (PyYAML and pyyaml are one package)."""
    found: dict[str, str] = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def locked() -> dict[str, str]:
    return pins(requirement_lines(LOCK))


@pytest.fixture(scope="module")
def installed() -> dict[str, str]:
    """`pip freeze --all`'s packages (pip list, as JSON) in this interpreter's environment, less the project."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    packages: dict[str, str] = {canonicalize_name(item["name"]): item["version"] for item in json.loads(listing.stdout)}
    packages.pop("mlcourse", None)
    return packages


@pytest.mark.parametrize("path", [SOURCE, LOCK], ids=lambda path: path.name)
def test_every_requirement_is_pinned_exactly(path: Path) -> None:
    loose = [line for line in requirement_lines(path) if not PIN.match(line)]
    assert not loose, f"{path.name} lines without an exact == pin: {loose}"


def test_the_lock_was_compiled_from_requirements_in_as_it_is() -> None:
    match = SOURCE_DIGEST.match(LOCK.read_text())
    assert match, f"requirements.txt's first line does not record its source: {REFRESH}"
    assert match.group(1) == hashlib.sha256(SOURCE.read_bytes()).hexdigest(), (
        f"requirements.in changed since the lock was compiled: {REFRESH}"
    )


def test_every_top_level_pin_is_locked_at_its_version() -> None:
    lock = locked()
    # `==2.13.0` admits the local build 2.13.0+cpu (PEP 440), which is how the lock pins torch's CPU wheel.
    differ = {
        name: (version, lock.get(name))
        for name, version in pins(requirement_lines(SOURCE)).items()
        if name not in lock or Version(lock[name]) not in SpecifierSet(f"=={version}")
    }
    assert not differ, f"requirements.in pins the lock lacks or holds at other versions (in, lock): {differ}; {REFRESH}"


def test_the_lock_installs_no_cuda() -> None:
    cuda = sorted(name for name in locked() if CUDA.match(name))
    assert not cuda, f"the lock pins CUDA packages (torch resolved to PyPI's CUDA build, not the CPU wheel): {cuda}"
    assert locked()["torch"].endswith("+cpu"), "the lock's torch is not the CPU build"


def test_environment_yml_installs_the_lock() -> None:
    spec = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict) and "pip" in item)
    assert "-r requirements.txt" in pip_section
    assert all(line.startswith("-") for line in pip_section), f"environment.yml pins packages of its own: {pip_section}"
    assert "python=3.11" in spec["dependencies"]


def test_the_environment_holds_no_cuda(installed: dict[str, str]) -> None:
    cuda = sorted(name for name in installed if CUDA.match(name))
    assert not cuda, f"{sys.prefix} holds CUDA packages (several GB, unused here): {cuda}"


def test_the_lock_pins_every_installed_package(installed: dict[str, str]) -> None:
    lock = locked()
    extra = {name: version for name, version in installed.items() if name not in lock}
    differ = {name: (version, installed.get(name)) for name, version in lock.items() if installed.get(name) != version}
    assert not extra and not differ, (
        f"{sys.prefix} differs from the lock. Not in the lock (add them to requirements.in, or uninstall them): "
        f"{extra}. Missing or at other versions (lock, installed; run make): {differ}"
    )

"""The pins live in requirements.txt; environment.yml must give conda users the same ones."""

import re

import yaml

from mlcourse.paths import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")


def pins(lines):
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def requirements_pins():
    return pins((REPO_ROOT / "requirements.txt").read_text().splitlines())


def conda_pins():
    spec = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict) and "pip" in item)
    return spec, pins(pip_section)


def test_every_requirement_is_pinned_exactly():
    lines = [line.split("#")[0].strip() for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()]
    loose = [line for line in lines if line and not line.startswith("-") and not PIN.match(line)]
    assert not loose, f"requirements.txt lines without an exact == pin: {loose}"


def test_environment_yml_has_the_same_pins_as_requirements():
    spec, conda = conda_pins()
    assert conda == requirements_pins(), "environment.yml's pip pins differ from requirements.txt"
    assert "python=3.11" in spec["dependencies"]


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    wrong = {name: (pinned, version(name)) for name, pinned in requirements_pins().items()
             if version(name).split("+")[0] != pinned}
    assert not wrong, f"installed versions differ from requirements.txt (pinned, installed): {wrong}"

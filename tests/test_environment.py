"""environment.yml (Binder, conda) and pyproject.toml name the same packages; the lock file agrees."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _by_name(lines: list[str]) -> dict[str, SpecifierSet]:
    requirements = [Requirement(line) for line in lines]
    names = [canonicalize_name(r.name) for r in requirements]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"listed twice: {duplicates}"
    return {canonicalize_name(r.name): r.specifier for r in requirements}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pyproject_requirements() -> dict[str, SpecifierSet]:
    project = _pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return _by_name(lines)


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _environment_pip_lines() -> list[str]:
    pip_sections = [item["pip"] for item in _environment()["dependencies"] if isinstance(item, dict) and "pip" in item]
    assert len(pip_sections) == 1, "environment.yml should have exactly one pip: section"
    return pip_sections[0]


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def test_environment_and_pyproject_name_the_same_packages():
    env_lines = [line for line in _environment_pip_lines() if not line.startswith("-e")]
    from_env = _by_name(env_lines)
    from_pyproject = _pyproject_requirements()
    assert sorted(from_env) == sorted(from_pyproject), (
        f"only in environment.yml: {sorted(set(from_env) - set(from_pyproject))}; "
        f"only in pyproject.toml: {sorted(set(from_pyproject) - set(from_env))}"
    )
    differing = {name: (str(from_env[name]), str(from_pyproject[name]))
                 for name in from_env if from_env[name] != from_pyproject[name]}
    assert not differing, f"version ranges differ (environment.yml, pyproject.toml): {differing}"


def test_environment_installs_convlens_and_a_supported_python():
    assert "-e ." in _environment_pip_lines(), "environment.yml must install convlens itself (-e .)"
    conda = [item for item in _environment()["dependencies"] if isinstance(item, str)]
    pythons = [item for item in conda if item.split("=")[0] == "python"]
    assert len(pythons) == 1, "environment.yml must pin one python version"
    version = pythons[0].split("=", 1)[1].lstrip("=")
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert Version(version) in requires, f"python {version} is outside requires-python {requires}"


def test_lock_pins_every_package_within_its_range():
    pins = _lock()
    for name, specifier in _pyproject_requirements().items():
        assert name in pins, f"{name} is not pinned in requirements-lock.txt"
        assert pins[name] in specifier, f"requirements-lock.txt pins {name}=={pins[name]}, outside {specifier}"


@pytest.mark.parametrize("name", sorted(_pyproject_requirements()))
def test_installed_versions_are_within_range(name):
    """The environment running the tests is the one the project files describe."""
    try:
        installed = Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        pytest.fail(f"{name} is named in pyproject.toml but not installed; run: make setup")
    assert installed in _pyproject_requirements()[name]

"""environment.yml and pyproject.toml must declare the same dependencies.

A package conda-forge names differently is listed under its conda-forge name (`CONDA_NAMES`)."""

from __future__ import annotations

import re

import tomllib
import yaml

from tests.conftest import ROOT

#: conda-forge name -> PyPI name
CONDA_NAMES = {"trino-python-client": "trino"}


def _name_and_spec(requirement: str) -> tuple[str, str]:
    match = re.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", requirement.strip())
    assert match, requirement
    return match[1].lower().replace("_", "-"), match[2].replace(" ", "")


def test_environment_yml_agrees_with_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda_specs = dict(_name_and_spec(d) for d in conda if isinstance(d, str) and d not in ("pip",))
    pip = next((d["pip"] for d in conda if isinstance(d, dict) and "pip" in d), [])
    conda_specs.update(  # packages conda-forge lacks, installed by pip (not options, not `-e .`)
        _name_and_spec(d.split("#")[0]) for d in pip if not d.startswith("-")
    )
    for conda_name, pypi_name in CONDA_NAMES.items():
        conda_specs[pypi_name] = conda_specs.pop(conda_name)
    conda_specs.pop("python")
    assert dict(_name_and_spec(d) for d in declared) == conda_specs

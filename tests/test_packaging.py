"""Every distribution of the repository ships its package's py.typed and declares the license the LICENSE file holds."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="the standard library reads TOML from Python 3.11")

REPO = Path(__file__).resolve().parents[1]
PYPROJECTS = sorted(p for p in [*REPO.glob("*/pyproject.toml"), *REPO.glob("plugins/*/pyproject.toml")])


def test_every_distribution_is_found():
    names = {tomllib.loads(p.read_text())["project"]["name"] for p in PYPROJECTS}
    assert {"vista-core", "vista-trainer", "vista-tools-math", "vista-myplugin"} <= names and len(names) == 9


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: p.parent.name)
def test_the_package_ships_py_typed(pyproject):
    setuptools = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]
    [pattern] = setuptools["packages"]["find"]["include"]
    package = pattern.rstrip("*")
    assert (pyproject.parent / package / "py.typed").is_file()
    assert "py.typed" in setuptools.get("package-data", {}).get(package, []), \
        f"{pyproject.relative_to(REPO)}: list py.typed in [tool.setuptools.package-data] {package}"


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: p.parent.name)
def test_the_declared_license_is_the_license_file(pyproject):
    assert tomllib.loads(pyproject.read_text())["project"]["license"] == "Apache-2.0"
    assert (REPO / "LICENSE").read_text().split("\n", 3)[:2] == [
        "                                 Apache License", "                           Version 2.0, January 2004"]

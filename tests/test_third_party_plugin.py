"""A third party's plugin, written outside this repository and installed like any distribution, is discovered by
`vista` with no change here; a broken one is reported by name and does not stop the others.

The distributions are installed with `pip install --target` into a temporary folder and `vista` runs in a
subprocess with that folder on PYTHONPATH, so nothing is installed into the test environment."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image


def write_distribution(root: Path, distribution: str, entry_point: str, module: str, source: str) -> Path:
    """A one-module distribution declaring ``entry_point = module`` in the group `vista`."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{distribution}"
        version = "1.2.3"
        dependencies = ["vista-core"]

        [project.entry-points.vista]
        {entry_point} = "{module}"

        [tool.setuptools]
        py-modules = ["{module}"]
        """))
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    return root


def pip_install_target(sources: list[Path], site: Path) -> None:
    """Install distributions into ``site`` alone: no dependencies, no index, the build backend of this env."""
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "--target", str(site), *map(str, sources)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr


def vista_cli(*args: str, site: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the `vista` command in a fresh interpreter, with ``site`` first on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VISTA_PLUGINS", "VISTA_STRICT_PLUGINS")}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "vista.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


GOOD = '''
    """A third party's plugin: one tool that inverts an image's colours."""
    from PIL import ImageOps
    from pydantic import BaseModel, Field

    import vista


    class InvertArguments(vista.ToolArguments):
        image: str = vista.ImageName()
        keep_alpha: bool = Field(True, description="leave the alpha channel as it is")


    class InvertOutput(BaseModel):
        width: int
        height: int


    class Invert(vista.Tool):
        name = "acme_invert"
        family = "acme"
        description = "Invert the colours of an image; returns the inverted image."
        Arguments = InvertArguments
        Output = InvertOutput
        examples = [{}]

        def run(self, args, ctx):
            inverted = ImageOps.invert(ctx.image(args.image).convert("RGB"))
            return vista.ToolResult(text="inverted", data={"width": inverted.width, "height": inverted.height},
                                    images=[inverted])


    @vista.hookimpl
    def register_tools(register):
        register(Invert())
'''

BROKEN_IMPORT = '''
    import a_dependency_nobody_installed  # noqa: F401
'''

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    site = tmp_path_factory.mktemp("site")
    pip_install_target([
        write_distribution(src / "good", "acme-vista-invert", "acme", "acme_vista_invert", GOOD),
        write_distribution(src / "broken", "acme-vista-broken", "acme_broken", "acme_vista_broken", BROKEN_IMPORT),
    ], site)
    return site


@pytest.fixture(scope="module")
def listing(site) -> dict:
    completed = vista_cli("--plugins", "all", "plugins", "--json", site=site)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_installed_plugin_is_discovered_with_what_it_registers(listing):
    acme = next(p for p in listing["plugins"] if p["name"] == "acme")
    assert acme["distribution"] == "acme-vista-invert" and acme["version"] == "1.2.3"
    assert acme["tools"] == ["acme_invert"] and acme["hooks"] == ["register_tools"]


def test_a_plugin_that_fails_to_import_is_reported_by_name_and_the_others_load(listing):
    failures = {f["name"]: f for f in listing["failures"]}
    assert failures["acme_broken"]["stage"] == "import"
    assert failures["acme_broken"]["distribution"] == "acme-vista-broken"
    assert "a_dependency_nobody_installed" in failures["acme_broken"]["error"]
    loaded = {p["name"] for p in listing["plugins"]}
    assert {"builtin", "acme"} <= loaded and "acme_broken" not in loaded


def test_nothing_was_installed_into_this_environment(listing):
    assert not {"acme", "acme_broken"} & {ep.name for ep in importlib.metadata.entry_points(group="vista")}


def test_its_tool_is_called_with_validation(site, tmp_path):
    Image.new("RGB", (6, 4), (10, 200, 30)).save(tmp_path / "green.png")
    ok = vista_cli("call", "acme_invert", "--image", str(tmp_path / "green.png"), "--args", "{}",
                   "--save-images", str(tmp_path / "out"), site=site)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["data"] == {"width": 6, "height": 4}
    assert Image.open(tmp_path / "out" / "image_1.png").getpixel((0, 0)) == (245, 55, 225)
    bad = vista_cli("call", "acme_invert", "--image", str(tmp_path / "green.png"), "--args", '{"keep_alfa": 1}',
                    site=site)
    error = json.loads(bad.stdout)["error"]
    assert bad.returncode == 2 and error["error_class"] == "E2" and "Did you mean 'keep_alpha'?" in error["message"]


def test_check_plugin_passes_the_good_one_and_explains_the_broken_ones(site):
    good = vista_cli("check-plugin", "acme", "--json", site=site)
    assert good.returncode == 0 and json.loads(good.stdout) == [], good.stdout
    broken = vista_cli("check-plugin", "acme_broken", "--json", site=site)
    problems = json.loads(broken.stdout)
    assert broken.returncode == 1 and [p["level"] for p in problems] == ["error"]
    assert "a_dependency_nobody_installed" in problems[0]["message"]
    assert "python -c 'import acme_vista_broken'" in problems[0]["fix"]

"""docs/hooks.md documents every hook in `vista.hookspecs`, with the hookspec's own signature and docstring
(datasette-style): adding a hook, or changing its docstring, without updating the reference fails here, and the
failure message holds the exact block to paste."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from vista import hookspecs, plugins

HOOKS_MD = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"
HOOKSPECS = {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "vista_spec")}


def reference_block(fn) -> str:
    """What docs/hooks.md must contain for one hook: its signature as a plugin writes it, then its docstring."""
    params = ", ".join(f"{name}: {annotation}" for name, annotation in fn.__annotations__.items() if name != "return")
    return (f"```python\n@vista.hookimpl\ndef {fn.__name__}({params}) -> {fn.__annotations__.get('return', 'None')}:"
            f"\n    ...\n```\n\n{inspect.getdoc(fn)}\n")


def sections() -> dict[str, str]:
    """``## `hook_name` `` headings of docs/hooks.md and the text under each."""
    parts = re.split(r"^## `(\w+)`\s*$", HOOKS_MD.read_text(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_there_are_hooks_to_document():
    assert set(HOOKSPECS) >= {"register_tools", "register_tasks", "register_rewards"}
    assert set(plugins.HOOKS) == set(HOOKSPECS), "the loader's HOOKS and the hookspecs must name the same hooks"


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_every_hook_is_documented_with_its_current_docstring(name):
    documented = sections()
    assert name in documented, (f"hook '{name}' is not documented in {HOOKS_MD}; add a section:\n\n## `{name}`\n\n"
                                f"{reference_block(HOOKSPECS[name])}")
    assert reference_block(HOOKSPECS[name]) in documented[name], (
        f"the section of '{name}' in {HOOKS_MD} does not match the hookspec's signature and docstring; "
        f"replace its reference block with:\n\n{reference_block(HOOKSPECS[name])}")


def test_no_section_documents_a_hook_that_does_not_exist():
    stale = set(sections()) - set(HOOKSPECS)
    assert not stale, f"docs/hooks.md documents hooks that vista.hookspecs does not define: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_every_hook_is_shown_in_the_template_and_the_guide(name):
    template = (HOOKS_MD.parents[1] / "plugins" / "template" / "vista_myplugin" / "__init__.py").read_text()
    implemented = {node.name for node in ast.walk(ast.parse(template)) if isinstance(node, ast.FunctionDef)}
    assert name in implemented, f"plugins/template/vista_myplugin/__init__.py should implement '{name}' as an example"
    guide = (HOOKS_MD.parent / "writing-a-plugin.md").read_text()
    assert f"`{name}(register)`" in guide, f"docs/writing-a-plugin.md should list '{name}' in its table of hooks"

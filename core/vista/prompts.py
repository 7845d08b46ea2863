"""The system and user prompt templates of the paper's protocol, with the tools' JSON schemas injected.

Both are plain `str.format` templates, so a task (`Task.prompt_template`) or a user (`VistaEnv(system_prompt=...)`)
can replace them. System placeholders: {tools} (one JSON object per line), {tool_signatures} (``name(arg, ...)``
per tool, no schemas), {max_turns}. `SYSTEM_PROMPTS` names the built-in system templates: ``full`` (the paper's, with
every tool's JSON schema) and ``compact`` (tool names and argument names only, for small context budgets; the
trainer's default). User placeholders:
{question}, {choices} (formatted options or ''), {answer_format} (how to write the answer for this answer type).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable

from .tool import Tool

SYSTEM_PROMPT = """You are a visual reasoning assistant that can call tools to analyse images.
In every turn, first think step by step inside <think> </think>. Then do exactly one of:
- call tools, each call as <tool_call>{{"name": "<tool name>", "arguments": {{...}}}}</tool_call>, then stop; the \
results come back inside <tool_response> </tool_response>;
- give the final answer inside <answer> </answer>.
You may call tools in at most {max_turns} turns. Images are named image_0 (the question's image), image_1, ... \
in the order they appear; tools take an image by its name.

Available tools (name, description, JSON schema of the arguments):
{tools}"""

SYSTEM_PROMPT_COMPACT = ("Think inside <think></think>, then either call tools, each as <tool_call>{{\"name\": "
                         "..., \"arguments\": {{...}}}}</tool_call>, or answer inside <answer></answer>. At most "
                         "{max_turns} tool turns. Tools: {tool_signatures}.")

SYSTEM_PROMPTS = {"full": SYSTEM_PROMPT, "compact": SYSTEM_PROMPT_COMPACT}

SYSTEM_PROMPT_NO_TOOLS = """You are a visual reasoning assistant.
First think step by step inside <think> </think>, then give the final answer inside <answer> </answer>."""

USER_PROMPT = "{question}{choices}\n{answer_format}"

ANSWER_FORMATS = {
    "multiple_choice": "Answer with the letter of the correct option.",
    "integer": "Answer with an integer.",
    "float": "Answer with a number.",
    "boolean": "Answer with Yes or No.",
    "list": "Answer with a comma-separated list.",
    "text": "Answer with a word or short phrase.",
}


def tool_block(tools: Iterable[Tool]) -> str:
    return "\n".join(json.dumps(tool.spec(), ensure_ascii=False, separators=(",", ":")) for tool in tools)


def format_choices(choices: list[str] | None) -> str:
    if not choices:
        return ""
    letters = string.ascii_uppercase
    return "\nOptions:\n" + "\n".join(f"({letters[i]}) {choice}" for i, choice in enumerate(choices))


def tool_signatures(tools: Iterable[Tool]) -> str:
    return "; ".join(f"{t.name}({', '.join(t.argument_schema().get('properties', {}))})" for t in tools)


def render_system(tools: list[Tool], max_turns: int, template: str | None = None) -> str:
    """The system prompt: ``template`` is a `str.format` template or a name in `SYSTEM_PROMPTS` (default
    ``full``); with no tools, a named template gives the no-tools prompt."""
    if not tools and (template is None or template in SYSTEM_PROMPTS):
        return SYSTEM_PROMPT_NO_TOOLS
    template = SYSTEM_PROMPTS.get(template or "full", template)
    return template.format(tools=tool_block(tools), tool_signatures=tool_signatures(tools), max_turns=max_turns)


def render_user(question: str, choices: list[str] | None, answer_type: str, template: str | None = None) -> str:
    return (template or USER_PROMPT).format(
        question=question, choices=format_choices(choices),
        answer_format=ANSWER_FORMATS.get(answer_type, ANSWER_FORMATS["text"]))

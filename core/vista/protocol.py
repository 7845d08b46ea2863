"""The interaction protocol: one parser for `<think>`, `<tool_call>`, `<answer>`, `<tool_response>`.

A policy turn is `<think>…</think>` followed by either one or more `<tool_call>{…}</tool_call>` blocks or one
`<answer>…</answer>`. A call is canonical, ``{"name": "zoom", "arguments": {"factor": 2}}``, or in the paper's
dialect, ``{"tool": "zoom", "task": "enlarge", "factor": 2}`` (every key but `tool` and `task` is an argument).
Parsing never raises: every deviation becomes a `ClassifiedError` (FORMAT for the turn, E1 for a call).

What a call may carry is bounded to what the rest of the pipeline (pydantic records, the JSONL log, the tools) can
hold: at most `MAX_CALL_CHARS` characters and `MAX_DEPTH` levels of nesting (E1 beyond either). Integers longer than
`MAX_INT_DIGITS` digits are read as floats (infinite when out of range) and JavaScript's ``NaN``/``Infinity`` are
read as what they say, so that validation reports every non-finite number, ``1e999``, ``NaN`` or a 400-digit
integer alike, as the argument value fault it is (E3).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from .errors import ClassifiedError, ErrorClass

TAGS = ("think", "tool_call", "answer", "tool_response")
_TAG = re.compile(r"<(/?)(" + "|".join(TAGS) + r")\s*>")
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
CANONICAL_KEYS = ("name", "arguments")
MAX_CALL_CHARS = 65536
MAX_DEPTH = 32
MAX_INT_DIGITS = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> tuple[str, int]:
    """``text`` with every unpaired surrogate code point (not Unicode text: it can be neither tokenised nor written
    as UTF-8) replaced by U+FFFD, and how many there were."""
    return _SURROGATE.subn("\ufffd", text)


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    dialect: Literal["canonical", "paper"] = "canonical"
    task: str | None = None  # the paper dialect's "task" key


class ParsedTurn(BaseModel):
    """What one policy turn contains, in order, with every format violation found."""

    segments: list[tuple[str, str]] = Field(default_factory=list)
    think: str | None = None
    tool_calls: list[str] = Field(default_factory=list)
    answer: str | None = None
    format_errors: list[ClassifiedError] = Field(default_factory=list)

    @property
    def is_well_formed(self) -> bool:
        return not self.format_errors


def _format_error(code: str, message: str) -> ClassifiedError:
    return ClassifiedError(error_class=ErrorClass.FORMAT, code=code, message=message)


def parse_turn(text: str) -> ParsedTurn:
    """Split a policy turn into its tagged segments and check the turn's structure."""
    turn = ParsedTurn()
    errors = turn.format_errors
    open_tag: str | None = None
    start = 0
    outside: list[str] = []
    cursor = 0
    for match in _TAG.finditer(text):
        closing, tag = match.group(1) == "/", match.group(2)
        if open_tag is None:
            outside.append(text[cursor:match.start()])
            if closing:
                errors.append(_format_error("unmatched_close", f"</{tag}> has no matching <{tag}>"))
            else:
                open_tag, start = tag, match.end()
        elif closing and tag == open_tag:
            turn.segments.append((tag, text[start:match.start()].strip()))
            open_tag = None
        else:
            errors.append(_format_error(
                "nested_tag", f"<{'/' if closing else ''}{tag}> appears inside <{open_tag}>; close <{open_tag}> first"))
        cursor = match.end()
    if open_tag is not None:
        errors.append(_format_error("unclosed_tag", f"<{open_tag}> is never closed; end it with </{open_tag}>"))
        turn.segments.append((open_tag, text[start:].strip()))
    else:
        outside.append(text[cursor:])
    if "".join(outside).strip():
        errors.append(_format_error(
            "text_outside_tags", "text outside the tags; put reasoning in <think>…</think> and nothing else outside"))
    _check_structure(turn)
    return turn


def _check_structure(turn: ParsedTurn) -> None:
    errors = turn.format_errors
    kinds = [tag for tag, _ in turn.segments]
    thinks = [content for tag, content in turn.segments if tag == "think"]
    answers = [content for tag, content in turn.segments if tag == "answer"]
    turn.tool_calls = [content for tag, content in turn.segments if tag == "tool_call"]
    turn.think = thinks[0] if thinks else None
    turn.answer = answers[-1] if answers else None
    if "tool_response" in kinds:
        errors.append(_format_error(
            "policy_wrote_tool_response", "<tool_response> is written by the environment, not by you; "
                                          "stop after </tool_call> and wait for the response"))
    if not thinks:
        errors.append(_format_error("missing_think", "start the turn with <think>…</think>"))
    elif kinds[0] != "think":
        errors.append(_format_error("think_not_first", "<think> must come before <tool_call> or <answer>"))
    if len(thinks) > 1:
        errors.append(_format_error("multiple_think", "write one <think> block per turn"))
    if len(answers) > 1:
        errors.append(_format_error("multiple_answers", f"{len(answers)} <answer> blocks; give exactly one"))
    if answers and turn.tool_calls:
        errors.append(_format_error(
            "call_and_answer", "a turn either calls tools or answers; do not write <tool_call> and <answer> together"))
    if not answers and not turn.tool_calls:
        errors.append(_format_error("no_action", "end the turn with a <tool_call> or an <answer>"))
    if answers and not turn.answer:
        errors.append(_format_error("empty_answer", "the <answer> block is empty"))


def _e1(code: str, message: str, tool: str | None = None) -> ClassifiedError:
    return ClassifiedError(error_class=ErrorClass.E1, code=code, message=message, tool=tool)


def parse_call(raw: str) -> tuple[ToolCall | None, ClassifiedError | None]:
    """Parse the JSON inside one `<tool_call>` block, in either dialect. Never raises."""
    body = raw.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    if not body:
        return None, _e1("empty_call", "the <tool_call> block is empty; write "
                                       '{"name": "<tool>", "arguments": {...}} inside it')
    if len(body) > MAX_CALL_CHARS:
        return None, _e1("call_too_long", f"the tool call has {len(body)} characters; a call may have at most "
                                          f"{MAX_CALL_CHARS}: pass images by name, not by content")
    try:
        obj = json.loads(body, parse_int=_parse_int,
                         object_pairs_hook=_reject_duplicate_keys)
    except (ValueError, RecursionError) as exc:
        detail = (f"{exc.msg} at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError)
                  else "nested too deeply" if isinstance(exc, RecursionError) else str(exc))
        return None, _e1("not_json", f"the tool call is not valid JSON ({detail}); write "
                                     '{"name": "<tool>", "arguments": {...}} with double-quoted keys')
    if _SURROGATE_ESCAPE.search(body) and _has_surrogate(obj):
        return None, _e1("invalid_unicode", "the tool call escapes half of a UTF-16 surrogate pair (like \\ud800), "
                                            "which is not a character; write the character itself")
    if _depth(obj) > MAX_DEPTH:
        return None, _e1("too_deep", f"the tool call nests arrays/objects more than {MAX_DEPTH} levels deep; "
                                     "arguments are flat values, lists of numbers or small objects")
    if not isinstance(obj, dict):
        return None, _e1("not_object", f"the tool call must be one JSON object, got a JSON {_json_type(obj)}; "
                                       "put each call in its own <tool_call> block")
    if "name" in obj and "tool" in obj:
        return None, _e1("ambiguous_dialect", "the call has both 'name' and 'tool'; use "
                                              '{"name": ..., "arguments": {...}}')
    if "tool" in obj:
        return _parse_paper_dialect(obj)
    if "name" not in obj:
        keys = ", ".join(map(repr, obj)) or "none"
        return None, _e1("missing_name", f"the tool call has no 'name' (keys: {keys}); write "
                                         '{"name": "<tool>", "arguments": {...}}')
    name = obj["name"]
    if not isinstance(name, str) or not name:
        return None, _e1("bad_name", f"'name' must be a non-empty string, got {_json_type(name)}")
    extra = [k for k in obj if k not in CANONICAL_KEYS]
    if extra:
        return None, _e1("unexpected_key", f"unexpected key(s) {', '.join(map(repr, extra))} next to 'name'; "
                                           "put arguments inside 'arguments'", tool=name)
    if "arguments" not in obj:
        return None, _e1("missing_arguments", f"the call to '{name}' has no 'arguments'; "
                                              'write "arguments": {} when the tool takes none', tool=name)
    arguments = obj["arguments"]
    if isinstance(arguments, str):  # OpenAI-style: arguments as a JSON-encoded string
        try:
            arguments = json.loads(arguments, parse_int=_parse_int,
                                   object_pairs_hook=_reject_duplicate_keys)
        except (ValueError, RecursionError):
            return None, _e1("arguments_not_json", f"'arguments' of '{name}' is a string that is not JSON; "
                                                   "make it a JSON object", tool=name)
    if isinstance(obj["arguments"], str) and _has_surrogate(arguments):
        return None, _e1("invalid_unicode", f"'arguments' of '{name}' escape half of a UTF-16 surrogate pair "
                                            "(like \\ud800), which is not a character; write the character itself",
                         tool=name)
    if _depth(arguments) > MAX_DEPTH - 1:
        return None, _e1("too_deep", f"'arguments' of '{name}' nest more than {MAX_DEPTH - 1} levels deep; "
                                     "arguments are flat values, lists of numbers or small objects", tool=name)
    if not isinstance(arguments, dict):
        return None, _e1("arguments_not_object", f"'arguments' of '{name}' must be a JSON object, "
                                                 f"got a JSON {_json_type(arguments)}", tool=name)
    return ToolCall(name=name, arguments=arguments), None


def _parse_int(digits: str) -> int | float:
    # Python refuses to convert integers of more than 4300 digits (and tools cannot use a 65-digit one): a float
    # keeps the value's magnitude, or becomes infinite, which validation reports as a non-finite value (E3)
    return int(digits) if len(digits) <= MAX_INT_DIGITS else float(digits)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the key {repeated!r} appears twice in one object; give each key once")
    return obj


def _has_surrogate(value: Any) -> bool:
    """Whether a string anywhere in parsed JSON (keys included) holds an unpaired surrogate (iterative)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), without recursion, stopping early past `MAX_DEPTH`."""
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            depth = max(depth, level)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return depth


def _parse_paper_dialect(obj: dict) -> tuple[ToolCall | None, ClassifiedError | None]:
    name, task = obj["tool"], obj.get("task")
    if not isinstance(name, str) or not name:
        return None, _e1("bad_name", f"'tool' must be a non-empty string, got {_json_type(name)}")
    if task is not None and not isinstance(task, str):
        return None, _e1("bad_task", f"'task' must be a string, got {_json_type(task)}", tool=name)
    arguments = {k: v for k, v in obj.items() if k not in ("tool", "task")}
    return ToolCall(name=name, arguments=arguments, dialect="paper", task=task), None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)


def render_call(call: ToolCall) -> str:
    """A call as the policy writes it, in the canonical dialect."""
    return "<tool_call>" + json.dumps({"name": call.name, "arguments": call.arguments}, ensure_ascii=False) + \
        "</tool_call>"


def render_tool_response(text: str) -> str:
    return f"<tool_response>{text}</tool_response>"


def render_turn(think: str, *, calls: list[ToolCall] = (), answer: str | None = None) -> str:
    """Write a well-formed policy turn (used by scripted experts and tests)."""
    body = f"<think>{think}</think>"
    body += "".join(render_call(call) for call in calls)
    if answer is not None:
        body += f"<answer>{answer}</answer>"
    return body

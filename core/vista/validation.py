"""Validation of parsed tool calls against the tools' argument schemas, classifying every fault as E1, E2 or E3.

E1 (unknown tool) is decided here by name; E2 (unknown or missing argument) and E3 (value type, format, range) by
JSON-schema validation with one compiled validator per argument model.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import ValidationError

from .errors import ClassifiedError, ErrorClass, did_you_mean
from .protocol import ToolCall, parse_call
from .tool import Tool, ToolArguments

_MAX_LISTED = 3


@dataclass(frozen=True)
class ValidatedCall:
    tool: Tool
    call: ToolCall
    arguments: ToolArguments


@functools.lru_cache(maxsize=1024)
def _compiled(schema_json: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json),
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _validator(tool: Tool) -> jsonschema.protocols.Validator:
    """One compiled validator per distinct argument schema (local tools and remote proxies alike)."""
    return _compiled(json.dumps(tool.argument_schema(), sort_keys=True))


def validate_call(call: ToolCall, tools: Mapping[str, Tool]) -> tuple[ValidatedCall | None, ClassifiedError | None]:
    """Check a parsed call against the registered tools. Returns the typed arguments or the classified error."""
    tool = tools.get(call.name)
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        return None, ClassifiedError(
            error_class=ErrorClass.E1, code="unknown_tool", tool=call.name,
            message=f"there is no tool named '{call.name}'.{did_you_mean(call.name, tools)} "
                    f"Available tools: {available}")
    arguments = dict(call.arguments)
    if call.dialect == "paper" and call.task is not None and tool.task_argument:
        arguments.setdefault(tool.task_argument, call.task)
    where = _non_finite(arguments)
    if where is not None:
        return None, ClassifiedError(
            error_class=ErrorClass.E3, code="non_finite_number", tool=tool.name, argument=where,
            message=f"argument '{where}' of '{tool.name}' is not a finite number (infinite, NaN or too large); "
                    f"write an ordinary number")
    errors = sorted(_validator(tool).iter_errors(arguments), key=_priority)
    if errors:
        return None, _classify_schema_errors(tool, errors)
    try:
        parsed = tool.parse_arguments(arguments)
    except ValidationError as exc:  # a model validator rejected what the schema allowed: still a value fault
        first = exc.errors()[0]
        argument = str(first["loc"][0]) if first["loc"] else None
        return None, ClassifiedError(
            error_class=ErrorClass.E3, code="invalid_value", tool=tool.name, argument=argument,
            message=f"argument '{argument}' of '{tool.name}': {first['msg']}")
    except Exception as exc:  # a validator that raised something else: still the arguments' fault, never a crash
        return None, ClassifiedError(
            error_class=ErrorClass.E3, code="invalid_value", tool=tool.name,
            message=f"arguments of '{tool.name}' were rejected: {type(exc).__name__}: {exc}")
    return ValidatedCall(tool=tool, call=call, arguments=parsed), None


def parse_and_validate(raw: str, tools: Mapping[str, Tool]) -> tuple[ToolCall | None, ValidatedCall | None,
                                                                       ClassifiedError | None]:
    """The whole check of one `<tool_call>` block's text. Never raises."""
    call, error = parse_call(raw)
    if call is None:
        return None, None, error
    validated, error = validate_call(call, tools)
    return call, validated, error


def _non_finite(arguments: dict[str, Any]) -> str | None:
    """The path of the first infinite or NaN number in the arguments (JSON Schema's `number` admits them); a
    depth-first walk, linear in the arguments' size, that builds a path only for containers and the culprit."""
    stack: list[tuple[tuple, Any]] = [((), arguments)]
    while stack:
        path, container = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in items:
            if isinstance(value, float):
                if not math.isfinite(value):
                    return _path_label([*path, key])
            elif isinstance(value, (dict, list)):
                stack.append(((*path, key), value))
    return None


def _priority(error: jsonschema.ValidationError) -> tuple[int, int]:
    is_name_error = error.validator in ("additionalProperties", "required")
    return (0 if is_name_error else 1, len(error.absolute_path))


def _classify_schema_errors(tool: Tool, errors: list[jsonschema.ValidationError]) -> ClassifiedError:
    schema = tool.argument_schema()
    properties = schema.get("properties", {})
    findings: list[tuple[ErrorClass, str, str | None, str]] = []
    for error in errors:
        path = list(error.absolute_path)
        where = _path_label(path)
        if error.validator == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - allowed):
                full = _path_label(path + [key])
                expected = ", ".join(sorted(allowed)) or "none"
                findings.append((ErrorClass.E2, "unknown_argument", full,
                                 f"unknown argument '{full}'.{did_you_mean(key, allowed)} "
                                 f"Accepted arguments: {expected}"))
        elif error.validator == "required":
            for key in error.validator_value:
                if isinstance(error.instance, dict) and key not in error.instance:
                    full = _path_label(path + [key])
                    spec = error.schema.get("properties", {}).get(key, {})
                    findings.append((ErrorClass.E2, "missing_argument", full,
                                     f"missing required argument '{full}' ({describe_schema(spec, schema)})"))
        else:
            spec = properties.get(path[0], {}) if path else schema
            findings.append((ErrorClass.E3, f"invalid_{error.validator}", where,
                             f"argument '{where}' has an invalid value {_short(error.instance)}: "
                             f"{_reason(error)}; expected {describe_schema(spec, schema)}"))
    primary_class, code, argument, _ = findings[0]
    same_class = [text for cls, _, _, text in findings if cls is primary_class]
    listed = "; ".join(same_class[:_MAX_LISTED]) + ("; …" if len(same_class) > _MAX_LISTED else "")
    return ClassifiedError(error_class=primary_class, code=code, tool=tool.name, argument=argument,
                           message=f"call to '{tool.name}': {listed}")


def _path_label(path: list[Any]) -> str:
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label or "(arguments)"


def _reason(error: jsonschema.ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(e.message))
        return best.message
    return error.message


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_schema(spec: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> str:
    """A short human description of what a (sub)schema accepts: 'integer between 1 and 8', 'one of "a", "b"'."""
    if "$ref" in spec and root is not None:
        name = spec["$ref"].rsplit("/", 1)[-1]
        spec = root.get("$defs", {}).get(name, spec)
    if "anyOf" in spec or "oneOf" in spec:
        options = [describe_schema(s, root) for s in spec.get("anyOf", spec.get("oneOf", []))]
        return " or ".join(o for o in options if o)
    if "enum" in spec:
        return "one of " + ", ".join(json.dumps(v) for v in spec["enum"])
    if "const" in spec:
        return f"exactly {json.dumps(spec['const'])}"
    kind = spec.get("type", "value")
    parts = [kind if isinstance(kind, str) else "/".join(kind)]
    lo = spec.get("minimum", spec.get("exclusiveMinimum"))
    hi = spec.get("maximum", spec.get("exclusiveMaximum"))
    if lo is not None and hi is not None:
        parts.append(f"between {lo} and {hi}")
    elif lo is not None:
        parts.append(f">= {lo}" if "minimum" in spec else f"> {lo}")
    elif hi is not None:
        parts.append(f"<= {hi}" if "maximum" in spec else f"< {hi}")
    if "pattern" in spec:
        parts.append(f"matching {spec['pattern']}")
    if kind == "array":
        items = spec.get("items")
        if "minItems" in spec and spec.get("minItems") == spec.get("maxItems"):
            parts.append(f"of exactly {spec['minItems']}")
        elif "minItems" in spec or "maxItems" in spec:
            parts.append(f"of {spec.get('minItems', 0)} to {spec.get('maxItems', 'any number of')}")
        if isinstance(items, dict):
            parts.append(f"items: {describe_schema(items, root)}")
    if "minLength" in spec or "maxLength" in spec:
        parts.append(f"length {spec.get('minLength', 0)} to {spec.get('maxLength', 'any')}")
    return " ".join(parts)

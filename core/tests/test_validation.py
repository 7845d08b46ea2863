"""Malformed tool calls of every kind, in both dialects, get the exact class and a message naming the fault."""

import pytest
from vista.errors import ErrorClass
from vista.validation import parse_and_validate


def classify(raw, tools):
    _, validated, error = parse_and_validate(raw, tools)
    return validated, error


@pytest.mark.parametrize("raw, code, named", [
    ("scale(2)", "not_json", "not valid JSON"),
    ("{'name': 'scale', 'arguments': {}}", "not_json", "double-quoted"),
    ("", "empty_call", "empty"),
    ('[{"name": "scale", "arguments": {}}]', "not_object", "array"),
    ('"scale"', "not_object", "string"),
    ('{"arguments": {"value": 1}}', "missing_name", "'name'"),
    ('{"name": "scale"}', "missing_arguments", "'arguments'"),
    ('{"name": "scale", "arguments": {}, "id": 3}', "unexpected_key", "'id'"),
    ('{"name": 7, "arguments": {}}', "bad_name", "'name'"),
    ('{"name": "scale", "arguments": [1, 2]}', "arguments_not_object", "'arguments'"),
    ('{"name": "scale", "arguments": "value=2"}', "arguments_not_json", "'arguments'"),
    ('{"name": "scael", "arguments": {}}', "unknown_tool", "Did you mean 'scale'?"),
    ('{"tool": "zoom_in", "task": "x"}', "unknown_tool", "zoom_in"),
    ('{"name": "scale", "tool": "scale", "arguments": {}}', "ambiguous_dialect", "both"),
    ('{"tool": 3, "task": "x"}', "bad_name", "'tool'"),
])
def test_e1_call_schema(raw, code, named, tools):
    validated, error = classify(raw, tools)
    assert validated is None
    assert error.error_class is ErrorClass.E1 and error.code == code
    assert named in error.message


@pytest.mark.parametrize("raw, code, argument, named", [
    ('{"name": "scale", "arguments": {}}', "missing_argument", "value", "missing required argument 'value'"),
    ('{"name": "scale", "arguments": {"value": 1, "factr": 2}}', "unknown_argument", "factr", "Did you mean 'factor'?"),
    ('{"tool": "scale", "task": "mul", "valeu": 1}', "unknown_argument", "valeu", "missing required argument 'value'"),
    ('{"tool": "crop", "task": "crop", "box": [0, 0, 1, 1]}', "unknown_argument", "box", "Did you mean 'bbox'?"),
])
def test_e2_argument_name(raw, code, argument, named, tools):
    validated, error = classify(raw, tools)
    assert error.error_class is ErrorClass.E2 and error.code == code
    assert error.argument == argument and error.tool == raw.split('"')[3]
    assert named in error.message


@pytest.mark.parametrize("raw, argument, named", [
    ('{"name": "scale", "arguments": {"value": "two"}}', "value", "expected number"),
    ('{"name": "scale", "arguments": {"value": 1, "factor": 20}}', "factor", "between 1 and 8"),
    ('{"name": "scale", "arguments": {"value": 1, "factor": 0}}', "factor", "between 1 and 8"),
    ('{"name": "scale", "arguments": {"value": 1, "factor": 1.5}}', "factor", "integer"),
    ('{"name": "scale", "arguments": {"value": 1, "mode": "pow"}}', "mode", 'one of "mul", "div"'),
    ('{"tool": "scale", "task": "pow", "value": 1}', "mode", 'one of "mul", "div"'),
    ('{"name": "crop", "arguments": {"bbox": [1, 2, 3]}}', "bbox", "array"),
    ('{"name": "crop", "arguments": {"bbox": [1, 2, 3, "x"]}}', "bbox[3]", "'x'"),
    ('{"name": "crop", "arguments": {"bbox": [0, 0, 1, 1], "image": "chart.png"}}', "image", "image_"),
])
def test_e3_argument_value(raw, argument, named, tools):
    validated, error = classify(raw, tools)
    assert error.error_class is ErrorClass.E3, error
    assert error.argument == argument
    assert named in error.message and argument.split("[")[0] in error.message


def test_e2_outranks_e3(tools):
    _, error = classify('{"name": "scale", "arguments": {"value": "x", "bogus": 1}}', tools)
    assert error.error_class is ErrorClass.E2 and error.argument == "bogus"


def test_valid_calls_in_both_dialects(tools):
    validated, error = classify('{"name": "scale", "arguments": {"value": 1.5, "factor": 3}}', tools)
    assert error is None and validated.arguments.factor == 3
    validated, error = classify('{"tool": "scale", "task": "div", "value": 3}', tools)
    assert error is None and validated.arguments.mode == "div"

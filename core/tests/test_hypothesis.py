"""Arbitrary text into the parser and validator never raises; it is always classified."""

import json

import sample_plugin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vista.errors import ErrorClass
from vista.protocol import parse_turn
from vista.validation import parse_and_validate

TOOLS = {tool.name: tool for tool in (sample_plugin.Crop(), sample_plugin.Scale())}
tag = st.sampled_from(["<think>", "</think>", "<tool_call>", "</tool_call>", "<answer>", "</answer>",
                       "<tool_response>", "</tool_response>", "{", "}", '"name"', '"arguments"', ":", ","])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
call_like = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["crop", "scale", "nope"]) | json_values,
    "tool": st.sampled_from(["crop", "scale"]) | json_values,
    "task": json_values,
    "arguments": st.dictionaries(st.sampled_from(["value", "factor", "mode", "bbox", "image", "x"]), json_values,
                                 max_size=4) | json_values,
    "value": json_values,
})


def assert_classified(raw):
    call, validated, error = parse_and_validate(raw, TOOLS)
    assert (validated is None) != (error is None)
    if error is not None:
        assert error.error_class in (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3) and error.message


# deadline=None throughout: a per-example deadline is a timing assertion, which a shared machine breaks
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=12) | tag, max_size=20).map("".join))
def test_arbitrary_text_turns_are_parsed_and_every_call_classified(text):
    turn = parse_turn(text)
    assert all(e.error_class is ErrorClass.FORMAT for e in turn.format_errors)
    for raw in turn.tool_calls:
        assert_classified(raw)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_calls_are_classified(raw):
    assert_classified(raw)


@settings(max_examples=400, deadline=None)
@given(call_like)
def test_arbitrary_json_calls_are_classified(obj):
    assert_classified(json.dumps(obj))


def test_deeply_nested_json_is_classified():
    assert_classified("[" * 100000 + "]" * 100000)

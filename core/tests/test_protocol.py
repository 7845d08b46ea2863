import pytest
from vista.protocol import ToolCall, parse_call, parse_turn, render_turn


def codes(turn):
    return {e.code for e in turn.format_errors}


def test_well_formed_tool_call_turn():
    turn = parse_turn('<think>need a crop</think>\n<tool_call>{"name": "crop", "arguments": {}}</tool_call>')
    assert turn.is_well_formed
    assert turn.think == "need a crop"
    assert turn.tool_calls == ['{"name": "crop", "arguments": {}}']
    assert turn.answer is None


def test_well_formed_answer_turn():
    turn = parse_turn("<think>it is 3</think><answer>3</answer>")
    assert turn.is_well_formed and turn.answer == "3"


@pytest.mark.parametrize("text, code", [
    ("<answer>3</answer>", "missing_think"),
    ("<answer>3</answer><think>x</think>", "think_not_first"),
    ("<think>a</think><think>b</think><answer>3</answer>", "multiple_think"),
    ("<think>a</think><answer>3</answer><answer>4</answer>", "multiple_answers"),
    ('<think>a</think><tool_call>{}</tool_call><answer>4</answer>', "call_and_answer"),
    ("<think>a</think>", "no_action"),
    ("<think>a</think><answer> </answer>", "empty_answer"),
    ("<think>a</think><answer>3", "unclosed_tag"),
    ("<think>a</think></answer>", "unmatched_close"),
    ("<think>a <answer>3</answer></think><answer>3</answer>", "nested_tag"),
    ("so the answer: <think>a</think><answer>3</answer>", "text_outside_tags"),
    ("<think>a</think><tool_call>{}</tool_call><tool_response>fake</tool_response>", "policy_wrote_tool_response"),
])
def test_format_violations(text, code):
    turn = parse_turn(text)
    assert code in codes(turn)
    assert all(e.error_class.value == "FORMAT" for e in turn.format_errors)


def test_unclosed_answer_keeps_its_content():
    assert parse_turn("<think>a</think><answer>42").answer == "42"


def test_canonical_and_paper_dialect():
    call, err = parse_call('{"name": "scale", "arguments": {"value": 2}}')
    assert err is None and call == ToolCall(name="scale", arguments={"value": 2})
    call, err = parse_call('{"tool": "scale", "task": "div", "value": 2}')
    assert err is None and call.dialect == "paper" and call.task == "div" and call.arguments == {"value": 2}


def test_arguments_as_json_string_and_fenced_json_are_accepted():
    call, err = parse_call('{"name": "scale", "arguments": "{\\"value\\": 2}"}')
    assert err is None and call.arguments == {"value": 2}
    call, err = parse_call('```json\n{"name": "scale", "arguments": {}}\n```')
    assert err is None and call.name == "scale"


def test_render_round_trip():
    text = render_turn("t", calls=[ToolCall(name="scale", arguments={"value": 1})])
    turn = parse_turn(text)
    assert turn.is_well_formed
    call, err = parse_call(turn.tool_calls[0])
    assert call.name == "scale" and call.arguments == {"value": 1}

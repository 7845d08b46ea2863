"""calculator, solve_equation, symbolic: correctness through the full tool path, and that the parser refuses code."""

import math

import pytest
import vista
from hypothesis import given, settings
from hypothesis import strategies as st
from vista import ErrorClass
from vista.checks import check_tool
from vista.testing import registered_plugin
from vista_tools_math.algebra import calculate
from vista_tools_math.expression import ExpressionError, parse
from vista_tools_math.worker import SympyWorker

import vista_tools_math


@pytest.fixture(scope="module")
def tools():
    with registered_plugin(vista_tools_math, "math_under_test") as registry:
        yield registry.tools


def call(tools, name, arguments):
    return vista.call_tool(name, arguments, tools=tools)


@pytest.mark.parametrize("expression, value, numeric", [
    ("3/4", "3/4", 0.75),
    ("2*sqrt(3)", "2*sqrt(3)", 2 * math.sqrt(3)),
    ("45%", "9/20", 0.45),
    ("45% * 80", "36", 36.0),
    ("7 % 3", "1", 1.0),
    ("0.1 + 0.2", "0.3", 0.3),
    ("2^10", "1024", 1024.0),
    ("-2^2", "-4", -4.0),
    ("2^-1", "1/2", 0.5),
    ("sin(30°)", "1/2", 0.5),
    ("cosd(60) + tand(45)", "3/2", 1.5),
    ("5!", "120", 120.0),
    ("round(2.5) + round(2.345, 2)", "5.35", 5.35),
    ("2√3", "2*sqrt(3)", 2 * math.sqrt(3)),
    ("(1+2)(3+4)", "21", 21.0),
    ("3 × 4 ÷ 2 − 1", "5", 5.0),
    ("log(8, 2) + ln(e)", "4", 4.0),
    ("cbrt(-8)", "-2", -2.0),
    ("gcd(12, 18) * lcm(4, 6)", "72", 72.0),
    ("binomial(10, 3)", "120", 120.0),
    ("degrees(pi/3)", "60", 60.0),
    ("1.5e3", "1500", 1500.0),
    ("sqrt(-4)", "2*I", None),
])
def test_calculator_values(tools, expression, value, numeric):
    result = call(tools, "calculator", {"expression": expression})
    assert result.ok, result.error
    assert result.data["value"] == value
    if numeric is None:
        assert result.data["numeric"] is None
    else:
        assert result.data["numeric"] == pytest.approx(numeric)
    assert value in result.text


@pytest.mark.parametrize("expression, fragment", [
    ("__import__('os').system('id')", "'__import__' is not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "'.' (attribute access) is not allowed"),
    ("x.__class__", "'.' (attribute access) is not allowed"),
    ("__builtins__", "'__builtins__' is not allowed"),
    ("lambda: 1", "'lambda' is not allowed"),
    ("os", "unknown name 'os'"),
    ("open(1)", "unknown function 'open'"),
    ("eval(1)", "unknown function 'eval'"),
    ("[1, 2]", "'[' (indexing, lists) is not allowed"),
    ("'a' * 3", "quotes (strings) are not allowed"),
    ("2^99999999", "the limit is 20000"),
    ("9^9^9", "the limit is 20000"),
    ("factorial(100000)", "too large"),
    ("1/0", "division by zero"),
    ("tan(pi/2)", "undefined"),
    ("sqr(2)", "Did you mean 'sqrt'?"),
    ("2 +", "ends too early"),
    ("x + 1", "unknown name 'x'"),
    ("x = 2", "unknown name 'x'"),
    ("(" * 100 + "1" + ")" * 100, "nested more than"),
])
def test_calculator_refuses_with_e4_naming_the_token(tools, expression, fragment):
    result = call(tools, "calculator", {"expression": expression})
    assert not result.ok
    assert result.error.error_class is ErrorClass.E4
    assert result.error.argument == "expression"
    assert fragment in result.error.message


def test_calculator_numeric_is_null_beyond_float_range():
    assert calculate("exp(10^4000)")["data"] == {"value": "exp(1" + "0" * 4000 + ")", "numeric": None}


def test_calculator_schema_bounds_are_e3(tools):
    result = call(tools, "calculator", {"expression": "1+" * 1500 + "1"})
    assert result.error.error_class is ErrorClass.E3
    assert call(tools, "calculator", {"expression": 3}).error.error_class is ErrorClass.E3


@pytest.mark.parametrize("equations, unknowns, expected", [
    (["x + y = 10", "x - y = 2"], ["x", "y"], [{"x": "6", "y": "4"}]),
    (["x^2 - 5x + 6 = 0"], ["x"], [{"x": "2"}, {"x": "3"}]),
    (["2x + 3 = 7"], ["x"], [{"x": "2"}]),
    (["x^2 = 2"], ["x"], [{"x": "-sqrt(2)"}, {"x": "sqrt(2)"}]),
    (["a*x + b"], ["x"], [{"x": "-b/a"}]),
    (["x + 1 = x"], ["x"], []),
    (["tand(A) = 1"], ["A"], [{"A": "45"}]),
])
def test_solve_equation(tools, equations, unknowns, expected):
    result = call(tools, "solve_equation", {"equations": equations, "unknowns": unknowns})
    assert result.ok, result.error
    assert sorted(result.data["solutions"], key=str) == sorted(expected, key=str)


def test_solve_equation_text_has_numeric_values(tools):
    result = call(tools, "solve_equation", {"equations": ["x^2 = 3"], "unknowns": ["x"]})
    assert "x = sqrt(3) ≈ 1.73205080756888" in result.text


@pytest.mark.parametrize("arguments, error_class, argument, fragment", [
    ({"equations": ["x + 1 = 2"], "unknowns": ["y"]}, ErrorClass.E4, "unknowns", "appear in no equation"),
    ({"equations": ["x = 1 = 2"], "unknowns": ["x"]}, ErrorClass.E4, "equations", "a second '='"),
    ({"equations": ["__import__('os') = 1"], "unknowns": ["x"]}, ErrorClass.E4, "equations",
     "'__import__' is not allowed"),
    ({"equations": ["x + 1 = x + 1"], "unknowns": ["x"]}, ErrorClass.E4, "equations", "holds for every value"),
    ({"equations": ["x = 1"], "unknowns": ["__class__"]}, ErrorClass.E3, "unknowns[0]", "unknowns[0]"),
    ({"equations": ["sin = 1"], "unknowns": ["sin"]}, ErrorClass.E4, "unknowns", "function or constant name"),
    ({"equations": [], "unknowns": ["x"]}, ErrorClass.E3, "equations", "equations"),
    ({"equation": ["x = 1"], "unknowns": ["x"]}, ErrorClass.E2, "equation", "Did you mean 'equations'?"),
])
def test_solve_equation_errors(tools, arguments, error_class, argument, fragment):
    result = call(tools, "solve_equation", arguments)
    assert result.error.error_class is error_class
    assert result.error.argument == argument
    assert fragment in result.error.message


@pytest.mark.parametrize("arguments, expected", [
    ({"expression": "(x+1)^2", "operation": "expand"}, "x**2 + 2*x + 1"),
    ({"expression": "x^2 - 1", "operation": "factor"}, "(x - 1)*(x + 1)"),
    ({"expression": "sin(x)^2 + cos(x)^2"}, "1"),
    ({"expression": "x^3 + 2x", "operation": "diff"}, "3*x**2 + 2"),
    ({"expression": "x*y", "operation": "integrate", "variable": "y"}, "x*y**2/2"),
    ({"expression": "2x(x+1)", "operation": "expand"}, "2*x**2 + 2*x"),
])
def test_symbolic(tools, arguments, expected):
    result = call(tools, "symbolic", arguments)
    assert result.ok, result.error
    assert result.data["result"] == expected


def test_symbolic_needs_a_variable_when_ambiguous(tools):
    result = call(tools, "symbolic", {"expression": "x*y", "operation": "diff"})
    assert result.error.error_class is ErrorClass.E4
    assert "several variables (x, y)" in result.error.message


def test_symbolic_operation_enum_is_e3(tools):
    result = call(tools, "symbolic", {"expression": "x", "operation": "limit"})
    assert result.error.error_class is ErrorClass.E3
    assert '"simplify"' in result.error.message


def test_worker_stops_a_computation_past_its_time_limit():
    worker = SympyWorker(timeout_s=1.0)
    try:
        with pytest.raises(vista.ToolArgumentError, match="did not finish within 1 s"):
            worker.call("transform", expression="(a+b+c+d+x+y)^60", operation="expand", variable=None)
        assert worker.call("calculate", expression="1+1")["data"]["value"] == "2"  # a fresh child took over
    finally:
        worker.stop()


@pytest.mark.parametrize("name", ["calculator", "solve_equation", "symbolic"])
def test_check_tool(tools, name):
    check_tool(tools[name])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=2, max_size=6), st.lists(st.sampled_from("+-*"), min_size=5,
                                                                         max_size=5))
def test_integer_arithmetic_matches_python(numbers, ops):
    text = str(numbers[0])
    sums = [numbers[0]]  # products first, then the sum: the usual precedence, computed without parsing
    for number, op in zip(numbers[1:], ops):
        text += f" {op} ({number})"
        if op == "*":
            sums[-1] *= number
        else:
            sums.append(number if op == "+" else -number)
    assert calculate(text)["data"]["value"] == str(sum(sums))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefxyz_().,[]{}'\"+-*/^%!=0123456789 lambdaimport", max_size=40))
def test_parser_never_fails_other_than_expression_error(text):
    try:
        parse(text, free_symbols=True, allow_equation=True)
    except ExpressionError:
        pass

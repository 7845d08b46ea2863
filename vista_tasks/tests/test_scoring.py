import pytest
from vista_tasks.answers import choice_index, extract_answer, parse_number
from vista_tasks.scoring import anls, normalize_vqa_answer, relaxed_accuracy, score_answer, vqa_accuracy


@pytest.mark.parametrize("text, answer_type, choices, expected", [
    ("The answer is 1.2", "float", None, "1.2"),
    ("The answer is 1.2 cm because 3 cm were cut", "float", None, "1.2"),
    ("There are 5 apples and 3 pears, so 8", "integer", None, "8"),
    ("12 cm", "integer", None, "12"),
    ("45%", "float", None, "45"),
    ("3/4", "float", None, "3/4"),
    ("\\boxed{1,000}", "integer", None, "1000"),
    ("The answer is $\\frac{16}{95}$.", "float", None, "16/95"),
    ("−4.3", "float", None, "-4.3"),
    ("five", "integer", None, "5"),
    ("(B)", "multiple_choice", ["135°", "140°"], "140°"),
    ("B.", "multiple_choice", None, "B"),
    ("Answer: option C", "multiple_choice", None, "C"),
    ("<answer>quarter past</answer>", "multiple_choice", ["half", "quarter", "quarter past"], "quarter past"),
    ("yes", "boolean", None, "yes"),
    ("Answer: No.", "boolean", None, "no"),
    ("[2014, 2016]", "list", None, "[2014, 2016]"),
    ("The answer is Common water flea.", "text", None, "Common water flea"),
    ("no digits here", "integer", None, None),
    ("", "text", None, None),
    (None, "text", None, None),
])
def test_extract_answer(text, answer_type, choices, expected):
    assert extract_answer(text, answer_type, choices) == expected


def test_extract_answer_rejects_unknown_type():
    with pytest.raises(ValueError, match="answer_type"):
        extract_answer("1", "number")


def test_a_capital_word_is_not_read_as_a_choice_letter():
    assert extract_answer("I think so", "multiple_choice", ["x", "y"]) is None
    assert extract_answer("A triangle", "multiple_choice", None) is None


@pytest.mark.parametrize("value, expected", [
    ("1,000", 1000.0), ("-3/4", -0.75), ("$3.30", 3.3), ("1 1/2", 1.5), ("12 cm", 12.0), ("45%", 45.0),
    (7, 7.0), (True, None), ("abc", None),
])
def test_parse_number(value, expected):
    assert parse_number(value) == expected


def test_parse_number_strict_refuses_units():
    assert parse_number("6 cm", strict=True) is None
    assert parse_number("$6", strict=True) == 6.0


def test_choice_index_forms():
    choices = ["95", "83", "88"]
    assert choice_index("83", choices) == 1
    assert choice_index("B", choices) == 1
    assert choice_index("(c)", choices) == 2
    assert choice_index(0, choices) == 0
    assert choice_index(3, choices) is None
    assert choice_index("D", choices) is None


@pytest.mark.parametrize("prediction, answer, answer_type, choices, tolerance, expected", [
    ("1.20", "1.2", "float", None, 0.0, 1.0),
    ("The answer is 1.3", "1.2", "float", None, 0.0, 0.0),
    ("1.25", "1.2", "float", None, 0.05, 1.0),
    ("1.27", "1.2", "float", None, 0.05, 0.0),
    ("3/4", "0.75", "float", None, 0.0, 1.0),
    ("(B)", "140°", "multiple_choice", ["135°", "140°"], 0.0, 1.0),
    ("140°", "B", "multiple_choice", ["135°", "140°"], 0.0, 1.0),
    ("A", 1, "multiple_choice", ["135°", "140°"], 0.0, 0.0),
    ("yes, it is", "Yes", "boolean", None, 0.0, 1.0),
    ("no", "yes", "boolean", None, 0.0, 0.0),
    ("6 cm", "6cm", "text", None, 0.0, 1.0),
    ("Paris.", "paris", "text", None, 0.0, 1.0),
    ("London", "paris", "text", None, 0.0, 0.0),
    ("[2014, 2016]", "[2014, 2016]", "list", None, 0.0, 1.0),
    ("[2016, 2014]", "[2014, 2016]", "list", None, 0.0, 0.0),
    (None, "1", "integer", None, 0.0, 0.0),
])
def test_score_answer(prediction, answer, answer_type, choices, tolerance, expected):
    assert score_answer(prediction, answer, answer_type, choices, tolerance) == expected


def test_an_int_prediction_is_a_choice_index():
    assert score_answer(1, "140°", "multiple_choice", ["135°", "140°"]) == 1.0


def test_a_gold_that_names_no_choice_is_an_error():
    with pytest.raises(ValueError, match="names none of the choices"):
        score_answer("A", "zebra", "multiple_choice", ["cat", "dog"])


def test_relaxed_accuracy_follows_chartqa():
    assert relaxed_accuracy("46", "45") == 1.0            # 2.2% off
    assert relaxed_accuracy("48", "45") == 0.0            # 6.7% off
    assert relaxed_accuracy("The answer is 44.", "45") == 1.0
    assert relaxed_accuracy("0.45", "45%") == 1.0          # pix2struct reads "45%" as 0.45
    assert relaxed_accuracy("45%", "45") == 1.0
    assert relaxed_accuracy("0.1", "0") == 0.0             # a zero target needs an exact string
    assert relaxed_accuracy("0", "0") == 1.0
    assert relaxed_accuracy("Yes", "yes") == 1.0
    assert relaxed_accuracy("Yes", "no") == 0.0
    assert relaxed_accuracy("12", ["10", "12"]) == 1.0
    assert relaxed_accuracy(None, "1") == 0.0


def test_anls_follows_docvqa():
    assert anls("Hello  World", ["hello world"]) == 1.0
    assert anls("helo", ["hello"]) == pytest.approx(0.8)
    assert anls("abc", ["xyz"]) == 0.0
    assert anls("hello", ["nope", "hello"]) == 1.0
    assert anls("abcdef", "abcxyz") == 0.0                # NL = 0.5 reaches the threshold
    assert anls(None, ["a"]) == 0.0


def test_vqa_accuracy_follows_the_official_evaluation():
    answers = ["2"] * 2 + ["3"] * 8
    # Leave-one-out over 10 annotators: two subsets keep one "2" (1/3), eight keep both (2/3).
    assert vqa_accuracy("two", answers) == pytest.approx((2 * (1 / 3) + 8 * (2 / 3)) / 10)
    assert vqa_accuracy("3", answers) == 1.0
    assert vqa_accuracy("2", answers, leave_one_out=False) == pytest.approx(2 / 3)
    assert vqa_accuracy("dog", ["cat"] * 10) == 0.0
    assert vqa_accuracy(None, ["a"]) == 0.0


def test_vqa_normalisation():
    assert normalize_vqa_answer("The dog's bowl, isnt it?") == "dog's bowl isn't it"
    assert normalize_vqa_answer("Two") == "2"
    assert normalize_vqa_answer("1,000") == "1000"


def test_free_text_naming_two_choices_names_none():
    assert choice_index("yes or no? I would say yes", ["yes", "no"]) is None
    assert choice_index("It is a quarter past three", ["half", "quarter", "quarter past"]) == 2

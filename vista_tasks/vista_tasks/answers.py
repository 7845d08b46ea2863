"""Answer extraction: the one place that turns what a model wrote into the answer it meant.

A model writes "The answer is 1.2 cm.", "\\boxed{3/4}", "(B) 145°", "Yes, it is." or "<answer>B</answer>"; the
scorers of every benchmark start from `extract_answer`, which finds the final answer span and then reads a number,
a choice, a yes/no, a list or a phrase from it according to the benchmark's answer type.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

ANSWER_TYPES: tuple[str, ...] = ("multiple_choice", "integer", "float", "text", "list", "boolean")

_TAGGED = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_MARKER = re.compile(
    r"(?:final\s+answer|correct\s+answer|the\s+answer|answer)\s*(?:is|:|=|should\s+be|would\s+be)\s*:?\s*",
    re.I,
)
# A number as people write it: signs (ASCII or unicode minus), thousands separators, decimals, a fraction or a
# mixed number ("1 1/2"), an optional percent sign. Commas group only by three digits, so "1,2" is two numbers.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+−–]?)\s?\$?"
    r"(?:(?P<whole>\d+)\s+(?P<mnum>\d+)\s*/\s*(?P<mden>\d+)"
    r"|(?P<num>\d+(?:\.\d+)?)\s*/\s*(?P<den>\d+(?:\.\d+)?)"
    r"|(?P<dec>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+))"
    r"(?P<pct>\s?%)?"
)
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
_LATEX_FRACTION = re.compile(r"\\d?frac\{\s*([-\d.,]+)\s*\}\{\s*([\d.,]+)\s*\}")
_YES = {"yes", "true"}
_NO = {"no", "false"}
# "(B)", "B.", "B)", "B:", "option B", "choice (b)" at the start of the answer span; a bare capital letter only
# alone, so that "A triangle..." or "I think..." are not read as choices A and I.
_LETTER_AT_START = re.compile(r"^\s*(?:(?:option|choice)\s*)?(?:\(([A-Za-z])\)|([A-Z])(?:[.:)]|\s*$))")
_LETTER_ANYWHERE = re.compile(r"(?:\(([A-Z])\)|\b(?:option|choice)\s+\(?([A-Z])\b\)?)", re.I)
_TRAILING = " \t\n.。,;:!?\"'`*"


def final_span(text: str) -> str:
    """The part of a model's output that states the final answer: inside <answer> tags, inside the last
    \\boxed{...}, after the last "the answer is"/"Answer:", else the whole text."""
    tagged = _TAGGED.findall(text)
    if tagged:
        text = tagged[-1]
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    markers = list(_MARKER.finditer(text))
    if markers:
        rest = text[markers[-1].end():].strip()
        if rest:
            return rest.splitlines()[0].strip()
    return text.strip()


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + len("\\boxed{")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def _number_value(match: re.Match) -> float:
    sign = -1.0 if match["sign"] in ("-", "−", "–") else 1.0
    if match["whole"] is not None:
        denominator = int(match["mden"])
        value = int(match["whole"]) + Fraction(int(match["mnum"]), denominator) if denominator else math.nan
    elif match["num"] is not None:
        denominator = float(match["den"])
        value = float(match["num"]) / denominator if denominator else math.nan
    else:
        value = float(match["dec"].replace(",", ""))
    return sign * float(value)


def _number_token(match: re.Match) -> str:
    """The number as written, without separators, currency, percent sign or spaces: '1,000' -> '1000'."""
    sign = "-" if match["sign"] in ("-", "−", "–") else ""
    if match["whole"] is not None:
        return f"{sign}{match['whole']} {match['mnum']}/{match['mden']}"
    if match["num"] is not None:
        return f"{sign}{match['num']}/{match['den']}"
    return sign + match["dec"].replace(",", "")


def find_numbers(text: str) -> list[re.Match]:
    """The numbers in a text, in order (a fraction over zero is not a number)."""
    return [m for m in _NUMBER.finditer(text) if not math.isnan(_number_value(m))]


def parse_number(value: Any, *, strict: bool = False) -> float | None:
    """A number from a value: ints and floats as they are; strings as written ("1,000", "-3/4", "45%", "$3.30",
    "12 cm", "1 1/2", "five"). A percent reads as its face value (45% -> 45). `strict` refuses strings with anything
    but the number (units, words), for callers that must not read "6 cm" as "6 m"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    word = _NUMBER_WORDS.get(text.lower().strip(_TRAILING))
    if word is not None:
        return float(word)
    matches = find_numbers(text)
    if not matches:
        return None
    if strict:
        match = matches[0]
        rest = (text[:match.start()] + text[match.end():]).strip(_TRAILING)
        if len(matches) != 1 or rest not in ("", "$"):
            return None
    return _number_value(matches[0])


def format_number(value: float) -> str:
    """Shortest exact decimal form: 12.0 -> '12', 1.20 -> '1.2'."""
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _extract_number(text: str) -> str | None:
    span = _LATEX_FRACTION.sub(r"\1/\2", final_span(text))
    text = _LATEX_FRACTION.sub(r"\1/\2", text)
    # After an explicit marker the first number is the answer ("1.2 cm because 3 ..."); in free text the last one.
    numbers = find_numbers(span)
    if numbers:
        return _number_token(numbers[0] if span != text.strip() else numbers[-1])
    word = _NUMBER_WORDS.get(span.lower().strip(_TRAILING))
    return str(word) if word is not None else None


def letter_of(index: int) -> str:
    return chr(ord("A") + index)


def _normalise_choice_text(text: str) -> str:
    return " ".join(str(text).lower().strip(_TRAILING).split())


def choice_index(value: Any, choices: Sequence[str] | None, *, free_text: bool = True) -> int | None:
    """Which choice a value names, as a 0-based index, or None.

    An int is an index. A string is matched, in order: to a choice's text; to a letter ("B", "(B)", "B.",
    "option B"); and, when `free_text`, to the one choice whose text it contains ("quarter past" counts as naming
    only "quarter past", not also "quarter"; naming two choices names none). Without choices only letters are
    understood."""
    if value is None or isinstance(value, bool):
        return None
    n = len(choices) if choices else 26
    if isinstance(value, int):
        return value if 0 <= value < n else None
    text = str(value).strip()
    if choices:
        wanted = _normalise_choice_text(text)
        for i, choice in enumerate(choices):
            if _normalise_choice_text(choice) == wanted:
                return i
    match = _LETTER_AT_START.match(text) or (_LETTER_ANYWHERE.search(text) if free_text else None)
    if match:
        index = ord((match.group(1) or match.group(2)).upper()) - ord("A")
        if 0 <= index < n:
            return index
    if choices and free_text:
        lowered = " " + _normalise_choice_text(text) + " "
        named = {_normalise_choice_text(c) for c in choices}
        contained = {c for c in named if c and re.search(r"(?<!\w)" + re.escape(c) + r"(?!\w)", lowered)}
        # A choice inside a longer named one ("quarter" in "quarter past") is not named on its own.
        maximal = [c for c in contained if not any(c != other and c in other for other in contained)]
        if len(maximal) == 1:
            return [_normalise_choice_text(c) for c in choices].index(maximal[0])
    return None


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def most_similar_choice(text: str, choices: Sequence[str]) -> int:
    """The choice closest to `text` by edit distance: how MathVista and TabMWP map an answer that names no
    choice exactly onto one."""
    wanted = _normalise_choice_text(text)
    distances = [levenshtein(wanted, _normalise_choice_text(c)) for c in choices]
    return distances.index(min(distances))


def _extract_choice(text: str, choices: Sequence[str] | None) -> str | None:
    span = final_span(text)
    index = choice_index(span, choices)
    if index is None and span != text.strip():
        index = choice_index(text, choices)
    if index is None:
        return None
    return choices[index] if choices else letter_of(index)


def parse_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    words = re.findall(r"[a-z]+", str(value).lower())
    for word in words:
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


def _extract_boolean(text: str) -> str | None:
    verdict = parse_boolean(final_span(text))
    if verdict is None:
        return None
    return "yes" if verdict else "no"


def parse_list(value: Any) -> list | None:
    """A list from "[1, 2, 3]", "1, 2, 3", "(a, b)" or a Python list; numbers become floats."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        text = str(value).strip().strip(_TRAILING)
        bracketed = re.search(r"[\[(]([^\[\]()]*)[\])]", text)
        body = bracketed.group(1) if bracketed else text
        try:
            literal = ast.literal_eval(f"[{body}]")
            items = list(literal)
        except (ValueError, SyntaxError):
            items = [item.strip() for item in body.split(",") if item.strip()]
    parsed = []
    for item in items:
        number = parse_number(item, strict=True)
        parsed.append(number if number is not None else _normalise_choice_text(item))
    return parsed or None


def _extract_list(text: str) -> str | None:
    items = parse_list(final_span(text))
    if items is None:
        return None
    return "[" + ", ".join(format_number(i) if isinstance(i, float) else i for i in items) + "]"


def _extract_text(text: str) -> str | None:
    span = final_span(text).strip(_TRAILING)
    return span or None


def extract_answer(text: str | None, answer_type: str, choices: list[str] | None = None) -> str | None:
    """The final answer in a model's free-text output, read as `answer_type` (see `vista.task.AnswerType`).

    - multiple_choice: the chosen choice's text when `choices` are given, else its capital letter;
    - integer / float: the number as written without separators, currency or percent sign ("1,000" -> "1000",
      "3/4" stays "3/4");
    - boolean: "yes" or "no";
    - list: "[a, b, ...]" with numbers in their shortest form;
    - text: the answer span without trailing punctuation.
    None when nothing of that type is found (a wrong answer, not an error)."""
    if text is None:
        return None
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"unknown answer_type {answer_type!r}; expected one of {', '.join(ANSWER_TYPES)}")
    text = str(text)
    if not text.strip():
        return None
    if answer_type == "multiple_choice":
        return _extract_choice(text, choices)
    if answer_type in ("integer", "float"):
        return _extract_number(text)
    if answer_type == "boolean":
        return _extract_boolean(text)
    if answer_type == "list":
        return _extract_list(text)
    return _extract_text(text)

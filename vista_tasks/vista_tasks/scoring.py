"""The metrics the benchmarks publish, over answers read by `vista_tasks.answers`.

- `score_answer`: exact answer matching by answer type (choices by letter, index or text; numbers with an optional
  relative tolerance; yes/no; lists; normalised text), the default of every task;
- `relaxed_accuracy`: ChartQA/PlotQA's relaxed accuracy (numbers within 5% relative error, text exact);
- `anls`: DocVQA/InfographicVQA's Average Normalised Levenshtein Similarity;
- `vqa_accuracy`: the VQA accuracy of VizWiz and A-OKVQA (min(#humans who gave the answer / 3, 1)), with the
  official answer normalisation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from .answers import (
    ANSWER_TYPES,
    choice_index,
    extract_answer,
    final_span,
    levenshtein,
    parse_boolean,
    parse_list,
    parse_number,
)

__all__ = [
    "anls", "extract_answer", "levenshtein", "normalize_vqa_answer", "numbers_match", "relaxed_accuracy",
    "score_answer", "vqa_accuracy",
]


def numbers_match(prediction: float | None, answer: float | None, tolerance: float = 0.0) -> bool:
    """True when `prediction` is within `tolerance` relative error of `answer` (exact, up to float rounding,
    when tolerance is 0; an answer of 0 needs exactly 0)."""
    if prediction is None or answer is None or math.isnan(prediction) or math.isnan(answer):
        return False
    if tolerance <= 0 or answer == 0:
        return math.isclose(prediction, answer, rel_tol=1e-9, abs_tol=1e-12)
    return abs(prediction - answer) <= tolerance * abs(answer) + 1e-12


def _normalise_text(text: Any) -> str:
    return " ".join(str(text).lower().strip(" \t\n.,;:!?\"'`*").split())


def _texts_match(prediction: str, answer: Any) -> bool:
    p, a = _normalise_text(prediction), _normalise_text(answer)
    if p == a or p.replace(" ", "") == a.replace(" ", ""):
        return True
    p_num, a_num = parse_number(p, strict=True), parse_number(a, strict=True)
    return p_num is not None and numbers_match(p_num, a_num)


def _items_match(prediction: list, answer: list, tolerance: float) -> bool:
    if len(prediction) != len(answer):
        return False
    for p, a in zip(prediction, answer, strict=True):
        if isinstance(a, float):
            if not (isinstance(p, float) and numbers_match(p, a, tolerance)):
                return False
        elif p != a:
            return False
    return True


def score_answer(prediction: str | None, answer: Any, answer_type: str, choices: list[str] | None = None,
                 tolerance: float = 0.0) -> float:
    """1.0 when the answer in `prediction` (free text, see `extract_answer`) equals `answer`, else 0.0.

    multiple_choice: `answer` is a letter, a 0-based index or a choice's text; the prediction may name the choice
    by letter ("B", "(B)"), by text, or be an int index. integer/float: numeric comparison within `tolerance`
    relative error. boolean: yes/no/true/false. list: item by item. text: case, spacing and trailing punctuation
    ignored; numbers compared as numbers."""
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"unknown answer_type {answer_type!r}; expected one of {', '.join(ANSWER_TYPES)}")
    if prediction is None or answer is None:
        return 0.0
    if answer_type == "multiple_choice":
        gold = choice_index(answer, choices, free_text=False)
        if gold is None:
            raise ValueError(f"answer {answer!r} names none of the choices {choices!r}")
        if isinstance(prediction, int) and not isinstance(prediction, bool):
            return float(prediction == gold)
        picked = extract_answer(prediction, "multiple_choice", choices)
        return float(picked is not None and choice_index(picked, choices, free_text=False) == gold)
    if answer_type in ("integer", "float"):
        predicted = parse_number(extract_answer(str(prediction), answer_type))
        return float(numbers_match(predicted, parse_number(answer), tolerance))
    if answer_type == "boolean":
        predicted = parse_boolean(extract_answer(str(prediction), "boolean"))
        return float(predicted is not None and predicted == parse_boolean(answer))
    if answer_type == "list":
        predicted, gold = parse_list(extract_answer(str(prediction), "list")), parse_list(answer)
        return float(predicted is not None and gold is not None and _items_match(predicted, gold, tolerance))
    predicted = extract_answer(str(prediction), "text")
    return float(predicted is not None and _texts_match(predicted, answer))


# --- ChartQA / PlotQA -------------------------------------------------------------------------------------------

def _relaxed_number(text: str) -> list[float]:
    """The readings of a numeric answer. The reference implementation (pix2struct) reads "45%" as 0.45 while
    ChartQA's labels mostly write percentages as bare numbers, so both readings of a percent are tried."""
    text = text.strip()
    stripped = text.rstrip("%").strip()
    value = parse_number(stripped, strict=True)
    if value is None:
        return []
    return [value, value / 100.0] if text.endswith("%") else [value]


def relaxed_accuracy(prediction: str | None, answer: Any, tolerance: float = 0.05) -> float:
    """ChartQA's relaxed accuracy (Masry et al. 2022; as in pix2struct's `relaxed_correctness`): a numeric answer
    is correct within `tolerance` relative error of a non-zero target, anything else needs an exact,
    case-insensitive match. `answer` may be a list of accepted answers (best one counts)."""
    if prediction is None:
        return 0.0
    if isinstance(answer, (list, tuple)):
        return max((relaxed_accuracy(prediction, a, tolerance) for a in answer), default=0.0)
    span = final_span(str(prediction)).strip(" \t\n.")
    target = str(answer).strip()
    targets = _relaxed_number(target)
    if targets and any(targets):
        guesses = _relaxed_number(span)
        if not guesses:
            number = extract_answer(span, "float")
            guesses = _relaxed_number(number + ("%" if span.rstrip().endswith("%") else "")) if number else []
        return float(any(t and abs(g - t) / abs(t) <= tolerance + 1e-12 for g in guesses for t in targets))
    return float(span.lower() == target.lower())


# --- DocVQA / InfographicVQA --------------------------------------------------------------------------------------

def anls(prediction: str | None, answers: Sequence[str] | str, threshold: float = 0.5) -> float:
    """Average Normalised Levenshtein Similarity for one question (Biten et al. 2019, the DocVQA and
    InfographicVQA metric): the best over accepted answers of 1 - NL, where NL is the edit distance divided by the
    longer length after lower-casing and collapsing spaces, and 0 when NL reaches `threshold`."""
    if prediction is None:
        return 0.0
    if isinstance(answers, str):
        answers = [answers]
    predicted = " ".join(final_span(str(prediction)).strip().lower().split())
    best = 0.0
    for answer in answers:
        gold = " ".join(str(answer).strip().lower().split())
        longest = max(len(gold), len(predicted))
        distance = levenshtein(gold, predicted) / longest if longest else 0.0
        best = max(best, 1.0 - distance if distance < threshold else 0.0)
    return best


# --- VQA (VizWiz, A-OKVQA) ----------------------------------------------------------------------------------------

# The VQA evaluation's normalisation (Antol et al.; vqaEval.py): contractions restored, number words to digits,
# articles dropped, punctuation removed or spaced.
_CONTRACTIONS = {word.replace("'", ""): word for word in (
    "ain't aren't can't could've couldn't couldn't've didn't doesn't don't hadn't hadn't've hasn't haven't he'd "
    "he'd've he's how'd how'll how's I'd I'd've I'm I've isn't it'd it'd've it'll let's ma'am mightn't "
    "mightn't've might've mustn't must've needn't not've o'clock oughtn't 'ow's'at shan't she'd've she's "
    "should've shouldn't shouldn't've somebody'd somebody'd've somebody'll somebody's someone'd someone'd've "
    "someone'll someone's something'd something'd've something'll that's there'd there'd've there're there's "
    "they'd they'd've they'll they're they've 'twas wasn't we'd've we've weren't what'll what're what's what've "
    "when's where'd where's where've who'd who'd've who'll who's who've why'll why're why's won't would've "
    "wouldn't wouldn't've y'all y'all'll y'all'd've you'd you'd've you'll you're you've"
).split()}
_DIGITS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
           "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = {"a", "an", "the"}
_PUNCTUATION = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",",
                "?", "!"]
_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
_COMMA_STRIP = re.compile(r"(\d)(,)(\d)")


def normalize_vqa_answer(text: str) -> str:
    text = str(text).replace("\n", " ").replace("\t", " ").strip()
    out = text
    for p in _PUNCTUATION:
        if (p + " " in text or " " + p in text) or _COMMA_STRIP.search(text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    out = _PERIOD_STRIP.sub("", out)
    words = [_DIGITS.get(w, w) for w in out.lower().split()]
    return " ".join(_CONTRACTIONS.get(w, w) for w in words if w not in _ARTICLES)


def vqa_accuracy(prediction: str | None, answers: Sequence[str], *, leave_one_out: bool = True) -> float:
    """VQA accuracy: min(#annotators who gave the predicted answer / 3, 1), after the official normalisation.

    With `leave_one_out` (the official VQA/VizWiz evaluation) it is averaged over the 10 subsets of 9 annotators;
    without it (A-OKVQA's direct-answer evaluation) it is computed once over all annotators."""
    if prediction is None or not answers:
        return 0.0
    predicted = normalize_vqa_answer(final_span(str(prediction)).strip(" \t\n."))
    gold = [normalize_vqa_answer(a) for a in answers]
    if not leave_one_out:
        return min(1.0, sum(g == predicted for g in gold) / 3.0)
    scores = []
    for i in range(len(gold)):
        others = gold[:i] + gold[i + 1:]
        scores.append(min(1.0, sum(g == predicted for g in others) / 3.0))
    return sum(scores) / len(scores)

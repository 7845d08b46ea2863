"""Checks for procedural generators beyond `vista.checks.check_task`, shared by the generators' tests:

    from vista_tasks.procedural.testing import generator_problems
    assert generator_problems(MyTask(), seeds=range(6)) == []

Each check returns a list of problems (empty when all is well), so a test shows every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from vista import Example

from ._base import DIFFICULTIES, ProceduralTask, format_value


def image_bytes(example: Example) -> list[bytes]:
    return [image.tobytes() for image in example.open_images()]


def answer_forms(example: Example) -> list[str]:
    """The gold answer the ways a model writes it: bare, tagged, boxed, in a sentence, with a unit or a percent."""
    answer = str(example.answer)
    forms = [answer, f"<answer>{answer}</answer>", f"The answer is {answer}.", f"\\boxed{{{answer}}}",
             f"Reading the image carefully, the final answer is: {answer}"]
    if example.answer_type in ("integer", "float"):
        forms += [f"{answer} units", f"So it is {answer}%." if example.task == "chart_pie" else f"= {answer}"]
    if example.answer_type == "boolean":
        forms += [answer.lower(), f"{answer}, it is."]
    if example.answer_type == "text":
        forms += [answer.upper(), f"  {answer.lower()} "]
    return forms


def wrong_answers(example: Example) -> list[str]:
    """Answers that must score 0: other numbers, the opposite verdict, another word."""
    answer = str(example.answer)
    if example.answer_type in ("integer", "float"):
        value = float(answer)
        return [str(round(value * 1.5 + 1, 2)), str(round(value - 2.5 - abs(value) * 0.2, 2)), "no idea"]
    if example.answer_type == "boolean":
        return ["No" if answer.lower() == "yes" else "Yes", "maybe"]
    return [answer + "x", "none of them", ""]


def generator_problems(task: ProceduralTask, seeds: Iterable[int] = range(4)) -> list[str]:
    """Determinism (same seed, same example and pixels), variety (different seeds and splits differ), the oracle's
    answer scoring 1, the gold answer scoring 1 in a model's forms and wrong answers scoring 0, at every
    difficulty the task's config allows."""
    problems: list[str] = []
    seeds = list(seeds)
    config_type = type(task.config)
    for difficulty in DIFFICULTIES:
        config = config_type(**{**vars(task.config), "difficulty": difficulty})
        generator = type(task)(config)
        examples = [generator.generate(seed) for seed in seeds]
        again = generator.generate(seeds[0])
        if (again.question, again.answer, again.metadata) != (examples[0].question, examples[0].answer,
                                                                examples[0].metadata):
            problems.append(f"difficulty {difficulty} seed {seeds[0]}: the same seed gave a different example")
        if image_bytes(again) != image_bytes(examples[0]):
            problems.append(f"difficulty {difficulty} seed {seeds[0]}: the same seed gave different pixels")
        for seed, example in zip(seeds, examples):
            label = f"difficulty {difficulty} seed {seed} ({example.question!r} -> {example.answer!r})"
            oracle = generator.oracle(example)
            if generator.score(oracle.answer, example) != 1.0:
                problems.append(f"{label}: the oracle's answer {oracle.answer!r} does not score 1")
            if not oracle.steps or any(step.tool is None for step in oracle.steps):
                problems.append(f"{label}: the oracle makes no tool call or a step without a tool")
            for form in answer_forms(example):
                if generator.score(form, example) != 1.0:
                    problems.append(f"{label}: the gold answer written as {form!r} does not score 1")
            for wrong in wrong_answers(example):
                if generator.score(wrong, example) != 0.0:
                    problems.append(f"{label}: the wrong answer {wrong!r} scores above 0")
        pictures = {tuple(image_bytes(e)) for e in examples}
        if len(pictures) != len(examples):
            problems.append(f"difficulty {difficulty}: seeds {seeds} gave only {len(pictures)} distinct images")
        if image_bytes(generator.generate(seeds[0], "train")) == image_bytes(examples[0]):
            problems.append(f"difficulty {difficulty}: train and test gave the same image for seed {seeds[0]}")
    return problems


def chart_answer_from_table(example: Example) -> str:
    """Recompute a chart question's answer from the table in the metadata (not from the stored query values)."""
    table, query = example.metadata["table"], example.metadata["query"]
    column = table["header"].index(query["series"]) if query["series"] in table["header"] else 1
    values = {row[0]: row[column] for row in table["rows"]}
    picked = [values[label] for label in query["labels"]]
    kind = query["type"]
    if kind == "lookup":
        return format_value(picked[0], 2)
    if kind in ("argmax", "argmin"):
        pick = max if kind == "argmax" else min
        return pick(query["labels"], key=lambda label: values[label])
    if kind == "compare":
        return "Yes" if picked[0] > picked[1] else "No"
    if kind == "difference":
        return format_value(picked[0] - picked[1], 2)
    if kind == "ratio":
        return format_value(picked[0] / picked[1], 2)
    return format_value(sum(picked), 2)

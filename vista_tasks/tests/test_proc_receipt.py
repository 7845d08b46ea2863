from decimal import Decimal

import pytest
from vista.checks import check_task
from vista_tasks.procedural import ReceiptConfig, ReceiptTask
from vista_tasks.procedural.receipt import QUESTION_TYPES
from vista_tasks.procedural.testing import generator_problems


def test_generator_contract():
    assert generator_problems(ReceiptTask(), seeds=range(6)) == []


def test_check_task_on_both_splits():
    task = ReceiptTask()
    for split in task.splits:
        assert [p for p in check_task(task, split, raise_on_error=False) if p.level == "error"] == []


def test_receipt_arithmetic_is_consistent():
    for example in ReceiptTask(ReceiptConfig(difficulty=2)).load("train", seed=0, limit=20):
        r = {k: v for k, v in example.metadata["receipt"].items()}
        lines = [Decimal(i["line_total"]) for i in r["items"]]
        assert all(Decimal(i["line_total"]) == i["qty"] * Decimal(i["unit_price"]) for i in r["items"])
        assert sum(lines) == Decimal(r["subtotal"])
        tax = (Decimal(r["subtotal"]) * r["tax_rate"] / 100).quantize(Decimal("0.01"))
        assert tax == Decimal(r["tax"]) and Decimal(r["subtotal"]) + tax == Decimal(r["total"])
        assert Decimal(r["cash"]) - Decimal(r["total"]) == Decimal(r["change"]) >= 0


@pytest.mark.parametrize("qtype", QUESTION_TYPES)
def test_answers_follow_from_the_receipt_and_hidden_fields_are_not_printed(qtype):
    task = ReceiptTask(ReceiptConfig(difficulty=2, question_types=(qtype,)))
    for example in task.load("test", seed=3, limit=3):
        r, printed = example.metadata["receipt"], example.metadata["printed"]
        expected = {"total": r["total"], "date": r["date"], "store": r["store"], "number": r["number"],
                    "tax": r["tax"], "change": r["change"], "subtotal": r["subtotal"], "total_from_tax": r["total"],
                    "item_count": str(sum(i["qty"] for i in r["items"]))}
        if qtype in expected:
            assert example.answer == expected[qtype]
        elif qtype == "line_total":
            (item,) = [i for i in r["items"] if f"the {i['name']} " in example.question]
            assert example.answer == item["line_total"]
        else:
            assert task.score(str(eval(example.metadata["query"]["expression"], {"__builtins__": {}})),
                              example) == 1.0
        hidden = {"change": "change", "subtotal": "subtotal", "total_from_tax": "total"}.get(qtype)
        assert hidden is None or hidden not in printed


def test_money_answers_are_exact():
    task = ReceiptTask(ReceiptConfig(question_types=("total",)))
    example = task.generate(0)
    cents = Decimal(example.answer)
    assert task.score(f"${cents}", example) == 1.0
    assert task.score(str(cents + Decimal("0.01")), example) == 0.0


def test_many_seeds_generate_consistent_receipts():
    for difficulty in (0, 1, 2):
        task = ReceiptTask(ReceiptConfig(difficulty=difficulty))
        for example in task.load("train", seed=500, limit=40):
            assert task.score(task.oracle(example).answer, example) == 1.0
            assert len({i["name"] for i in example.metadata["receipt"]["items"]}) == len(
                example.metadata["receipt"]["items"])

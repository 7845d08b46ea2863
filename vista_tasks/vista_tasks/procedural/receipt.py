"""receipt: questions about a rendered shop receipt (document understanding: field extraction and totals).

Question types: reading printed fields (total, date, store name, receipt number, one item's line total, tax), and
computing what is not printed: the number of items bought, two items' combined cost, the change from the cash
given, the subtotal, the total from the subtotal and the tax rate. Difficulty: 0 = 2-4 items, every amount printed,
questions read one field; 1 = 3-6 items, quantities above one, sums of two lines, item counts and change;
2 = 5-9 items, subtotal or total left off the receipt so it must be computed. Fonts and layout vary by seed.
Metadata: receipt (store, date, items with qty/unit_price/line_total, subtotal, tax_rate, tax, total, cash, change),
printed (the fields that appear on the image) and query (type, expression; items: the indices of the items a
line_total or two_items question is about).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw
from vista import Example, OracleSolution, OracleStep

from ._base import ProceduralConfig, ProceduralTask, calculated, choose_from
from ._render import pil_font

QUESTION_TYPES: tuple[str, ...] = ("total", "date", "store", "number", "line_total", "tax", "item_count",
                                   "two_items", "change", "subtotal", "total_from_tax")
_QUESTIONS_BY_DIFFICULTY = {
    0: ("total", "date", "store", "number", "line_total", "tax"),
    1: ("line_total", "item_count", "two_items", "change"),
    2: ("item_count", "two_items", "change", "subtotal", "total_from_tax"),
}
_STORES = (("GREEN LEAF MARKET", "12 Elm Street, Springfield"), ("CORNER CAFE", "5 Harbour Road, Bayview"),
           ("BRIGHT HARDWARE", "88 Mill Lane, Northgate"), ("SUNRISE BAKERY", "301 Oak Avenue, Riverton"),
           ("CITY BOOKS", "7 Station Square, Lakeside"), ("FRESH & CO", "42 Market Street, Hillcrest"))
_ITEMS = (("Coffee", 250, 480), ("Bagel", 150, 320), ("Milk 1L", 99, 249), ("Apples 1kg", 199, 399),
          ("Notebook", 120, 450), ("Batteries AA", 399, 899), ("Orange juice", 229, 459), ("Croissant", 175, 325),
          ("Light bulb", 250, 799), ("Paperback", 699, 1499), ("Tea box", 299, 599), ("Eggs (dozen)", 259, 499),
          ("Cheese", 349, 799), ("Pasta", 99, 249), ("Screws (box)", 199, 449), ("Soap", 149, 399))
_TAX_RATES = (5, 7, 8, 10)
_PAPERS = ((255, 255, 255), (252, 250, 243), (246, 246, 240))


@dataclass
class ReceiptConfig(ProceduralConfig):
    """`difficulty` (see the module docstring); `question_types`, when given, overrides the difficulty's."""

    question_types: tuple[str, ...] | None = None

    def validate(self) -> None:
        super().validate()
        if self.question_types is not None:
            choose_from("question_types", self.question_types, QUESTION_TYPES)


class ReceiptTask(ProceduralTask):
    name = "receipt"
    category = "document"
    description = "Rendered shop receipts: read fields and compute totals, counts and change."
    Config = ReceiptConfig
    recommended_tools = ("ocr_read_text", "calculator", "zoom")

    def _generate(self, rng: random.Random, config: ReceiptConfig) -> dict[str, Any]:
        qtype = rng.choice(config.question_types or _QUESTIONS_BY_DIFFICULTY[config.difficulty])
        receipt = _random_receipt(rng, config.difficulty)
        printed = {"subtotal", "tax", "total", "cash", "change"}
        if qtype == "change":
            printed.discard("change")
        elif qtype == "subtotal":
            printed -= {"subtotal", "total"}
        elif qtype == "total_from_tax":
            printed -= {"tax", "total", "cash", "change"}
        query = _ask(rng, qtype, receipt)
        question, answer, answer_type = query.pop("question"), query.pop("answer"), query.pop("answer_type")
        return {"images": [_render(rng, receipt, printed)], "question": question, "answer": answer,
                "answer_type": answer_type,
                "metadata": {"receipt": receipt, "printed": sorted(printed), "query": query}}

    def oracle(self, example: Example) -> OracleSolution:
        query = example.metadata["query"]
        steps = [OracleStep(think="Read all the text on the receipt.", tool="ocr_read_text",
                            arguments={"image": "image_0"})]
        if "expression" in query:
            steps.append(OracleStep(think=f"{query['reading']} Compute {query['expression']}.", tool="calculator",
                                    arguments={"expression": query["expression"]}))
            rationale = f"{query['reading']} {query['expression']} = {example.answer}."
        else:
            rationale = f"{query['reading']} The answer is {example.answer}."
        evidence = _evidence(example.metadata["receipt"], query)
        if "expression" in query:
            evidence += calculated(query["expression"])
        return OracleSolution(steps=steps, answer=str(example.answer), rationale=rationale, evidence=evidence)


def _evidence(receipt: dict[str, Any], query: dict[str, Any]) -> list[str]:
    """What `ocr_read_text` must show of the receipt for the answer to follow: the printed fields and lines the
    reading uses (the OCR gives a line's label and its amount as separate boxes, so they are separate items)."""
    kind, items = query["type"], receipt["items"]
    if kind in ("date", "store", "number"):
        return [receipt[kind]]
    if kind == "total":
        return ["TOTAL", receipt["total"]]
    if kind == "tax":
        return [f"Tax ({receipt['tax_rate']}%)", receipt["tax"]]
    if kind in ("line_total", "two_items"):
        return [text for i in query["items"] for text in (items[i]["name"], items[i]["line_total"])]
    if kind == "item_count":
        # A quantity above one shows as "3 x Soap @ 2.98" and the line's total (which the OCR may read "3 × Soap"):
        # its unit price and total give the quantity.
        return [text for item in items
                for text in ([item["name"]] if item["qty"] == 1 else
                             [f"{item['name']} @ {item['unit_price']}", item["line_total"]])]
    if kind == "change":
        return ["Cash", receipt["cash"], "TOTAL", receipt["total"]]
    if kind == "subtotal":
        return [item["line_total"] for item in items]
    return ["Subtotal", receipt["subtotal"]]  # total_from_tax: the rate is in the question


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _random_receipt(rng: random.Random, difficulty: int) -> dict[str, Any]:
    store, address = rng.choice(_STORES)
    n_items = rng.randint(*((2, 4), (3, 6), (5, 9))[difficulty])
    items = []
    for name, low, high in rng.sample(_ITEMS, n_items):
        qty = 1 if difficulty == 0 or rng.random() < 0.5 else rng.randint(2, 4)
        price = rng.randint(low, high)
        items.append({"name": name, "qty": qty, "unit_price": price, "line_total": qty * price})
    rate = rng.choice(_TAX_RATES)
    subtotal = sum(i["line_total"] for i in items)
    while subtotal * rate % 100 == 50:
        # An exact half cent rounds differently by convention; nudge a price so the tax is unambiguous.
        first = items[0]
        first["unit_price"] += 1
        first["line_total"] = first["qty"] * first["unit_price"]
        subtotal = sum(i["line_total"] for i in items)
    tax = (subtotal * rate + 50) // 100   # cents, rounded half up as tills do
    total = subtotal + tax
    cash = (total // 1000 + 1 + rng.randint(0, 2)) * 1000
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return {
        "store": store, "address": address, "date": f"{rng.randint(2019, 2025)}-{month:02d}-{day:02d}",
        "time": f"{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}", "number": str(rng.randint(10000, 99999)),
        "items": [{**i, "unit_price": _money(i["unit_price"]), "line_total": _money(i["line_total"])} for i in items],
        "subtotal": _money(subtotal), "tax_rate": rate, "tax": _money(tax), "total": _money(total),
        "cash": _money(cash), "change": _money(cash - total),
        "cents": {"subtotal": subtotal, "tax": tax, "total": total, "cash": cash,
                  "lines": [i["line_total"] for i in items]},
    }


def _ask(rng: random.Random, qtype: str, receipt: dict[str, Any]) -> dict[str, Any]:
    items, cents = receipt["items"], receipt["cents"]
    money = {"answer_type": "float", "type": qtype}
    if qtype in ("date", "store", "number"):
        question = {"date": "On what date was this purchase made? Answer as written on the receipt.",
                    "store": "What is the name of the store on this receipt?",
                    "number": "What is the receipt number?"}[qtype]
        return {"type": qtype, "question": question, "answer": receipt[qtype], "answer_type": "text",
                "reading": f"The receipt's {qtype} field reads {receipt[qtype]}."}
    if qtype in ("total", "tax"):
        return {**money, "question": f"What is the {'total amount' if qtype == 'total' else 'amount of tax'} "
                                     "on this receipt?", "answer": receipt[qtype],
                "reading": f"The {qtype.upper()} line reads {receipt[qtype]}."}
    if qtype == "line_total":
        index = rng.randrange(len(items))
        item = items[index]
        return {**money, "question": f"How much was paid in total for the {item['name']} on this receipt?",
                "answer": item["line_total"], "reading": f"The {item['name']} line totals {item['line_total']}.",
                "items": [index]}
    if qtype == "item_count":
        expression = " + ".join(str(i["qty"]) for i in items)
        return {"type": qtype, "question": "How many items were bought in total (counting quantities)?",
                "answer": str(sum(i["qty"] for i in items)), "answer_type": "integer", "expression": expression,
                "reading": "The quantities are " + ", ".join(f"{i['qty']} {i['name']}" for i in items) + "."}
    if qtype == "two_items":
        a, b = rng.sample(range(len(items)), 2)
        return {**money, "question": f"How much was spent on the {items[a]['name']} and the {items[b]['name']} "
                                     "together?",
                "answer": _money(cents["lines"][a] + cents["lines"][b]),
                "expression": f"{items[a]['line_total']} + {items[b]['line_total']}",
                "reading": f"{items[a]['name']}: {items[a]['line_total']}, {items[b]['name']}: "
                           f"{items[b]['line_total']}.", "items": [a, b]}
    if qtype == "change":
        return {**money, "question": "How much change should the customer get back from the cash paid?",
                "answer": receipt["change"], "expression": f"{receipt['cash']} - {receipt['total']}",
                "reading": f"Cash paid {receipt['cash']}, total {receipt['total']}."}
    if qtype == "subtotal":
        return {**money, "question": "The subtotal is missing from this receipt. What is the sum of all the line "
                                     "totals?",
                "answer": receipt["subtotal"], "expression": " + ".join(i["line_total"] for i in items),
                "reading": "The line totals are " + ", ".join(i["line_total"] for i in items) + "."}
    rate = receipt["tax_rate"]
    return {**money, "question": f"The receipt shows the subtotal and a tax rate of {rate}%. What is the total "
                                 "including tax, rounded to the cent?",
            "answer": receipt["total"], "expression": f"{receipt['subtotal']} * (1 + {rate} / 100)",
            "reading": f"Subtotal {receipt['subtotal']}, tax rate {rate}%."}


def _render(rng: random.Random, receipt: dict[str, Any], printed: set[str]) -> Image.Image:
    family = rng.choice(("DejaVu Sans Mono", "DejaVu Sans Mono", "DejaVu Sans", "DejaVu Serif"))
    size = rng.choice((13, 14))
    font, bold = pil_font(family, size), pil_font(family, size, bold=True)
    big = pil_font(family, size + 4, bold=True)
    width, margin, step = rng.choice((320, 340, 360)), 16, size + 7
    lines: list[tuple[str, str, Any, str]] = [     # (left text, right text, font, alignment)
        (receipt["store"], "", big, "center"), (receipt["address"], "", font, "center"), ("", "", font, "rule"),
        (f"Date: {receipt['date']}", f"Time: {receipt['time']}", font, "split"),
        (f"Receipt #: {receipt['number']}", "", font, "left"), ("", "", font, "rule")]
    for item in receipt["items"]:
        left = item["name"] if item["qty"] == 1 else f"{item['qty']} x {item['name']} @ {item['unit_price']}"
        lines.append((left, item["line_total"], font, "split"))
    lines.append(("", "", font, "rule"))
    if "subtotal" in printed:
        lines.append(("Subtotal", receipt["subtotal"], font, "split"))
    lines.append((f"Tax ({receipt['tax_rate']}%)", receipt["tax"] if "tax" in printed else "", font, "split"))
    if "total" in printed:
        lines.append(("TOTAL", receipt["total"], bold, "split"))
    if "cash" in printed:
        lines.append(("Cash", receipt["cash"], font, "split"))
    if "change" in printed:
        lines.append(("Change", receipt["change"], font, "split"))
    lines += [("", "", font, "rule"), ("Thank you for shopping!", "", font, "center")]
    height = 2 * margin + step * len(lines)
    image = Image.new("RGB", (width, height), rng.choice(_PAPERS))
    draw = ImageDraw.Draw(image)
    y = margin
    for left, right, face, align in lines:
        middle = y + step / 2
        if align == "rule":
            draw.line([(margin, middle), (width - margin, middle)], fill=(90, 90, 90), width=1)
        elif align == "center":
            draw.text((width / 2, middle), left, font=face, fill="black", anchor="mm")
        else:
            draw.text((margin, middle), left, font=face, fill="black", anchor="lm")
            if right:
                draw.text((width - margin, middle), right, font=face, fill="black", anchor="rm")
        y += step
    return image

"""Tables drawn by a web browser: HTML tables of known content rendered by Chromium, in styles of their own, for
measuring table readers on drawings made by other code than the readers were built on.

`html_table(seed, split)` writes one table's HTML (a caption or none, a header row, money, percent, date, distance
and name cells) in a style of `split`; `BrowserTables` renders it in headless Chromium (Playwright, Debian's
`chromium`) and screenshots the table with the page margin around it. Styles vary the font family and size, cell
padding (narrow gaps between columns included), borders on every cell, rules between rows or none, header fills,
zebra stripes, text alignment (numbers right, text left, or everything centred) and the margin. They are split once,
by style name: development styles may be looked at while a reader is built; measure-only styles are only measured
(`bench/perception_ocr_tabmwp.py --html N`). The reference is given as TabMWP's `table_for_pd` (columns named by
the header), the caption as the title.
"""

from __future__ import annotations

import html
import io
import random
import shutil
from dataclasses import dataclass

from PIL import Image

STYLES = {
    # development
    "ledger": {"font": "DejaVu Sans", "borders": "all", "header_fill": "#dde6f0", "zebra": None, "align": "mixed"},
    "minimal": {"font": "Liberation Serif", "borders": "none", "header_fill": None, "zebra": None, "align": "left"},
    "striped": {"font": "Liberation Sans", "borders": "rows", "header_fill": "#333333", "zebra": "#f2f2f2",
                "align": "mixed"},
    "report": {"font": "DejaVu Serif", "borders": "rows", "header_fill": None, "zebra": None, "align": "center"},
    # measure-only
    "sheet": {"font": "DejaVu Sans Mono", "borders": "all", "header_fill": "#e8f4e8", "zebra": "#fafafa",
              "align": "mixed"},
    "bulletin": {"font": "Liberation Sans", "borders": "none", "header_fill": "#fff2cc", "zebra": "#f5f8ff",
                 "align": "center"},
    "dark_header": {"font": "DejaVu Serif", "borders": "all", "header_fill": "#1f3b5c", "zebra": None,
                    "align": "left"},
    "plain_rules": {"font": "Liberation Serif", "borders": "rows", "header_fill": None, "zebra": "#eeeeee",
                    "align": "mixed"},
}
SPLITS = {"development": ("ledger", "minimal", "striped", "report"),
          "measure": ("sheet", "bulletin", "dark_header", "plain_rules")}

CITIES = ["Lyon", "Oslo", "Lima", "Perth", "Dakar", "Quito", "Turin", "Cork", "Fresno", "Boise", "Nara", "Split"]
PEOPLE = ["Ana", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kira", "Leo"]
ITEMS = ["Notebook", "Stapler", "Desk lamp", "Pencil case", "Backpack", "Ruler", "Glue stick", "Marker set"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class HtmlTable:
    html: str
    columns: dict[str, list[str]]  # the reference, as TabMWP's table_for_pd
    title: str | None               # the caption
    kind: str
    style: str


def _content(rng: random.Random) -> tuple[str, str | None, list[str], list[list[str]]]:
    """(kind, caption or None, header, rows) of one table."""
    kind = rng.choice(("distances", "prices", "survey", "dates", "scores"))
    n = rng.randint(3, 6)
    if kind == "distances":
        rows = [[c, f"{rng.randint(40, 990):,}", f"{rng.randint(1000, 99999):,}"] for c in rng.sample(CITIES, n)]
        return kind, rng.choice((None, "Distances from the depot")), ["City", "Distance (km)", "Population"], rows
    if kind == "prices":
        rows = [[i, f"${rng.randint(1, 60)}.{rng.randint(0, 99):02d}", str(rng.randint(1, 40))]
                for i in rng.sample(ITEMS, n)]
        return kind, rng.choice((None, "Office supplies")), ["Item", "Price", "Stock"], rows
    if kind == "survey":
        rows = [[p, f"{rng.randint(1, 99)}%", f"{rng.randint(0, 100)}%"] for p in rng.sample(PEOPLE, n)]
        return kind, rng.choice((None, "Survey of students")), ["Student", "Yes", "No"], rows
    if kind == "dates":
        rows = [[p, f"{rng.choice(MONTHS)} {rng.randint(1, 28)}", f"{rng.randint(1, 12)}:{rng.choice(('00', '30'))}"]
                for p in rng.sample(PEOPLE, n)]
        return kind, rng.choice((None, "Appointments")), ["Name", "Date", "Time"], rows
    rows = [[p, str(rng.randint(50, 100)), str(rng.randint(50, 100)), str(rng.randint(50, 100))]
            for p in rng.sample(PEOPLE, n)]
    return kind, rng.choice((None, "Quiz scores")), ["Name", "Quiz 1", "Quiz 2", "Quiz 3"], rows


def _numeric(cell: str) -> bool:
    return any(ch.isdigit() for ch in cell) and not any(ch.isalpha() for ch in cell.replace("km", ""))


def html_table(seed: int, split: str = "measure") -> HtmlTable:
    """One table of known content in a style of `split` ('development' or 'measure'), the same for the same seed."""
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; choose one of {', '.join(SPLITS)}")
    rng = random.Random(f"html-table-{split}-{seed}")
    style_name = rng.choice(SPLITS[split])
    style = STYLES[style_name]
    kind, caption, header, rows = _content(rng)
    size = rng.choice((13, 14, 15, 16, 18))
    padding = rng.choice((3, 5, 8, 12))  # 3 px: columns a narrow gap apart
    margin = rng.choice((0, 12, 30))
    dark = style["header_fill"] in ("#333333", "#1f3b5c")
    borders = {"all": "border: 1px solid #888;", "rows": "border-bottom: 1px solid #aaa;", "none": ""}[style["borders"]]

    def align(cell: str) -> str:
        if style["align"] == "center":
            return "center"
        return "right" if style["align"] == "mixed" and _numeric(cell) else "left"

    css = (f"body {{ margin: 0; background: white; }} #page {{ display: inline-block; padding: {margin}px; }}"
           f"table {{ border-collapse: collapse; font-family: '{style['font']}'; font-size: {size}px; color: #111; }}"
           f"td, th {{ padding: {max(2, padding // 2)}px {padding}px; {borders} }}"
           f"th {{ font-weight: bold; {'background: ' + style['header_fill'] + ';' if style['header_fill'] else ''}"
           f"{'color: white;' if dark else ''} }}"
           f"caption {{ font-weight: bold; padding-bottom: 6px; caption-side: top; }}"
           + (f"tbody tr:nth-child(even) {{ background: {style['zebra']}; }}" if style["zebra"] else ""))
    head = "".join(f'<th style="text-align: {align(rows[0][c])}">{html.escape(h)}</th>' for c, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td style="text-align: {align(cell)}">{html.escape(cell)}</td>' for cell in row)
                   + "</tr>" for row in rows)
    document = (f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head><body><div id='page'>"
                f"<table>{f'<caption>{html.escape(caption)}</caption>' if caption else ''}<thead><tr>{head}</tr>"
                f"</thead><tbody>{body}</tbody></table></div></body></html>")
    columns = {name: [row[c] for row in rows] for c, name in enumerate(header)}
    return HtmlTable(html=document, columns=columns, title=caption, kind=kind, style=style_name)


class BrowserTables:
    """Headless Chromium, started once, that renders HTML tables to RGB images. Use as a context manager."""

    def __init__(self, executable: str | None = None):
        self.executable = executable or shutil.which("chromium") or "/usr/bin/chromium"

    def __enter__(self) -> BrowserTables:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=self.executable, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        self._page = self._browser.new_page(device_scale_factor=1)
        return self

    def render(self, table: HtmlTable) -> Image.Image:
        self._page.set_content(table.html)
        return Image.open(io.BytesIO(self._page.locator("#page").screenshot())).convert("RGB")

    def __exit__(self, *exc) -> None:
        self._browser.close()
        self._playwright.stop()

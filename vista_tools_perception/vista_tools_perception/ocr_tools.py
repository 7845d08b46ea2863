"""ocr_read_text, ocr_read_region, ocr_read_table: text with boxes, text of a region, a table from an image."""

from __future__ import annotations

from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArguments, ToolContext, ToolResult

from .layout import HeaderMode, TextLine, repair_dollar_signs
from .ocr_engines import Backend, read_lines, recogniser
from .regions import Box, BoxField, check_box
from .table_reading import table_from_lines

_BACKEND_HELP = ("OCR engine: 'rapidocr' (PP-OCR, fast, the default) or 'easyocr' (CRAFT + EasyOCR's English "
                 "recogniser)")


def BackendField():
    return Field("rapidocr", description=_BACKEND_HELP)


class Line(BaseModel):
    text: str
    bbox: list[int] = Field(min_length=4, max_length=4, description="[x0, y0, x1, y1] in pixels of the full image")
    score: float = Field(ge=0, le=1, description="recognition confidence")


class LinesOutput(BaseModel):
    lines: list[Line]


def _lines_result(lines: list[TextLine], where: str) -> ToolResult:
    if not lines:
        return ToolResult(text=f"no text found in {where}", data={"lines": []})
    listing = "\n".join(f"{line.text!r} at {list(line.bbox)}" for line in lines)
    return ToolResult(text=f"{len(lines)} text lines in {where} (text at [x0, y0, x1, y1]):\n{listing}",
                      data={"lines": [line.as_dict() for line in lines]})


class ReadTextArguments(ToolArguments):
    image: str = ImageName()
    backend: Backend = BackendField()


class OcrReadText(Tool):
    name = "ocr_read_text"
    family = "perception"
    description = ("Read all the text in an image with OCR; returns each text line with its bounding box "
                   "[x0, y0, x1, y1] in pixels, top to bottom and left to right.")
    Arguments = ReadTextArguments
    Output = LinesOutput
    examples = [{}, {"backend": "rapidocr"}]
    blocking = True

    def run(self, args: ReadTextArguments, ctx: ToolContext) -> ToolResult:
        return _lines_result(read_lines(ctx.image(args.image), args.backend), args.image)


class ReadRegionArguments(ToolArguments):
    image: str = ImageName()
    bbox: Box = BoxField("the region to read, [x0, y0, x1, y1] in pixels of the image")
    backend: Backend = BackendField()


class OcrReadRegion(Tool):
    name = "ocr_read_region"
    family = "perception"
    description = ("Read the text inside one region of an image with OCR (a label, a cell, an axis); returns each "
                   "text line with its bounding box in pixels of the full image.")
    Arguments = ReadRegionArguments
    Output = LinesOutput
    examples = [{"bbox": [0, 0, 64, 48]}]
    blocking = True

    def run(self, args: ReadRegionArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        x0, y0, x1, y1 = check_box(args.bbox, image)
        found = read_lines(image.crop((x0, y0, x1, y1)), args.backend)
        shifted = [TextLine(line.text, (line.bbox[0] + x0, line.bbox[1] + y0, line.bbox[2] + x0, line.bbox[3] + y0),
                            line.score) for line in found]
        return _lines_result(shifted, f"{args.image} region {[x0, y0, x1, y1]}")


class ReadTableArguments(ToolArguments):
    image: str = ImageName()
    backend: Backend = BackendField()
    header: HeaderMode = Field("auto", description="whether the first row names the columns: 'auto' guesses, "
                                                   "'first_row' says it does, 'none' says it is data")


class TableOutput(BaseModel):
    header: list[str] = Field(description="column names ('Column 1', ... when the table has no header row)")
    rows: list[list[str]] = Field(description="the body rows, cells as read")
    title: str | None = Field(description="a caption spanning the table's top, if any")
    has_header: bool = Field(description="whether the header was read from the image")


class OcrReadTable(Tool):
    name = "ocr_read_table"
    family = "perception"
    description = ("Read a table in an image: OCR, then rows and columns rebuilt from the lines the table draws and "
                   "the positions of the text. Returns {header, rows, title}; cells are strings as printed. An image "
                   "that holds no table is refused.")
    Arguments = ReadTableArguments
    Output = TableOutput
    examples = [{}, {"header": "first_row"}]
    blocking = True

    def run(self, args: ReadTableArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        table = table_from_lines(read_lines(image, args.backend, table=True), image, header=args.header,
                                 name=args.image, reread=recogniser(args.backend))
        if args.backend == "easyocr":  # its English recogniser reads '$' as '5' (and as 'S', mended per line)
            table = repair_dollar_signs(table)
        lines = [" | ".join(table.header)] + [" | ".join(row) for row in table.rows]
        title = f"title: {table.title}\n" if table.title else ""
        shape = f"{len(table.rows)} rows x {len(table.header)} columns"
        return ToolResult(text=f"table ({shape}):\n{title}" + "\n".join(lines), data=table.as_dict())

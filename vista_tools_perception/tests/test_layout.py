"""Table reconstruction from boxes, on layouts whose answer is known exactly."""

from vista_tools_perception.layout import Rules, TextLine, first_row_is_header, group_rows, reconstruct_table
from vista_tools_perception.table_scoring import match_table, reference_grid


def line(text, x0, y0, x1, y1):
    return TextLine(text, (x0, y0, x1, y1), 0.9)


def test_rows_group_by_vertical_overlap_and_read_left_to_right():
    lines = [line("b", 60, 12, 80, 30), line("a", 0, 10, 40, 28), line("c", 0, 40, 30, 58)]
    assert [[item.text for item in row] for row in group_rows(lines)] == [["a", "b"], ["c"]]


def test_title_header_columns_and_empty_cells_are_rebuilt():
    lines = [
        line("Coin collections", 35, 3, 165, 26),
        line("Name", 7, 35, 58, 57), line("Number of coins", 65, 35, 197, 57),
        line("Braden", 1, 65, 60, 89), line("76", 117, 64, 145, 90),
        line("Rick", 0, 126, 41, 151),  # its number is missing: an empty cell, not a shifted row
        line("Mary", 1, 155, 45, 185), line("84", 117, 157, 145, 182),
    ]
    table = reconstruct_table(lines)
    assert table.title == "Coin collections" and table.has_header
    assert table.header == ["Name", "Number of coins"]
    assert table.rows == [["Braden", "76"], ["Rick", ""], ["Mary", "84"]]


def test_words_of_one_cell_are_joined_and_a_headerless_price_list_keeps_its_first_row():
    lines = [
        line("book about", 8, 5, 80, 26), line("hiking", 85, 5, 130, 26), line("$9.00", 200, 5, 250, 26),
        line("book about music", 8, 37, 140, 58), line("$2.00", 200, 37, 250, 58),
    ]
    table = reconstruct_table(lines)
    assert not table.has_header and table.header == ["Column 1", "Column 2"]
    assert table.rows == [["book about hiking", "$9.00"], ["book about music", "$2.00"]]
    match = match_table(table, {"Column 1": ["book about hiking", "book about music"],
                                "Column 2": ["$9.00", "$2.00"]})
    assert match.exact and match.header_ok


def test_header_guess_keeps_years_and_words_as_headers():
    assert first_row_is_header(["Name", "2019", "2020"], [["Ann", "4", "5"]])
    assert first_row_is_header(["Stem", "Leaf"], [["1", "2 4 4"]])
    assert not first_row_is_header(["teapot", "$38"], [["apron", "$20"]])
    assert not first_row_is_header(["raisins", "$2.91/kilogram"], [["dried pear", "$3.14/kilogram"]])
    assert not first_row_is_header(["the library", "9:15 A.M."], [["the zoo", "10:45 A.M."]])
    assert first_row_is_header(["a", "b"], [])


def test_header_mode_overrides_the_guess():
    lines = [line("teapot", 0, 0, 40, 20), line("$38", 100, 0, 130, 20), line("apron", 0, 30, 40, 50),
             line("$20", 100, 30, 130, 50)]
    assert reconstruct_table(lines, header="first_row").header == ["teapot", "$38"]
    assert reconstruct_table(lines, header="none").rows[0] == ["teapot", "$38"]
    assert reconstruct_table([]).rows == []


def test_scoring_counts_cells_at_their_place():
    reference = {"Price": ["$1", "$2"], "Count": ["3", "4"]}
    grid, has_header = reference_grid(reference)
    assert has_header and grid == [["Price", "Count"], ["$1", "3"], ["$2", "4"]]
    lines = [line("Price", 0, 0, 40, 20), line("Count", 100, 0, 140, 20), line("$1", 0, 30, 20, 50),
             line("8", 100, 30, 110, 50), line("$2", 0, 60, 20, 80), line("4", 100, 60, 110, 80)]
    match = match_table(reconstruct_table(lines), reference)
    assert (match.correct, match.cells, match.shape_ok, match.exact) == (5, 6, True, False)


def test_a_caption_split_into_touching_boxes_is_the_title_and_padded_boxes_do_not_merge_columns():
    lines = [  # RapidOCR's boxes for TabMWP table 6019, a stem-and-leaf plot
        line("Menu items", 0, 0, 92, 16), line("per restaurant", 89, 0, 200, 17),
        line("Stem", 59, 22, 104, 44), line("Leaf", 107, 22, 149, 45),
        line("1", 74, 48, 91, 68), line("69", 107, 47, 139, 69), line("2", 74, 70, 91, 91),
    ]
    table = reconstruct_table(lines)
    assert table.title == "Menu items per restaurant"
    assert table.header == ["Stem", "Leaf"] and table.rows == [["1", "69"], ["2", ""]]
    spaced = [line("Name", 8, 33, 65, 59), line("Number of science articles", 72, 34, 286, 59),
              line("Maureen", 0, 218, 74, 247), line("9", 169, 220, 189, 244)]
    assert reconstruct_table(spaced).rows == [["Maureen", "9"]]


def test_the_tail_of_a_long_cell_read_as_separate_boxes_is_not_a_column():
    lines = [  # stem-and-leaf rows: the long leaf '4 6 7 9 9' comes back as three boxes
        line("Stem", 50, 0, 90, 20), line("Leaf", 100, 0, 135, 20),
        line("0", 70, 30, 80, 50), line("2 46", 100, 30, 140, 50),
        line("1", 70, 60, 80, 80), line("4 6 7", 100, 60, 150, 80), line("9", 158, 60, 166, 80),
        line("9", 174, 60, 182, 80),
        line("2", 70, 90, 80, 110), line("4", 100, 90, 110, 110),
    ]
    table = reconstruct_table(lines)
    assert table.header == ["Stem", "Leaf"]
    assert table.rows == [["0", "2 46"], ["1", "4 6 7 9 9"], ["2", "4"]]


def test_header_cells_wrapped_onto_two_lines_are_one_row():
    lines = [  # RapidOCR's boxes for TabMWP table 29535
        line("Number of", 39, 5, 146, 30), line("Number of", 252, 5, 362, 30),
        line("boxes", 23, 33, 88, 57), line("pumpkin scones", 187, 32, 353, 59),
        line("1", 83, 67, 103, 91), line("5", 298, 66, 318, 92), line("2", 83, 101, 103, 125),
        line("10", 292, 99, 325, 127), line("3", 83, 134, 103, 160), line("15", 292, 133, 324, 161),
    ]
    table = reconstruct_table(lines)
    assert table.header == ["Number of boxes", "Number of pumpkin scones"]
    assert table.rows == [["1", "5"], ["2", "10"], ["3", "15"]]


def test_dollar_signs_read_as_5_come_back_in_a_column_of_prices_only():
    from vista_tools_perception.layout import Table, repair_dollar_signs

    table = Table(header=["Item", "Price", "Count"],
                  rows=[["pen", "$1.50", "52"], ["ink", "5275", "5"], ["pad", "$3.00", "57"], ["cap", "552", ""]])
    repaired = repair_dollar_signs(table)
    assert [row[1] for row in repaired.rows] == ["$1.50", "$275", "$3.00", "$52"]
    assert [row[2] for row in repaired.rows] == ["52", "5", "57", ""]  # plain numbers are left alone
    assert repaired.header == table.header and repaired.has_header
    headerless = Table(header=["Column 1", "Column 2"], rows=[["a", "$4"], ["b", "59.00"], ["c", "$2"]],
                       has_header=False)
    assert [row[1] for row in repair_dollar_signs(headerless).rows] == ["$4", "$9.00", "$2"]
    lone = Table(header=["Price"], rows=[["$4"], ["59"], ["58"]])  # one '$' among three is no price column
    assert [row[0] for row in repair_dollar_signs(lone).rows] == ["$4", "59", "58"]
    every = Table(header=["Item", "Price"], rows=[["a", "546.00"], ["b", "51.84"], ["c", "57.24"]])
    assert [row[1] for row in repair_dollar_signs(every).rows] == ["$46.00", "$1.84", "$7.24"]  # no '$' read at all
    for plain in (["52", "55"], ["52", "55", "57"], ["52.00", "55.10"]):  # no cents, or too few: not prices
        table = Table(header=["Score"], rows=[[value] for value in plain])
        assert [row[0] for row in repair_dollar_signs(table).rows] == plain


def test_an_s_standing_before_digits_is_a_dollar_sign():
    from vista_tools_perception.ocr_engines import dollar_for_s

    assert dollar_for_s("S1,605.00") == "$1,605.00" and dollar_for_s("-S3 each") == "-$3 each"
    assert dollar_for_s("Sam 5") == "Sam 5" and dollar_for_s("CS101") == "CS101" and dollar_for_s("S") == "S"


def test_a_header_row_that_leaves_its_first_cell_empty_is_not_a_title():
    lines = [  # TabMWP table 2367, ink boxes: '' | Velvet | Suede over two rows
        line("Velvet", 75, 10, 120, 22), line("Suede", 140, 10, 182, 22),
        line("Foam", 6, 42, 40, 54), line("3", 95, 42, 103, 54), line("4", 158, 42, 166, 54),
        line("Beads", 6, 74, 46, 86), line("1", 95, 74, 101, 86), line("2", 158, 74, 166, 86),
    ]
    table = reconstruct_table(lines)
    assert table.title is None and table.header == ["", "Velvet", "Suede"]
    assert table.rows == [["Foam", "3", "4"], ["Beads", "1", "2"]]


def test_drawn_boundaries_join_the_lines_of_a_cell_and_separate_close_columns():
    lines = [
        line("Event", 5, 5, 45, 17), line("Begin", 100, 5, 140, 17), line("End", 160, 5, 185, 17),
        line("cross-country", 5, 30, 90, 42), line("skiing", 5, 46, 45, 58),  # one cell on two lines
        line("10:55 A.M.", 95, 38, 150, 50), line("12:10 P.M.", 152, 38, 210, 50),  # cells 2 px apart
        line("luge", 5, 72, 35, 84), line("3:10 P.M.", 95, 72, 150, 84), line("7:25 P.M.", 152, 72, 205, 84),
    ]
    rules = Rules(rows=(24.0, 65.0), columns=(92.0, 151.0))
    table = reconstruct_table(lines, rules=rules)
    assert table.header == ["Event", "Begin", "End"]
    assert table.rows == [["cross-country skiing", "10:55 A.M.", "12:10 P.M."], ["luge", "3:10 P.M.", "7:25 P.M."]]
    # Without the boundaries the lines of a cell are rows of their own.
    assert len(reconstruct_table(lines).rows) == 4

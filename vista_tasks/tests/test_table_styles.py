"""Tables drawn in many styles for measuring table readers: splits apart, same seed same table, content as drawn."""

from vista_tasks.procedural.table_styles import style_split, styled_table


def test_style_splits_are_disjoint_and_cover_the_built_in_sheets():
    import matplotlib.style

    development, measure = style_split("development"), style_split("measure")
    assert development and measure and not set(development) & set(measure)
    assert set(development) | set(measure) == {name for name in matplotlib.style.available if not name.startswith("_")}


def test_the_same_seed_draws_the_same_table_and_splits_draw_different_ones():
    first, again = styled_table(3, "development"), styled_table(3, "development")
    assert first.columns == again.columns and first.image.tobytes() == again.image.tobytes()
    assert first.style.split(",")[0] in style_split("development")
    assert styled_table(3, "measure").style.split(",")[0] in style_split("measure")


def test_references_are_tabmwp_columns_with_leaves_as_printed():
    kinds = {}
    for seed in range(40):
        table = styled_table(seed, "measure")
        kinds.setdefault(table.kind, table)
        if len(kinds) == 6:
            break
        lengths = {len(column) for column in table.columns.values()}
        assert len(lengths) == 1 and lengths.pop() >= 3
        assert 40 < table.image.width < 1600 and 40 < table.image.height < 1200
    assert set(kinds) == {"counts", "prices", "stem_and_leaf", "xy", "schedule", "two_way"}
    assert list(kinds["prices"].columns) == ["Column 1", "Column 2"]  # drawn without a header row
    leaves = kinds["stem_and_leaf"].columns["Leaf"]
    assert all(", " not in leaf and all(len(leaf_) == 1 for leaf_ in leaf.split()) for leaf in leaves)

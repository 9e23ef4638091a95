import logging

import pandas as pd
import pytest

from neka.data.columns import cells_as_text, column_list, handle_missing, select_input_columns
from neka.errors import NekaError


def test_drop_columns_leaves_the_rest_in_table_order(grades_table):
    columns = select_input_columns(grades_table, "grades.csv", ["학점"], None, ["나이"])
    assert columns == ["id", "중간고사", "기말고사"]


def test_text_columns_pick_exactly_those(grades_table):
    assert select_input_columns(grades_table, "g.csv", ["학점"], ["기말고사", "id"], []) == ["기말고사", "id"]


def test_missing_column_suggests_the_closest(grades_table):
    with pytest.raises(NekaError, match=r"data.text_columns: no column '기말고사 ' .*did you mean '기말고사'"):
        select_input_columns(grades_table, "g.csv", ["학점"], ["기말고사 "], [])
    with pytest.raises(NekaError, match=r"data.label_column: no column 'grade'"):
        select_input_columns(grades_table, "g.csv", ["grade"], None, [])


def test_dropping_everything_is_an_error(grades_table):
    with pytest.raises(NekaError, match="no input column left"):
        select_input_columns(grades_table, "g.csv", ["학점"], None, ["id", "중간고사", "기말고사", "나이"])


def test_empty_cells_stop_the_run_or_are_dropped_on_request(caplog):
    frame = pd.DataFrame({"document": ["좋다", " ", "별로", "최고"], "label": [1, 0, None, 1]})
    with pytest.raises(NekaError, match=r"2 rows with empty cells \(row 2 column 'document', row 3 column 'label'"):
        handle_missing(frame, "r.csv", ["document", "label"], drop_missing=False)
    with caplog.at_level(logging.WARNING):
        kept = handle_missing(frame, "r.csv", ["document", "label"], drop_missing=True)
    assert kept["document"].tolist() == ["좋다", "최고"]
    assert "dropped 2 rows" in caplog.text


def test_whole_number_floats_print_like_the_table():
    assert cells_as_text(pd.Series([87.0, 63.0])) == ["87", "63"]
    assert cells_as_text(pd.Series([8.5, 6.0])) == ["8.5", "6.0"]


def test_headerless_column_numbers_are_the_reader_s_column_names():
    """`data.has_header=false` names columns "0", "1", ...; Hydra parses `[1]` as a list of ints."""
    assert column_list([1, 0]) == ["1", "0"] and column_list(1) == ["1"]

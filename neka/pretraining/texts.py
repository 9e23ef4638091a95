"""Unlabelled texts: a table's text columns, read as neka.train reads tables, or a plain .txt
file, one text per line."""

import logging
from pathlib import Path

import pandas as pd

from neka.data.columns import cells_as_text, select_input_columns
from neka.data.tables import check_table_file, read_table
from neka.errors import NekaError

log = logging.getLogger(__name__)

LINES_COLUMN = "text"  # a .txt file's one column


def read_texts(path: str, text_columns: list[str] | None, encoding: str = "utf-8", has_header: bool = True,
               sep: str | None = None) -> pd.DataFrame:
    """One column of strings per text field; rows whose every field is empty are dropped (a blank
    line has nothing to mask). A .txt file without `text_columns` is one text per line; with them,
    a table like any other. The index is each row's position among the file's data rows."""
    is_lines = Path(path).suffix.lower() == ".txt" and not text_columns
    if is_lines:
        frame = read_lines(path, encoding)
    else:
        table = read_table(path, "data.path", encoding, has_header, sep)
        columns = select_input_columns(table, Path(path).name, [], text_columns, [])
        # an empty cell is an empty field, not the text "nan"
        frame = pd.DataFrame({column: pd.Series(cells_as_text(table[column]), index=table.index)
                              .where(table[column].notna(), "") for column in columns})
    frame.index = pd.RangeIndex(len(frame))
    is_empty = (frame == "").all(axis=1)
    if is_empty.all():
        if is_lines:
            raise NekaError(f"data.path: every line of {Path(path).name} is empty; give a file with texts")
        raise NekaError(f"data.path: every row's {list(frame.columns)} of {Path(path).name} is empty; give a file "
                        f"with texts, or name the columns that hold them in data.text_columns")
    if is_empty.any():
        log.info("%s: left out %d rows without text", Path(path).name, int(is_empty.sum()))
    return frame[~is_empty]


def read_lines(path: str, encoding: str) -> pd.DataFrame:
    file = check_table_file(path, "data.path")
    try:
        lines = [line.strip() for line in file.read_text(encoding=encoding).splitlines()]
    except UnicodeDecodeError:
        raise NekaError(f"data.encoding: {file.name} is not {encoding} text; set data.encoding "
                        f"(many Korean files are cp949)") from None
    if not lines:
        raise NekaError(f"data.path: {file.name} is empty; it needs one text per line")
    return pd.DataFrame({LINES_COLUMN: lines})

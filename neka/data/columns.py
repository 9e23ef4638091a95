"""Choosing the input and label columns of a table and turning cells into field strings."""

import difflib
import logging

import pandas as pd

from neka.errors import NekaError

log = logging.getLogger(__name__)


def column_list(value: str | int | list | None) -> list[str] | None:
    """A single name typed without brackets (`data.text_columns=document`, as most people type
    it) is a one-column list: Python would otherwise iterate the string's characters."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    return None if value is None else [str(column) for column in value]  # headerless files: [0, 1]


def select_input_columns(frame: pd.DataFrame, file_name: str, label_columns: list[str],
                         text_columns: list[str] | None, drop_columns: list[str],
                         label_key: str = "data.label_column") -> list[str]:
    """The columns joined into the sequence: `text_columns` when given, else every column
    that is neither a label nor dropped (the KoBERT notebook's tabular recipe). `label_columns`:
    the one label column, or a multi-label table's 0/1 columns (`label_key` names the setting)."""
    for column in label_columns:
        _require_column(frame, file_name, column, label_key)
    for column in drop_columns:
        _require_column(frame, file_name, column, "data.drop_columns")
    if text_columns:
        for column in text_columns:
            _require_column(frame, file_name, column, "data.text_columns")
        clash = sorted(set(text_columns) & (set(label_columns) | set(drop_columns)))
        if clash:
            raise NekaError(f"data.text_columns: {clash} is also a label or a dropped column")
        return list(text_columns)
    columns = [c for c in frame.columns if c not in label_columns and c not in drop_columns]
    if not columns:
        raise NekaError(f"data.drop_columns: no input column left in {file_name} after dropping {drop_columns}")
    return columns


def _require_column(frame: pd.DataFrame, file_name: str, column: str, key: str) -> None:
    if column in frame.columns:
        return
    close = difflib.get_close_matches(str(column), list(frame.columns), n=1, cutoff=0.5)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    raise NekaError(f"{key}: no column {column!r} in {file_name}; columns are {list(frame.columns)}{suggestion}")


def handle_missing(frame: pd.DataFrame, file_name: str, columns: list[str], drop_missing: bool) -> pd.DataFrame:
    """Empty cells have no honest default (an empty review is not a review), so they stop
    the run unless the user asks for those rows to be dropped."""
    missing = frame[columns].isna() | frame[columns].apply(lambda c: c.astype(str).str.strip() == "")
    bad_rows = missing.any(axis=1)
    if not bad_rows.any():
        return frame
    count = int(bad_rows.sum())
    if drop_missing:
        log.warning("%s: dropped %d rows with empty cells in %s (data.drop_missing=true)", file_name, count, columns)
        kept = frame[~bad_rows]
        if len(kept) == 0:
            raise NekaError(f"data.drop_missing: every row of {file_name} has an empty cell in {columns}")
        return kept
    first = missing[bad_rows].head(3)
    where = ", ".join(f"row {int(pos) + 1} column {missing.columns[row.argmax()]!r}"
                      for pos, row in zip(first.index, first.to_numpy()))
    raise NekaError(f"data.drop_missing: {file_name} has {count} rows with empty cells ({where}, counting data "
                    f"rows from 1); fill them or set data.drop_missing=true to drop those rows")


def cells_as_text(column: pd.Series) -> list[str]:
    """Whole-number floats print without '.0', so a grade of 87 reads "87" as in the KoBERT notebook's table:
    pandas reads a column of whole numbers as floats when a cell is empty. Labels too (labels.py)."""
    if pd.api.types.is_float_dtype(column) and (column.dropna() % 1 == 0).all():
        column = column.astype("Int64")
    return column.astype(str).str.strip().tolist()

import pandas as pd
import pytest

from neka.data.tables import read_table
from neka.errors import NekaError

FRAME = pd.DataFrame({"document": ["영화 최고", "별로다", "좋아요"], "label": [1, 0, 1]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet", ".xlsx"])
def test_reads_every_format_by_extension(tmp_path, suffix):
    path = tmp_path / f"reviews{suffix}"
    if suffix in (".csv", ".tsv"):
        FRAME.to_csv(path, sep="," if suffix == ".csv" else "\t", index=False)
    elif suffix == ".jsonl":
        FRAME.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".parquet":
        FRAME.to_parquet(path)
    else:
        FRAME.to_excel(path, index=False)
    frame = read_table(path, "data.path")
    assert frame["document"].tolist() == FRAME["document"].tolist()
    assert frame["label"].astype(int).tolist() == [1, 0, 1]


def test_cp949_file_reads_with_encoding_and_is_diagnosed_without(tmp_path):
    path = tmp_path / "reviews.csv"
    FRAME.to_csv(path, index=False, encoding="cp949")
    assert read_table(path, "data.path", encoding="cp949")["document"][0] == "영화 최고"
    with pytest.raises(NekaError, match=r"data.encoding=cp949"):
        read_table(path, "data.path")


def test_na_strings_are_text_not_missing(tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_text("document\tlabel\nNA\t1\nnull\t0\n", encoding="utf-8")
    assert read_table(path, "data.path")["document"].tolist() == ["NA", "null"]


@pytest.mark.parametrize("content, has_header, columns", [
    ('document,label\n"좋다, 정말",1\n', True, ["document", "label"]),
    ("document\tlabel\n좋다, 정말\t1\n", True, ["document", "label"]),
    ("좋다, 정말\n별로, 아님\n", False, ["0"]),  # no header: a comma is text, the separator stays tab
], ids=["comma-header", "tab-header", "no-header"])
def test_txt_separator_is_read_from_the_header(tmp_path, content, has_header, columns):
    path = tmp_path / "rows.txt"
    path.write_text(content, encoding="utf-8")
    assert list(read_table(path, "data.path", has_header=has_header).columns) == columns


def test_header_less_file_gets_numbered_columns(tmp_path):
    path = tmp_path / "intents.txt"
    path.write_text("0\t만화\n2\t뭐해?\n", encoding="utf-8")
    frame = read_table(path, "data.path", has_header=False)
    assert list(frame.columns) == ["0", "1"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "absent.csv", r"data.path: no file"),
    (lambda p: p, r"is a folder"),
    (lambda p: _write(p / "table.xml", "<a/>"), r"unknown extension '.xml'"),
    (lambda p: _write(p / "empty.csv", ""), r"empty.csv is empty"),
    (lambda p: _write(p / "header.csv", "document,label\n"), r"header but no rows"),
    (lambda p: _write(p / "broken.csv", 'a,b\n1,2\n3,4,5\n'), r"not a well-formed CSV"),
    (lambda p: _write(p / "fake.xlsx", "not a zip"), r"fake.xlsx is not a readable xlsx"),
])
def test_unreadable_tables_name_the_file_and_key(tmp_path, make, message):
    with pytest.raises(NekaError, match=message):
        read_table(make(tmp_path), "data.path")


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path

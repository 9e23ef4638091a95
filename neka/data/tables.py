"""Reading a labelled table from disk through pandas, with errors a user can act on."""

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from neka.atomic import atomic_path
from neka.errors import NekaError, one_line

SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
OTHER_FORMATS = (".jsonl", ".json", ".parquet", ".xlsx")
HEAD_BYTES = 65536  # what text_layout reads of a file: far more than any header line


@dataclass(frozen=True)
class TextLayout:
    """How a delimited text file is laid out, so that a table written back opens in the same
    tools the same way (Excel on Korean Windows reads UTF-8 without a BOM as cp949: garbage)."""
    sep: str
    encoding: str = "utf-8"  # "utf-8-sig": UTF-8 that starts with a byte-order mark
    line_terminator: str = "\n"


def read_table(path: str | Path, key: str, encoding: str = "utf-8", has_header: bool = True,
               sep: str | None = None) -> pd.DataFrame:
    """`key` is the config key that named the file, so the error can say what to change.
    Header-less delimited files get the column names "0", "1", ..."""
    path = check_table_file(path, key)
    suffix = path.suffix.lower()
    try:
        frame = _read_by_suffix(path, suffix, encoding, has_header, sep)
    except UnicodeDecodeError as error:
        raise NekaError(_encoding_message(path, encoding, error)) from None
    except pd.errors.EmptyDataError:
        raise NekaError(f"{key}: {path.name} is empty; it needs a header row and labelled rows") from None
    except pd.errors.ParserError as error:
        raise NekaError(f"{key}: {path.name} is not a well-formed {suffix[1:].upper()} table: "
                        f"{one_line(error)}") from None
    except (zipfile.BadZipFile, ValueError) as error:
        if suffix in SEPARATORS:
            raise  # pandas' CSV errors are ParserError above; anything else here is a bug
        raise NekaError(f"{key}: {path.name} is not a readable {suffix[1:]} file ({one_line(error)})") from None
    if len(frame) == 0:
        raise NekaError(f"{key}: {path.name} has a header but no rows")
    frame.columns = [str(column) for column in frame.columns]
    return frame


def check_table_file(path: str | Path, key: str) -> Path:
    """What can be told before reading: the file exists, is a file, has a known extension."""
    path = Path(path)
    if not path.exists():
        raise NekaError(f"{key}: no file {str(path)!r}; give the path of a CSV, TSV, JSONL, Parquet or XLSX table")
    if path.is_dir():
        raise NekaError(f"{key}: {str(path)!r} is a folder, not a table file")
    check_extension(path, key, "read")
    return path


def check_extension(path: Path, key: str, action: str) -> None:
    suffix = path.suffix.lower()
    if suffix not in SEPARATORS and suffix not in OTHER_FORMATS:
        known = ", ".join([*SEPARATORS, *OTHER_FORMATS])
        raise NekaError(f"{key}: cannot {action} {path.name!r}: unknown extension {suffix!r}; use one of {known}")


def text_layout(path: Path, encoding: str = "utf-8", sep: str | None = None, has_header: bool = True) -> TextLayout:
    """The layout of a delimited file, from its first bytes: a UTF-8 byte-order mark, the first
    line's ending (CRLF or LF), and the separator: `sep` when given, else the extension's, except
    for .txt (see `_txt_separator`)."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise NekaError(f"data.encoding: unknown encoding {encoding!r}; give a Python codec name such as utf-8 "
                        f"or cp949") from None
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if codec in ("utf-8", "utf-8-sig"):
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    # errors="replace": a file that does not decode is reported by read_table, with advice
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    first_line, newline, _ = text.partition("\n")
    line_terminator = "\r\n" if newline and first_line.endswith("\r") else "\n"
    suffix = path.suffix.lower()
    if not sep:
        sep = _txt_separator(first_line, has_header) if suffix == ".txt" else SEPARATORS[suffix]
    return TextLayout(sep, encoding, line_terminator)


def _txt_separator(first_line: str, has_header: bool) -> str:
    """.txt tables come tab- and comma-separated. A header names columns, and column names hold
    neither tabs nor commas in practice: a tab in it means tabs, else a comma means commas.
    Without a header the first line is data, where a comma is as likely to be text (a review),
    so it stays the documented tab (data.sep can say otherwise). Not csv.Sniffer (pandas'
    `sep=None`): it takes "좋다, 정말\n별로, 아님" for two comma-separated columns, and gives up on
    a one-column file with a header ("Could not determine delimiter")."""
    if has_header and "\t" not in first_line and "," in first_line:
        return ","
    return "\t"


def _read_by_suffix(path: Path, suffix: str, encoding: str, has_header: bool, sep: str | None) -> pd.DataFrame:
    header = 0 if has_header else None
    if suffix in SEPARATORS:
        layout = text_layout(path, encoding, sep, has_header)
        # keep_default_na=False: "NA" or "null" in a review is text; only empty cells are missing
        return pd.read_csv(path, sep=layout.sep, encoding=layout.encoding, header=header,
                           keep_default_na=False, na_values=[""])
    if suffix in (".jsonl", ".json"):
        return pd.read_json(path, lines=suffix == ".jsonl", encoding=encoding)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_excel(path, header=header)


def _encoding_message(path: Path, encoding: str, error: UnicodeDecodeError) -> str:
    hint = "set data.encoding to the file's encoding"
    try:
        path.read_bytes().decode("cp949")
        hint = "it decodes as cp949 (common for Korean files): set data.encoding=cp949"
    except UnicodeDecodeError:
        pass
    return (f"data.encoding: {path.name} is not valid {encoding} "
            f"(byte {error.object[error.start]:#04x} at offset {error.start}); {hint}")


def check_writable(path: str | Path, key: str) -> Path:
    """What can be told before writing: a known extension, an existing folder, not a folder itself."""
    path = Path(path)
    check_extension(path, key, "write")
    if not path.parent.is_dir():
        raise NekaError(f"{key}: folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise NekaError(f"{key}: {str(path)!r} is a folder, not a table file")
    return path


def write_table(frame: pd.DataFrame, path: str | Path, key: str, layout: TextLayout | None = None) -> None:
    """In the format the extension names, written atomically (neka/atomic.py); a delimited file
    in `layout` (default: the extension's separator, UTF-8 without BOM, LF)."""
    path = check_writable(path, key)
    suffix = path.suffix.lower()
    with atomic_path(path) as temporary:
        if suffix in SEPARATORS:
            layout = layout or TextLayout(SEPARATORS[suffix])
            try:
                frame.to_csv(temporary, sep=layout.sep, encoding=layout.encoding,
                             lineterminator=layout.line_terminator, index=False)
            except UnicodeEncodeError as error:
                raise NekaError(f"{key}: {path.name} cannot be written in {layout.encoding} (data.encoding), which "
                                f"has no {error.object[error.start:error.end]!r}; choose a name ending in .jsonl, "
                                f".parquet or .xlsx") from None
        elif suffix in (".jsonl", ".json"):
            frame.to_json(temporary, orient="records", lines=suffix == ".jsonl", force_ascii=False)
        elif suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_excel(temporary, index=False)

"""Reading a labelled table from disk through pandas, with errors a user can act on."""

import zipfile
from pathlib import Path

import pandas as pd

from neka.atomic import atomic_path
from neka.errors import NekaError

SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
OTHER_FORMATS = (".jsonl", ".json", ".parquet", ".xlsx")


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
        detail = " ".join(str(error).split())
        raise NekaError(f"{key}: {path.name} is not a well-formed {suffix[1:].upper()} table: {detail}") from None
    except (zipfile.BadZipFile, ValueError) as error:
        if suffix in SEPARATORS:
            raise  # pandas' CSV errors are ParserError above; anything else here is a bug
        detail = " ".join(str(error).split())
        raise NekaError(f"{key}: {path.name} is not a readable {suffix[1:]} file ({detail})") from None
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
    suffix = path.suffix.lower()
    if suffix not in SEPARATORS and suffix not in OTHER_FORMATS:
        known = ", ".join([*SEPARATORS, *OTHER_FORMATS])
        raise NekaError(f"{key}: cannot read {path.name!r}: unknown extension {suffix!r}; use one of {known}")
    return path


def _read_by_suffix(path: Path, suffix: str, encoding: str, has_header: bool, sep: str | None) -> pd.DataFrame:
    header = 0 if has_header else None
    if suffix in SEPARATORS:
        # keep_default_na=False: "NA" or "null" in a review is text; only empty cells are missing
        return pd.read_csv(path, sep=sep or SEPARATORS[suffix], encoding=encoding, header=header,
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


def write_table(frame: pd.DataFrame, path: str | Path, key: str, sep: str | None = None) -> None:
    """In the format the extension names, written atomically (neka/atomic.py)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SEPARATORS and suffix not in OTHER_FORMATS:
        raise NekaError(f"{key}: cannot write {path.name!r}: unknown extension {suffix!r}")
    if not path.parent.is_dir():
        raise NekaError(f"{key}: folder {str(path.parent)!r} does not exist")
    with atomic_path(path) as temporary:
        if suffix in SEPARATORS:
            frame.to_csv(temporary, sep=sep or SEPARATORS[suffix], index=False)
        elif suffix in (".jsonl", ".json"):
            frame.to_json(temporary, orient="records", lines=suffix == ".jsonl", force_ascii=False)
        elif suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_excel(temporary, index=False)

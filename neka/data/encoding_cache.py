"""A run on a table and tokenizer settings seen before reuses that earlier encoding: the split
rows as token ids, their positions in the table files, the label map, the input columns and the
tokenizer itself.

Besides skipping the reading, vocabulary training and tokenisation, this keeps runs
reproducible: the WordPiece trainer of `tokenizers` breaks ties in hash-map order, so training
twice on the same texts can give other pieces or other ids (huggingface/tokenizers#1794; on
160,000 reviews, the same 8,000 pieces with 2,199 at other ids). The key hashes the table
files' bytes, every setting that changes the encoding and a pretrained tokenizer's files or commit
(neka/tokenization/identity.py), so an edited file, setting or tokenizer never meets a stale entry.
"""

import hashlib
import inspect
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytorch_lightning as pl

from neka.atomic import atomic_path
from neka.data.tables import check_table_file
from neka.data.transform import EncodedRows
from neka.tokenization.identity import tokenizer_identity
from neka.tokenization.interface import NekaTokenizer
from neka.tokenization.loading import load_saved_tokenizer

log = logging.getLogger(__name__)

FORMAT = 3  # raise when what is stored changes (2: the split rows' positions; 3: windows, full lengths)
ARRAYS = ("token_ids", "offsets", "first_segment_lengths", "labels", "sequence_rows", "full_lengths")

# The DataModule's arguments that cannot change the encoding; every other one is in the key.
NOT_IN_KEY = (
    "path", "val_path", "test_path",  # the files' bytes are hashed instead, and which of them are given
    "tokenizer_factory",  # a function: tokenizer_settings, in the key, say what it builds
    "label_map",  # a trained run's map: nothing is cached then
    "batch_size", "num_workers", "pin_memory", "group_by_length", "pad_to_max_len",  # batching only
    "max_unk_share",  # a check on the encoded rows, made after a cached encoding is read too
    "window_aggregation",  # how the model pools windows, not how they are cut
    "cache_dir",  # where entries are, not what they hold
)


@dataclass
class Encoding:
    encoded: dict[str, EncodedRows]
    label_map: dict[str, int]
    input_columns: list[str]
    task: str
    tokenizer: NekaTokenizer
    positions: dict[str, np.ndarray]  # each split's rows among its file's data rows: the run records them


def cache_key(files: list[str], settings: dict) -> str:
    digest = hashlib.sha256(json.dumps({"format": FORMAT, **settings}, sort_keys=True, default=str).encode())
    for path in files:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:32]


def cache_folder(data: pl.LightningDataModule) -> Path | None:
    """The DataModule's entry under its `cache_dir`, keyed by its table files' bytes, its settings and
    a pretrained tokenizer's identity; None when nothing is cached (no cache_dir, no tokenizer
    settings, a trained run's label map, or a hub tokenizer whose commit cannot be known)."""
    if not data.cache_dir or data.tokenizer_settings is None or data.label_map:
        return None
    files = data.table_files
    for key, path in files.items():
        check_table_file(path, key)  # a missing file is reported as the reader reports it
    settings = {"files": list(files), **encoding_settings(data)}
    pretrained = data.tokenizer_settings.get("pretrained")
    if pretrained:  # the tokenizer's files or commit, not only its name: a replaced tokenizer is another entry
        settings["tokenizer_identity"] = tokenizer_identity(str(pretrained))
        if settings["tokenizer_identity"] is None:
            return None
    return Path(data.cache_dir) / cache_key(list(files.values()), settings)


def encoding_settings(data: pl.LightningDataModule) -> dict:
    """Every argument of the DataModule's constructors (its class's and its parents') but
    NOT_IN_KEY, as the attribute of the same name: an argument added later joins the key unless
    it is listed there, so it never meets an entry encoded without it."""
    names: list[str] = []
    for cls in type(data).__mro__[:type(data).__mro__.index(pl.LightningDataModule)]:
        names += [name for name, parameter in inspect.signature(cls.__init__).parameters.items()
                  if name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]
    settings = {name: getattr(data, name) for name in dict.fromkeys(names) if name not in NOT_IN_KEY}
    settings["tokenizer"] = settings.pop("tokenizer_settings")  # the name earlier keys hashed: their entries stay valid
    return settings


def load_encoding(folder: Path) -> Encoding | None:
    if not (folder / "meta.json").is_file():
        return None
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    encoded, positions = {}, {}
    for split in meta["splits"]:
        with np.load(folder / f"{split}.npz") as arrays:
            encoded[split] = EncodedRows(*(arrays[name] for name in ARRAYS))
            positions[split] = arrays["positions"]
    log.info("reused the encoding cached in %s", folder)
    return Encoding(encoded, meta["label_map"], meta["input_columns"], meta["task"],
                    load_saved_tokenizer(folder / "tokenizer"), positions)


def save_encoding(folder: Path, encoding: Encoding) -> None:
    """Written as a whole folder and renamed: a run killed while saving leaves no half entry.
    Of two runs saving the same entry at once (a parallel sweep), the first one's stays."""
    try:
        with atomic_path(folder, is_folder=True) as staging:
            (staging / "tokenizer").mkdir()
            encoding.tokenizer.save(staging / "tokenizer")
            for split, rows in encoding.encoded.items():
                np.savez(staging / f"{split}.npz", **{name: getattr(rows, name) for name in ARRAYS},
                         positions=encoding.positions[split])
            meta = {"splits": list(encoding.encoded), "label_map": encoding.label_map,
                    "input_columns": encoding.input_columns, "task": encoding.task}
            (staging / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    except OSError:
        if not (folder / "meta.json").is_file():
            raise

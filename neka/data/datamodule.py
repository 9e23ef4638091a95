"""NekaDataModule: read the table, choose columns, encode labels, split, tokenize, batch."""

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from torch.utils.data import DataLoader

from neka.crossval.folds import split_fold
from neka.data.batching import Collate
from neka.data.columns import cells_as_text, column_list, handle_missing, select_input_columns
from neka.data.encoding_cache import Encoding, cache_folder, load_encoding, save_encoding
from neka.data.labels import (
    bin_labels,
    build_label_map,
    check_known_labels,
    encode_labels,
    id_column_warning,
    label_names,
    regression_targets,
    resolve_task,
)
from neka.data.loaders import EncodedDataModule
from neka.data.multilabel import build_multilabel_map, indicator_sets, label_sets, multi_hot, strata
from neka.data.splits import check_split_sizes, sample_rows, split_holdout
from neka.data.tables import read_table
from neka.data.transform import EncodedRows, encode_table
from neka.data.truncation import Truncation, describe_long_rows
from neka.data.unknowns import check_unknown_share, log_encoded_samples
from neka.errors import NekaError
from neka.tokenization.interface import NekaTokenizer

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


class NekaDataModule(EncodedDataModule):
    def __init__(self, path: str, label_column: str, tokenizer_factory: Callable[[Iterable[str]], NekaTokenizer],
                 text_columns: list[str] | None = None, drop_columns: list[str] | None = None, pair: bool = False,
                 val_path: str | None = None, test_path: str | None = None, val_size: float = 0.1,
                 test_size: float = 0.1, max_rows: int | None = None, seed: int = 42, encoding: str = "utf-8",
                 has_header: bool = True, drop_missing: bool = False, max_len: int = 64, batch_size: int = 64,
                 pad_to_max_len: bool = False, num_workers: int = 0, max_unk_share: float = 0.1,
                 label_map: dict[str, int] | None = None, sep: str | None = None, label_bins: dict | None = None,
                 task: str = "auto", group_by_length: bool = True, cache_dir: str | None = None,
                 tokenizer_settings: dict | None = None, pin_memory: bool = False, label_sep: str | None = None,
                 label_columns: list[str] | None = None, fold: dict | None = None, truncation: str = "head",
                 window_stride: int | None = None, window_aggregation: str = "mean"):
        """Each argument is kept as the attribute of its name: the encoding cache's key reads them
        (neka/data/encoding_cache.py). Without `tokenizer_settings` (the tokenizer config), or
        without `cache_dir`, nothing is cached. A multi-label table names its labels with
        `label_sep` (a label column holding sets) or `label_columns` (0/1 columns): data/multilabel.py.
        `fold` ({index, count}, set by neka/crossval for each fold's run): that fold of the training
        rows is the validation split, instead of val_size. `truncation`, `window_stride`,
        `window_aggregation`: rows longer than max_len (neka/data/truncation.py)."""
        super().__init__()
        if not path:
            raise NekaError("data.path: no table given; name your file, e.g. data=table data.path=grades.csv "
                            "data.label_column=학점")
        if batch_size < 1:
            raise NekaError(f"data.batch_size: must be at least 1, got {batch_size}")
        if max_len < 8:  # [CLS], a [SEP] per field and a few tokens of text
            raise NekaError(f"data.max_len: {max_len} is too short to hold a row; use at least 8 "
                            f"(the KoBERT notebook used 64)")
        check_split_sizes(0 if val_path else val_size, 0 if test_path else test_size)
        if not isinstance(pin_memory, bool):
            raise NekaError(f"data.pin_memory: must be true or false, got {pin_memory!r}")
        self.path, self.val_path, self.test_path = path, val_path, test_path
        self.label_column, self.text_columns = str(label_column), column_list(text_columns)
        self.drop_columns = column_list(drop_columns) or []
        self.pair, self.val_size, self.test_size = pair, val_size, test_size
        self.max_rows, self.seed, self.encoding, self.has_header = max_rows, seed, encoding, has_header
        self.drop_missing, self.max_len, self.batch_size = drop_missing, max_len, batch_size
        self.pad_to_max_len, self.num_workers, self.max_unk_share = pad_to_max_len, num_workers, max_unk_share
        self.tokenizer_factory = tokenizer_factory
        self.sep, self.label_bins, self.task, self.group_by_length = sep, label_bins, task, group_by_length
        self.is_task_guessed = task == "auto"
        self.label_warning: str | None = None  # repeated in the run's summary
        self.tokenizer: NekaTokenizer | None = None
        self.label_map: dict[str, int] = dict(label_map or {})  # given: a trained run's map, kept as it is
        self.input_columns: list[str] = []
        self.encoded: dict[str, EncodedRows] = {}
        self.split_positions: dict[str, np.ndarray] = {}  # each split's rows among its file's data rows
        self.encoding_seconds = 0.0
        self.cache_dir, self.tokenizer_settings, self.pin_memory = cache_dir, tokenizer_settings, pin_memory
        self.label_sep, self.label_columns = label_sep, column_list(label_columns)
        if label_sep is not None and self.label_columns:
            raise NekaError("data.label_sep and data.label_columns are both set; a multi-label table has either one "
                            "label column of label sets (label_sep) or one 0/1 column per label (label_columns)")
        if label_sep is not None and not str(label_sep):
            raise NekaError("data.label_sep: empty; use the character that joins a row's labels, e.g. "
                            "data.label_sep='|'")
        self.fold = dict(fold) if fold else None
        self.truncation, self.window_stride, self.window_aggregation = truncation, window_stride, window_aggregation
        self.truncation_rule = Truncation(truncation, window_stride, window_aggregation)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def is_multilabel(self) -> bool:
        return self.task == "multilabel"

    @property
    def multilabel_key(self) -> str | None:
        """The setting that makes the table multi-label, if any."""
        return "data.label_columns" if self.label_columns else "data.label_sep" if self.label_sep else None

    @property
    def label_spec(self) -> dict:
        """Where the labels are, for inputs.json: predict and evaluate read labels as training did."""
        return {"label_column": None if self.label_columns else self.label_column, "label_sep": self.label_sep,
                "label_columns": self.label_columns}

    @property
    def num_labels(self) -> int:
        """Outputs of the head: one per class, or one value for regression."""
        return 1 if self.is_regression else len(self.label_map)

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_id

    def setup(self, stage: str | None = None) -> None:
        """Idempotent: `run` calls it before the model exists (the class count comes from
        here), and Lightning calls it again inside fit and test."""
        if self.encoded:
            return
        started = time.perf_counter()
        folder = cache_folder(self)
        cached = load_encoding(folder) if folder else None
        if cached:
            self.encoded, self.label_map, self.tokenizer = cached.encoded, cached.label_map, cached.tokenizer
            self.input_columns, self.task, self.split_positions = cached.input_columns, cached.task, cached.positions
        else:
            self._encode()
            if folder:
                save_encoding(folder, Encoding(self.encoded, self.label_map, self.input_columns, self.task,
                                                     self.tokenizer, self.split_positions))
        self.encoding_seconds = time.perf_counter() - started  # read, split, tokenizer, encode (or the cache)
        log.info("read and encoded the table in %.1f s", self.encoding_seconds)
        if self.is_task_guessed and self.is_regression:
            self.label_warning = id_column_warning(self.encoded["train"].labels, self.label_column)
            if self.label_warning:
                log.warning(self.label_warning)
        log_encoded_samples(self.encoded["train"], self.tokenizer)
        log.info(describe_long_rows(self.encoded, self.max_len, self.truncation_rule))
        check_unknown_share(self.encoded["train"], self.tokenizer, self.max_unk_share)
        log.info("rows: %s; %s; input columns %s",
                 ", ".join(f"{split} {len(self.encoded[split]):,} {origin}" for split, origin in self.origins.items()),
                 "regression" if self.is_regression else f"{self.num_labels} "
                 f"{'labels, any number per row' if self.is_multilabel else 'classes'}", self.input_columns)

    @property
    def table_files(self) -> dict[str, str]:
        """The table files given, by the config key that names each."""
        return {key: path for key, path in (("data.path", self.path), ("data.val_path", self.val_path),
                                            ("data.test_path", self.test_path)) if path}

    @property
    def split_files(self) -> dict[str, str]:
        """For each split, the config key of the file its rows came from."""
        return {"train": "data.path", "val": "data.val_path" if self.val_path else "data.path",
                "test": "data.test_path" if self.test_path else "data.path"}

    @property
    def origins(self) -> dict[str, str]:
        """`from FILE`, or `carved from FILE` for a share split off data.path: for the log and the summary."""
        return {split: f"{'carved ' if split != 'train' and key == 'data.path' else ''}from {self.table_files[key]}"
                for split, key in self.split_files.items()}

    def split_frames(self) -> dict[str, pd.DataFrame]:
        """Each split's rows as `setup` read them (missing cells handled, labels binned), at the positions it
        chose, also when it reused a cached encoding: the cells, for neka.check. Each file is read once more."""
        tables = {key: self._read(path, key) for key, path in self.table_files.items()}
        return {split: tables[key].loc[self.split_positions[split]] for split, key in self.split_files.items()}

    def encode_rows_at(self, path: str, key: str, positions: np.ndarray, split: str) -> EncodedRows:
        """The rows at `positions` among a file's data rows, encoded as `setup` encodes a split: a
        finished run's recorded split, for evaluate, which sets the run's tokenizer, label map, task
        and input columns first."""
        frame = self._read(path, key).loc[positions]
        fields = [cells_as_text(frame[column]) for column in self.input_columns]
        return encode_table(self.tokenizer, fields, self._encode_labels({split: frame})[split], self.max_len,
                            self.pair, self.truncation_rule)

    def _encode(self) -> None:
        frames = self._read_and_split()
        self.split_positions = {split: frame.index.to_numpy(np.int64) for split, frame in frames.items()}
        labels = self._encode_labels(frames)
        fields = {split: [cells_as_text(frames[split][c]) for c in self.input_columns] for split in SPLITS}
        self.tokenizer = self.tokenizer_factory(train_texts=(text for column in fields["train"] for text in column))
        for split in SPLITS:
            self.encoded[split] = encode_table(self.tokenizer, fields[split], labels[split], self.max_len, self.pair,
                                               self.truncation_rule)

    def _encode_labels(self, frames: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
        """Class ids through the label map (built here from all three splits unless a trained run
        gave one), or regression targets as numbers."""
        if self.is_regression:
            return {split: regression_targets(frame[self.label_column], self.path) for split, frame in frames.items()}
        if self.is_multilabel:
            sets = {split: self._label_sets(frame, self.path) for split, frame in frames.items()}
            if not self.label_map:
                self.label_map = build_multilabel_map(sets["train"], self.label_columns, self.path)
            return {split: multi_hot(split_sets, self.label_map, f"{split} rows") for split, split_sets in sets.items()}
        names = {split: label_names(frame[self.label_column]) for split, frame in frames.items()}
        if not self.label_map:
            self.label_map = build_label_map(names["train"], [names["val"], names["test"]], self.path)
        for split, split_names in names.items():
            check_known_labels(split_names, self.label_map, split)
        return {split: encode_labels(split_names, self.label_map) for split, split_names in names.items()}

    def _read_and_split(self) -> dict[str, pd.DataFrame]:
        """Each split's rows keep the index `_read` gave them: their positions among the file's data rows."""
        table = self._read(self.path, "data.path")
        labels = None if self.label_columns else table[self.label_column]
        self.task = resolve_task(self.task, labels, self.path, self.multilabel_key)
        if self.is_multilabel:
            log.info("multi-label splits are stratified on each row's rarest label (rows with none form a stratum)")
        if self.pair and len(self.input_columns) != 2:
            raise NekaError(f"data.pair=true needs exactly two data.text_columns, got {self.input_columns}")
        table = sample_rows(table, self.max_rows, self.seed)
        test_share = 0.0
        if self.test_path:
            test = self._read(self.test_path, "data.test_path")
        else:
            test_share = self.test_size
            table, test = split_holdout(table, self._strata(table), self.test_size, self.seed, "data.test_size")
        if self.fold:
            table, val = split_fold(table, self._strata(table), self.fold["index"], self.fold["count"], self.seed)
        elif self.val_path:
            val = self._read(self.val_path, "data.val_path")
        else:
            share_of_rest = self.val_size / (1 - test_share)  # val_size is a share of the whole table
            table, val = split_holdout(table, self._strata(table), share_of_rest, self.seed, "data.val_size")
        return {"train": table, "val": val, "test": test}

    def _strata(self, table: pd.DataFrame) -> pd.Series | None:
        if self.is_multilabel:
            return strata(self._label_sets(table, self.path), table.index)
        return None if self.is_regression else label_names(table[self.label_column])

    def label_texts(self, frame: pd.DataFrame) -> pd.Series:
        """Each multi-label row's label set as one text ("gender|hate", "" for none), for checks
        that compare rows' labels."""
        return pd.Series(["|".join(labels) for labels in self._label_sets(frame, self.path)], index=frame.index)

    def _label_sets(self, frame: pd.DataFrame, file_name: str) -> list[list[str]]:
        if self.label_columns:
            return indicator_sets(frame, self.label_columns, file_name)
        return label_sets(frame[self.label_column], self.label_sep, file_name)

    def _read(self, path: str, key: str) -> pd.DataFrame:
        """The first file read (data.path) decides the input columns; val/test files must have them.
        The index is each row's position among the file's data rows, which sampling, splitting and
        dropping keep: the run records it."""
        frame = read_table(path, key, self.encoding, self.has_header, self.sep)
        frame.index = pd.RangeIndex(len(frame))
        label_columns, label_key = ((self.label_columns, "data.label_columns") if self.label_columns
                                    else ([self.label_column], "data.label_column"))
        if not self.input_columns:
            self.input_columns = select_input_columns(frame, path, label_columns, self.text_columns,
                                                      self.drop_columns, label_key)
        else:
            select_input_columns(frame, path, label_columns, self.input_columns, [], label_key)
        # an empty cell of a label-set column is the empty set, not a missing value
        required = label_columns if not self.label_sep else []
        frame = handle_missing(frame, path, [*self.input_columns, *required], self.drop_missing)
        if self.label_bins:
            frame = frame.assign(**{self.label_column: bin_labels(frame[self.label_column], self.label_bins["edges"],
                                                                  self.label_bins["names"], path)})
        return frame

    def collate(self) -> Collate:
        return Collate(self.pad_id, self.max_len if self.pad_to_max_len else None)

    def test_dataloader(self) -> DataLoader:
        return self.evaluation_loader("test")

"""NekaDataModule: read the table, choose columns, encode labels, split, tokenize, batch."""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytorch_lightning as pl
from torch.utils.data import DataLoader

from neka.batching import Collate, EncodedDataset
from neka.columns import cells_as_text, handle_missing, select_input_columns
from neka.errors import NekaError
from neka.labels import (
    bin_labels,
    build_label_map,
    check_known_labels,
    encode_labels,
    label_names,
    regression_targets,
    resolve_task,
)
from neka.sampling import LengthGroupedBatchSampler
from neka.splits import check_split_sizes, sample_rows, split_holdout
from neka.tables import read_table
from neka.tokenizers import NekaTokenizer
from neka.transform import EncodedRows, encode_rows
from neka.unknowns import check_unknown_share, log_encoded_samples

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class SplitFrames:
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


class NekaDataModule(pl.LightningDataModule):
    def __init__(self, path: str, label_column: str, tokenizer_factory: Callable[[Iterable[str]], NekaTokenizer],
                 text_columns: list[str] | None = None, drop_columns: list[str] | None = None, pair: bool = False,
                 val_path: str | None = None, test_path: str | None = None, val_size: float = 0.1,
                 test_size: float = 0.1, max_rows: int | None = None, seed: int = 42, encoding: str = "utf-8",
                 has_header: bool = True, drop_missing: bool = False, max_len: int = 64, batch_size: int = 64,
                 pad_to_max_len: bool = False, num_workers: int = 0, max_unk_share: float = 0.1,
                 label_map: dict[str, int] | None = None, sep: str | None = None, label_bins: dict | None = None,
                 task: str = "auto", group_by_length: bool = True):
        super().__init__()
        if batch_size < 1:
            raise NekaError(f"data.batch_size: must be at least 1, got {batch_size}")
        check_split_sizes(0 if val_path else val_size, 0 if test_path else test_size)
        self.path, self.val_path, self.test_path = path, val_path, test_path
        self.label_column, self.text_columns = str(label_column), text_columns
        self.drop_columns = list(drop_columns or [])
        self.pair, self.val_size, self.test_size = pair, val_size, test_size
        self.max_rows, self.seed, self.encoding, self.has_header = max_rows, seed, encoding, has_header
        self.drop_missing, self.max_len, self.batch_size = drop_missing, max_len, batch_size
        self.pad_to_max_len, self.num_workers, self.max_unk_share = pad_to_max_len, num_workers, max_unk_share
        self.tokenizer_factory = tokenizer_factory
        self.sep, self.label_bins, self.task, self.group_by_length = sep, label_bins, task, group_by_length
        self.tokenizer: NekaTokenizer | None = None
        self.label_map: dict[str, int] = dict(label_map or {})  # given: a trained run's map, kept as it is
        self.input_columns: list[str] = []
        self.encoded: dict[str, EncodedRows] = {}
        self.encoding_seconds = 0.0

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

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
        frames = self._read_and_split()
        labels = self._encode_labels(frames)
        fields = {split: [cells_as_text(getattr(frames, split)[c]) for c in self.input_columns] for split in SPLITS}
        self.tokenizer = self.tokenizer_factory(train_texts=(text for column in fields["train"] for text in column))
        for split in SPLITS:
            token_fields = [self.tokenizer.encode_batch(texts) for texts in fields[split]]
            self.encoded[split] = encode_rows(token_fields, labels[split], self.tokenizer.cls_id, self.tokenizer.sep_id,
                                              self.max_len, self.pair)
        self.encoding_seconds = time.perf_counter() - started  # read, split, tokenizer, encode
        log.info("read and encoded the table in %.1f s", self.encoding_seconds)
        log_encoded_samples(self.encoded["train"], self.tokenizer)
        check_unknown_share(self.encoded["train"], self.tokenizer, self.max_unk_share)
        log.info("rows: train %d, val %d, test %d; %s; input columns %s", *(len(self.encoded[s]) for s in SPLITS),
                 "regression" if self.is_regression else f"{self.num_labels} classes", self.input_columns)

    def _encode_labels(self, frames: SplitFrames) -> dict[str, np.ndarray]:
        """Class ids through the label map (built here unless a trained run gave one), or
        regression targets as numbers."""
        if self.is_regression:
            return {split: regression_targets(getattr(frames, split)[self.label_column], self.path) for split in SPLITS}
        names = {split: label_names(getattr(frames, split)[self.label_column]) for split in SPLITS}
        if not self.label_map:
            self.label_map = build_label_map(names["train"], [names["val"], names["test"]], self.path)
        for split in SPLITS:
            check_known_labels(names[split], self.label_map, split)
        return {split: encode_labels(names[split], self.label_map) for split in SPLITS}

    def _read_and_split(self) -> SplitFrames:
        table = self._read(self.path, "data.path")
        self.task = resolve_task(self.task, table[self.label_column], self.path)
        if self.pair and len(self.input_columns) != 2:
            raise NekaError(f"data.pair=true needs exactly two data.text_columns, got {self.input_columns}")
        table = sample_rows(table, self.max_rows, self.seed)
        test_share = 0.0
        if self.test_path:
            test = self._read(self.test_path, "data.test_path")
        else:
            test_share = self.test_size
            table, test = split_holdout(table, self._strata(table), self.test_size, self.seed, "data.test_size")
        if self.val_path:
            val = self._read(self.val_path, "data.val_path")
        else:
            share_of_rest = self.val_size / (1 - test_share)  # val_size is a share of the whole table
            table, val = split_holdout(table, self._strata(table), share_of_rest, self.seed, "data.val_size")
        return SplitFrames(train=table, val=val, test=test)

    def _strata(self, table: pd.DataFrame) -> pd.Series | None:
        return None if self.is_regression else label_names(table[self.label_column])

    def _read(self, path: str, key: str) -> pd.DataFrame:
        """The first file read (data.path) decides the input columns; val/test files must have them."""
        frame = read_table(path, key, self.encoding, self.has_header, self.sep)
        if not self.input_columns:
            self.input_columns = select_input_columns(frame, path, self.label_column, self.text_columns,
                                                      self.drop_columns)
        else:
            select_input_columns(frame, path, self.label_column, self.input_columns, [])
        frame = handle_missing(frame, path, [*self.input_columns, self.label_column], self.drop_missing)
        if self.label_bins:
            frame = frame.assign(**{self.label_column: bin_labels(frame[self.label_column], self.label_bins["edges"],
                                                                  self.label_bins["names"], path)})
        return frame

    def _collate(self) -> Collate:
        return Collate(self.pad_id, self.max_len if self.pad_to_max_len else None)

    def train_dataloader(self) -> DataLoader:
        rows = self.encoded["train"]
        if self.group_by_length:
            sampler = LengthGroupedBatchSampler(rows.valid_lengths, self.batch_size, self.seed)
            return DataLoader(EncodedDataset(rows), batch_sampler=sampler, collate_fn=self._collate(),
                              num_workers=self.num_workers)
        return DataLoader(EncodedDataset(rows), batch_size=self.batch_size, shuffle=True, collate_fn=self._collate(),
                          num_workers=self.num_workers)

    def _evaluation_loader(self, split: str) -> DataLoader:
        """Sorted by length: metrics do not depend on row order, padding does. Under DDP each rank
        takes every world_size-th row, none twice, and torchmetrics reduce the metrics across ranks."""
        rows = self.encoded[split]
        order = np.argsort(rows.valid_lengths, kind="stable") if self.group_by_length else np.arange(len(rows))
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return DataLoader(EncodedDataset(rows), batch_size=self.batch_size, sampler=order[rank::world_size].tolist(),
                          collate_fn=self._collate(), num_workers=self.num_workers)

    def val_dataloader(self) -> DataLoader:
        return self._evaluation_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._evaluation_loader("test")

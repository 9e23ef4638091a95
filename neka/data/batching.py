"""Rows to padded batches: input ids, valid length, segment ids and labels."""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from neka.data.transform import EncodedRows, pack_rows


class RowSelection(NamedTuple):
    """A batch as indices into the encoded arrays: what the DataLoader's batched fetch
    (EncodedDataset.__getitems__) hands to Collate, which gathers them with numpy in one go.
    The indices are sequences (training: each window of a long row on its own, with the row's
    label), or with `whole_rows` rows, each with all its windows (scoring)."""

    rows: EncodedRows
    indices: np.ndarray
    whole_rows: bool = False


class EncodedDataset(Dataset):
    """Items are sequences, or with `whole_rows` rows (the same unless data.truncation=windows)."""

    def __init__(self, rows: EncodedRows, whole_rows: bool = False):
        self.rows = rows
        self.whole_rows = whole_rows

    def __len__(self) -> int:
        return len(self.rows) if self.whole_rows else self.rows.sequence_count

    def __getitem__(self, index: int) -> tuple[np.ndarray, int, int | float | np.ndarray]:
        if self.whole_rows and self.rows.is_windowed:
            raise TypeError("a windowed row is several sequences; fetch rows with __getitems__")
        label = self.rows.labels[self.rows.sequence_rows[index]]  # a row of 0/1 values for multi-label rows
        first_segment_length = int(self.rows.first_segment_lengths[index])
        return self.rows.row(index), first_segment_length, label.item() if label.ndim == 0 else label

    def __getitems__(self, indices: list[int]) -> RowSelection:
        """The DataLoader calls this with a whole batch's indices, instead of __getitem__ per item."""
        return RowSelection(self.rows, np.asarray(indices, dtype=np.int64), self.whole_rows)


def select_rows(rows: Sequence[tuple[np.ndarray, int, int | float]]) -> RowSelection:
    """(ids, first segment length, label) tuples, as __getitem__ returns them, as a selection."""
    labels = [label for _, _, label in rows]
    encoded = pack_rows([ids for ids, _, _ in rows], [first for _, first, _ in rows],
                        np.stack(labels) if labels and isinstance(labels[0], np.ndarray)  # multi-label rows
                        else torch.tensor(labels).numpy())  # int64 or float32 labels
    return RowSelection(encoded, np.arange(len(rows)))  # sequences, one per row


class Collate:
    """Pads to the longest row of the batch (same logits as padding to max_len, since the
    attention mask hides padding, for less compute), or to `pad_to` like the KoBERT notebook's
    BERTSentenceTransform(pad=True). A class, not a lambda, so DataLoader workers can pickle it.

    The batch is gathered from the flat token array with one fancy index, not a tensor per row:
    0.05 ms for 64 rows against 0.38 ms the per-row way, 1 % of a tiny-BERT training step."""

    def __init__(self, pad_id: int, pad_to: int | None = None):
        self.pad_id = pad_id
        self.pad_to = pad_to

    def __call__(self, batch: RowSelection | Sequence[tuple[np.ndarray, int, int | float]]) -> dict[str, torch.Tensor]:
        """A batch of whole windowed rows also has `window_rows`: each sequence's row in the batch,
        which the model pools by (neka/model/windows.py); `labels` are then one per row."""
        rows, indices, whole_rows = batch if isinstance(batch, RowSelection) else select_rows(batch)
        if whole_rows:
            labels = rows.labels[indices]
            indices, window_rows = rows.sequences_of(indices)
        else:
            window_rows, labels = None, rows.labels[rows.sequence_rows[indices]]
        starts = rows.offsets[indices]
        valid_length = rows.offsets[indices + 1] - starts
        positions = np.arange(max(int(valid_length.max()), self.pad_to or 0))
        inside = positions < valid_length[:, None]
        input_ids = np.full(inside.shape, self.pad_id, dtype=np.int64)
        input_ids[inside] = rows.token_ids[(starts[:, None] + positions)[inside]]
        second_segment = (positions >= rows.first_segment_lengths[indices][:, None]) & inside
        batch = {
            "input_ids": torch.from_numpy(input_ids),
            "valid_length": torch.from_numpy(valid_length),
            "token_type_ids": torch.from_numpy(second_segment.astype(np.int64)),  # padding: segment 0, as gluonnlp
            "labels": torch.from_numpy(labels),  # int64 classes, float32 targets or 0/1 rows
        }
        if rows.is_windowed and whole_rows:
            batch["window_rows"] = torch.from_numpy(window_rows)
        return batch


def length_sorted_loader(rows: EncodedRows, batch_size: int, by_length: bool = True, rank: int = 0,
                         world_size: int = 1, **loader_settings) -> tuple[DataLoader, np.ndarray]:
    """Evaluation and scoring batches of whole rows: in length order, less padding and the same
    outputs (the attention mask hides padding, and metrics do not depend on row order). Also
    returns the rows' order, which puts outputs back in input order. Under DDP each rank takes
    every world_size-th row, none twice. Windowed rows fill a batch up to `batch_size`
    sequences (one row at least), so a batch's memory stays that of batch_size sequences."""
    lengths = rows.full_lengths if rows.is_windowed else rows.valid_lengths
    order = (np.argsort(lengths, kind="stable") if by_length else np.arange(len(rows)))[rank::world_size]
    batches = window_batches(order, np.diff(rows.row_starts)[order], batch_size)
    return DataLoader(EncodedDataset(rows, whole_rows=True), batch_sampler=[b.tolist() for b in batches],
                      **loader_settings), order


def window_batches(order: np.ndarray, window_counts: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """`order` cut into batches of whole rows holding at most batch_size windows (one row at least):
    batch_size rows a batch where every row is one sequence."""
    batches, start, held = [], 0, 0
    for position, count in enumerate(window_counts.tolist()):
        if held and held + count > batch_size:
            batches.append(order[start:position])
            start, held = position, 0
        held += count
    if start < len(order):
        batches.append(order[start:])
    return batches

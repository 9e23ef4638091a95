"""The KoBERT notebook's BERTSentenceTransform, generalised from one or two fields to any number.

A row's fields (already tokenized to ids, no specials) become
`[CLS] f1 [SEP] f2 [SEP] ... [SEP]`, cut to `max_len` the way gluonnlp cuts a pair:
while too long, drop the last token of the longest field (the later field on ties); or its
head and tail, or windows of it (neka/data/truncation.py).
With `pair`, the second field and its [SEP] get segment id 1, as `pair=True` does;
otherwise every position is segment 0. Rows are stored flat (one int32 array and
offsets) so a large table holds no Python object per token.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from neka.data.truncation import Truncation, cut_row
from neka.errors import NekaError


@dataclass
class EncodedRows:
    """Rows as sequences of ids. A row is one sequence, or with data.truncation=windows a long row
    is several (its windows, next to each other); `labels` and `full_lengths` are per row."""

    token_ids: np.ndarray  # int32, every sequence's ids (specials included) back to back
    offsets: np.ndarray  # int64, sequence i is token_ids[offsets[i]:offsets[i + 1]]
    first_segment_lengths: np.ndarray  # int64 per sequence, positions from here on are segment 1
    labels: np.ndarray  # per row: int64 class ids, float32 targets for regression, 0/1 rows for multi-label
    sequence_rows: np.ndarray  # int64 per sequence, the row it belongs to (ascending)
    full_lengths: np.ndarray  # int64 per row, its length before any cut (specials included)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def sequence_count(self) -> int:
        return len(self.offsets) - 1

    @property
    def is_windowed(self) -> bool:
        """Some row became several sequences."""
        return self.sequence_count != len(self.labels)

    def row(self, index: int) -> np.ndarray:
        """The ids of sequence `index`: the row's, unless the rows are windowed."""
        return self.token_ids[self.offsets[index]:self.offsets[index + 1]]

    @property
    def valid_lengths(self) -> np.ndarray:
        """Per sequence."""
        return np.diff(self.offsets)

    @cached_property
    def row_starts(self) -> np.ndarray:
        """Row r's sequences are row_starts[r]:row_starts[r + 1]. Kept: each scoring batch reads it."""
        return np.searchsorted(self.sequence_rows, np.arange(len(self.labels) + 1))

    def sequences_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sequences of `rows`, in order, and for each the position of its row among `rows`."""
        if not self.is_windowed:
            return rows, np.arange(len(rows))
        starts = self.row_starts
        counts = starts[rows + 1] - starts[rows]
        first = np.repeat(starts[rows] - np.cumsum(counts) + counts, counts)
        return first + np.arange(int(counts.sum())), np.repeat(np.arange(len(rows)), counts)

    def first(self, count: int) -> "EncodedRows":
        """The first `count` rows, with all their sequences."""
        if len(self) <= count:
            return self
        sequences = int(self.row_starts[count])
        return EncodedRows(self.token_ids[:self.offsets[sequences]], self.offsets[:sequences + 1],
                           self.first_segment_lengths[:sequences], self.labels[:count],
                           self.sequence_rows[:sequences], self.full_lengths[:count])

    def cut_count(self, max_len: int) -> int:
        return int((self.full_lengths > max_len).sum())


def encode_rows(fields: list[list[list[int]]], labels: np.ndarray, cls_id: int, sep_id: int,
                max_len: int, pair: bool, truncation: Truncation = Truncation()) -> EncodedRows:
    """`fields[c][r]` holds the ids of column c in row r."""
    field_count = len(fields)
    budget = max_len - field_count - 1  # one [CLS] and one [SEP] per field
    if budget < field_count:
        raise NekaError(f"data.max_len: {max_len} leaves no room for {field_count} fields and their "
                        f"{field_count + 1} special tokens; raise data.max_len")
    sequences, first_segment_lengths, sequence_rows, full_lengths = [], [], [], []
    for row, row_fields in enumerate(zip(*fields)):
        full_lengths.append(sum(len(ids) for ids in row_fields) + field_count + 1)
        for kept in cut_row(list(row_fields), budget, truncation):
            sequence = [cls_id]
            for ids in kept:
                sequence.extend(ids)
                sequence.append(sep_id)
            sequences.append(sequence)
            first_segment_lengths.append(len(kept[0]) + 2 if pair else len(sequence))
            sequence_rows.append(row)
    return pack_rows(sequences, first_segment_lengths, labels, sequence_rows, full_lengths)


def pack_rows(rows: Sequence[Sequence[int]], first_segment_lengths: Sequence[int], labels: np.ndarray,
              sequence_rows: Sequence[int] | None = None, full_lengths: Sequence[int] | None = None) -> EncodedRows:
    """Sequences of ids (specials included) back to back in one int32 array, with their offsets;
    without `sequence_rows`, one sequence per row, not cut."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    token_ids = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(offsets[-1]))
    return EncodedRows(token_ids, offsets, np.asarray(first_segment_lengths, dtype=np.int64), np.asarray(labels),
                       np.arange(len(rows), dtype=np.int64) if sequence_rows is None
                       else np.asarray(sequence_rows, dtype=np.int64),
                       lengths if full_lengths is None else np.asarray(full_lengths, dtype=np.int64))


def encode_table(tokenizer, fields: list[list[str]], labels: np.ndarray, max_len: int, pair: bool,
                 truncation: Truncation = Truncation(), chunk_rows: int = 20_000) -> EncodedRows:
    """Tokenizes and encodes `chunk_rows` rows at a time: the tokenizer's lists of Python ints
    exist for one chunk only, so a 200,000-row table is held as flat arrays."""
    parts = []
    for start in range(0, max(len(labels), 1), chunk_rows):
        token_fields = [tokenizer.encode_batch(texts[start:start + chunk_rows]) for texts in fields]
        parts.append(encode_rows(token_fields, labels[start:start + chunk_rows], tokenizer.cls_id, tokenizer.sep_id,
                                 max_len, pair, truncation))
    return concatenate_rows(parts)


def concatenate_rows(parts: list[EncodedRows]) -> EncodedRows:
    offsets, sequence_rows, rows_before = [parts[0].offsets], [], 0
    for part in parts[1:]:
        offsets.append(part.offsets[1:] + offsets[-1][-1])
    for part in parts:
        sequence_rows.append(part.sequence_rows + rows_before)
        rows_before += len(part)
    return EncodedRows(np.concatenate([p.token_ids for p in parts]), np.concatenate(offsets),
                       np.concatenate([p.first_segment_lengths for p in parts]),
                       np.concatenate([p.labels for p in parts]), np.concatenate(sequence_rows),
                       np.concatenate([p.full_lengths for p in parts]))

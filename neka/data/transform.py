"""The KoBERT notebook's BERTSentenceTransform, generalised from one or two fields to any number.

A row's fields (already tokenized to ids, no specials) become
`[CLS] f1 [SEP] f2 [SEP] ... [SEP]`, cut to `max_len` the way gluonnlp cuts a pair:
while too long, drop the last token of the longest field (the later field on ties).
With `pair`, the second field and its [SEP] get segment id 1, as `pair=True` does;
otherwise every position is segment 0. Rows are stored flat (one int32 array and
offsets) so a large table holds no Python object per token.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neka.errors import NekaError


@dataclass
class EncodedRows:
    token_ids: np.ndarray  # int32, every row's ids (specials included) back to back
    offsets: np.ndarray  # int64, row i is token_ids[offsets[i]:offsets[i + 1]]
    first_segment_lengths: np.ndarray  # int64, positions from here on are segment 1
    labels: np.ndarray  # int64 class ids, or float32 targets for regression

    def __len__(self) -> int:
        return len(self.labels)

    def row(self, index: int) -> np.ndarray:
        return self.token_ids[self.offsets[index]:self.offsets[index + 1]]

    @property
    def valid_lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def truncate_longest_first(lengths: list[int], budget: int) -> list[int]:
    """Field lengths after cutting to `budget` tokens in total, gluonnlp's rule generalised."""
    lengths = list(lengths)
    if len(lengths) == 1:
        return [min(lengths[0], budget)]
    excess = sum(lengths) - budget
    while excess > 0:
        longest = max(lengths)
        index = len(lengths) - 1 - lengths[::-1].index(longest)  # the later field on ties
        lengths[index] -= 1
        excess -= 1
    return lengths


def encode_rows(fields: list[list[list[int]]], labels: np.ndarray, cls_id: int, sep_id: int,
                max_len: int, pair: bool) -> EncodedRows:
    """`fields[c][r]` holds the ids of column c in row r."""
    field_count = len(fields)
    budget = max_len - field_count - 1  # one [CLS] and one [SEP] per field
    if budget < field_count:
        raise NekaError(f"data.max_len: {max_len} leaves no room for {field_count} fields and their "
                        f"{field_count + 1} special tokens; raise data.max_len")
    rows, first_segment_lengths = [], []
    for row_fields in zip(*fields):
        kept = truncate_longest_first([len(ids) for ids in row_fields], budget)
        sequence = [cls_id]
        for ids, keep in zip(row_fields, kept):
            sequence.extend(ids[:keep])
            sequence.append(sep_id)
        rows.append(sequence)
        first_segment_lengths.append(kept[0] + 2 if pair else len(sequence))
    return pack_rows(rows, first_segment_lengths, labels)


def pack_rows(rows: Sequence[Sequence[int]], first_segment_lengths: Sequence[int], labels: np.ndarray) -> EncodedRows:
    """Rows of ids (specials included) back to back in one int32 array, with their offsets."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    token_ids = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(offsets[-1]))
    return EncodedRows(token_ids, offsets, np.asarray(first_segment_lengths, dtype=np.int64),
                       np.asarray(labels))


def encode_table(tokenizer, fields: list[list[str]], labels: np.ndarray, max_len: int, pair: bool,
                 chunk_rows: int = 20_000) -> EncodedRows:
    """Tokenizes and encodes `chunk_rows` rows at a time: the tokenizer's lists of Python ints
    exist for one chunk only, so a 200,000-row table is held as flat arrays."""
    parts = []
    for start in range(0, max(len(labels), 1), chunk_rows):
        token_fields = [tokenizer.encode_batch(texts[start:start + chunk_rows]) for texts in fields]
        parts.append(encode_rows(token_fields, labels[start:start + chunk_rows], tokenizer.cls_id, tokenizer.sep_id,
                                 max_len, pair))
    return concatenate_rows(parts)


def concatenate_rows(parts: list[EncodedRows]) -> EncodedRows:
    offsets = [parts[0].offsets]
    for part in parts[1:]:
        offsets.append(part.offsets[1:] + offsets[-1][-1])
    return EncodedRows(np.concatenate([p.token_ids for p in parts]), np.concatenate(offsets),
                       np.concatenate([p.first_segment_lengths for p in parts]),
                       np.concatenate([p.labels for p in parts]))

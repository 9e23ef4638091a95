"""Rows to padded batches: input ids, valid length, segment ids and labels."""

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

from neka.transform import EncodedRows


class EncodedDataset(Dataset):
    def __init__(self, rows: EncodedRows):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int, int | float]:
        return self.rows.row(index), int(self.rows.first_segment_lengths[index]), self.rows.labels[index].item()


class Collate:
    """Pads to the longest row of the batch (same logits as padding to max_len, since the
    attention mask hides padding, for less compute), or to `pad_to` like the seed's
    BERTSentenceTransform(pad=True). A class, not a lambda, so DataLoader workers can pickle it."""

    def __init__(self, pad_id: int, pad_to: int | None = None):
        self.pad_id = pad_id
        self.pad_to = pad_to

    def __call__(self, rows: list[tuple[np.ndarray, int, int | float]]) -> dict[str, torch.Tensor]:
        sequences = [torch.from_numpy(ids.astype(np.int64)) for ids, _, _ in rows]
        if self.pad_to is not None:
            sequences.append(torch.empty(self.pad_to, dtype=torch.int64))  # sets the width, removed below
        input_ids = pad_sequence(sequences, batch_first=True, padding_value=self.pad_id)[: len(rows)]
        valid_length = torch.tensor([len(ids) for ids, _, _ in rows])
        first_segment_length = torch.tensor([first for _, first, _ in rows])
        positions = torch.arange(input_ids.shape[1])
        second_segment = (positions >= first_segment_length[:, None]) & (positions < valid_length[:, None])
        return {
            "input_ids": input_ids,
            "valid_length": valid_length,
            "token_type_ids": second_segment.long(),  # padding is segment 0, as gluonnlp pads
            "labels": torch.tensor([label for _, _, label in rows]),  # int64 classes or float32 targets
        }

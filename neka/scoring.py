"""Scoring rows with a trained run: encode them as training did, then class probabilities.

Rows are batched in length order (less padding, same logits: the attention mask hides
padding) and the probabilities are put back in input order.
"""

import numpy as np
import pandas as pd
import torch
from pytorch_lightning import Trainer
from torch.utils.data import DataLoader

from neka.batching import Collate, EncodedDataset
from neka.columns import cells_as_text
from neka.errors import NekaError
from neka.runs import TrainedRun
from neka.transform import EncodedRows, encode_table


def input_columns(run: TrainedRun, frame: pd.DataFrame, file_name: str) -> list[str]:
    columns = run.input_columns
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise NekaError(f"input: {file_name} lacks the training columns {missing}; the run was trained on "
                        f"{columns}, and the file has {list(frame.columns)}")
    return columns


def encode_frame(run: TrainedRun, frame: pd.DataFrame, file_name: str, labels: np.ndarray | None = None) -> EncodedRows:
    fields = [cells_as_text(frame[column]) for column in input_columns(run, frame, file_name)]
    labels = np.zeros(len(frame), dtype=np.int64) if labels is None else labels
    return encode_table(run.tokenizer, fields, labels, run.config.data.max_len, bool(run.config.data.pair))


def predict_outputs(run: TrainedRun, rows: EncodedRows, batch_size: int, accelerator: str = "auto",
                          show_progress: bool = False) -> np.ndarray:
    """(rows, classes) probabilities, or (rows, 1) values for regression, in the order of `rows`."""
    order = np.argsort(rows.valid_lengths, kind="stable")
    loader = DataLoader(EncodedDataset(rows), batch_size=batch_size, sampler=order.tolist(),
                        collate_fn=Collate(run.tokenizer.pad_id))
    trainer = Trainer(accelerator=accelerator, devices=1, logger=False, enable_checkpointing=False,
                      enable_model_summary=False, enable_progress_bar=show_progress)
    batches = trainer.predict(run.model, dataloaders=loader)
    probabilities = torch.cat(batches).numpy() if batches else np.zeros((0, len(run.label_map)), dtype=np.float32)
    in_input_order = np.empty_like(probabilities)
    in_input_order[order] = probabilities
    return in_input_order

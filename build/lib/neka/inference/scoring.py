"""Scoring rows with a trained run: encode them as training did, then class probabilities.

Rows are batched in length order (less padding, same logits: the attention mask hides
padding) and the probabilities are put back in input order.
"""

import importlib.util

import numpy as np
import pandas as pd
import torch
from pytorch_lightning import Trainer
from pytorch_lightning.callbacks import Callback, RichProgressBar
from torch.utils.data import DataLoader

from neka.cli.quiet import device_info_hidden
from neka.data.batching import Collate, EncodedDataset
from neka.data.columns import cells_as_text
from neka.data.transform import EncodedRows, encode_table
from neka.errors import NekaError
from neka.runs.trained import TrainedRun


def input_columns(run: TrainedRun, frame: pd.DataFrame, file_name: str) -> list[str]:
    columns = run.input_columns
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise NekaError(f"input: {file_name} lacks the training columns {missing}; the run was trained on "
                        f"{columns}, and the file has {list(frame.columns)}")
    return columns


def encode_frame(run: TrainedRun, frame: pd.DataFrame, file_name: str, labels: np.ndarray | None = None) -> EncodedRows:
    fields = [cell_texts(frame[column]) for column in input_columns(run, frame, file_name)]
    labels = np.zeros(len(frame), dtype=np.int64) if labels is None else labels
    return encode_table(run.tokenizer, fields, labels, run.config.data.max_len, bool(run.config.data.pair))


def cell_texts(column: pd.Series) -> list[str]:
    """An empty cell is scored as the empty text, as the server scores "", so every row gets an
    answer in its place (training refuses empty cells earlier: neka/data/columns.py handle_missing)."""
    return ["" if is_missing else text for text, is_missing in zip(cells_as_text(column), column.isna())]


def length_sorted_batches(run: TrainedRun, rows: EncodedRows, batch_size: int) -> tuple[DataLoader, np.ndarray]:
    """Batches in length order, and the order that puts their outputs back in input order."""
    order = np.argsort(rows.valid_lengths, kind="stable")
    loader = DataLoader(EncodedDataset(rows), batch_size=batch_size, sampler=order.tolist(),
                        collate_fn=Collate(run.tokenizer.pad_id))
    return loader, order


def in_input_order(batches: list[torch.Tensor], order: np.ndarray, num_outputs: int) -> np.ndarray:
    outputs = torch.cat(batches).numpy() if batches else np.zeros((0, num_outputs), dtype=np.float32)
    in_order = np.empty_like(outputs)
    in_order[order] = outputs
    return in_order


def predict_outputs(run: TrainedRun, rows: EncodedRows, batch_size: int, accelerator: str = "auto",
                          show_progress: bool = False) -> np.ndarray:
    """(rows, classes) probabilities, or (rows, 1) values for regression, in the order of `rows`."""
    loader, order = length_sorted_batches(run, rows, batch_size)
    with device_info_hidden():
        trainer = Trainer(accelerator=accelerator, devices=1, logger=False, enable_checkpointing=False,
                          enable_model_summary=False, enable_progress_bar=show_progress,
                          callbacks=progress_bar_on_stderr() if show_progress else None)
        batches = trainer.predict(run.model, dataloaders=loader)
    return in_input_order(batches, order, len(run.label_map))


def progress_bar_on_stderr() -> list[Callback]:
    """Lightning draws its bars on stdout, which predict keeps for answers (input=-) and a user's
    pipes. Rich's bar takes a console on stderr; without rich (today it comes with transformers,
    through typer), Lightning's TQDM bar stays on stdout."""
    return [RichProgressBar(console_kwargs={"stderr": True})] if importlib.util.find_spec("rich") else []


@torch.inference_mode()
def predict_outputs_without_trainer(run: TrainedRun, rows: EncodedRows, batch_size: int) -> np.ndarray:
    """What `predict_outputs` returns, from the same batches and the same `predict_step`, on the
    model's own device. For a server: a Trainer costs about 6 ms per call on 2 CPU cores (5x a
    one-row forward pass of the tiny model), and it attaches itself to the model, so two
    requests could not share one."""
    loader, order = length_sorted_batches(run, rows, batch_size)
    device = run.model.device
    batches = [run.model.predict_step({name: tensor.to(device) for name, tensor in batch.items()}, index).cpu()
               for index, batch in enumerate(loader)]
    return in_input_order(batches, order, len(run.label_map))


def answer_rows(run: TrainedRun, rows: list[list[str]], outputs: np.ndarray) -> list[dict]:
    """One JSON-ready answer per row, for `predict input=-` and the server alike: the label, its
    probability and every class's (rounded to 6 places), or the value for regression."""
    names = run.label_names
    answers = []
    for row, scores in zip(rows, outputs):
        answer = {"text": row[0] if len(row) == 1 else row}
        if run.is_regression:
            answer["value"] = round(float(scores[0]), 6)
        else:
            best = int(scores.argmax())
            answer["label"] = names[best]
            answer["probability"] = round(float(scores[best]), 6)
            answer["probabilities"] = {name: round(float(p), 6) for name, p in zip(names, scores)}
        answers.append(answer)
    return answers

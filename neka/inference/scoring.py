"""Scoring rows with a trained run, for evaluate, predict and serve: encode them as training
did, then class probabilities (or values), put back in input order."""

import sys

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from neka.data.batching import Collate, length_sorted_loader
from neka.data.columns import cells_as_text
from neka.data.transform import EncodedRows, encode_table
from neka.errors import NekaError
from neka.inference.onnx_backend import OnnxRun, onnx_outputs
from neka.model.classifier import NekaClassifier
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
    return encode_table(run.tokenizer, fields, labels, run.config.data.max_len, bool(run.config.data.pair),
                        run.truncation)


def cell_texts(column: pd.Series) -> list[str]:
    """An empty cell is scored as the empty text, as the server scores "", so every row gets an
    answer in its place (training refuses empty cells earlier: neka/data/columns.py handle_missing)."""
    return ["" if is_missing else text for text, is_missing in zip(cells_as_text(column), column.isna())]


def inference_device(accelerator: str) -> torch.device:
    """The device `Trainer(accelerator=..., devices=1)` would take: with auto, Apple's GPU, else
    a CUDA GPU (Lightning's order), else the CPU; a device asked for by name must be visible."""
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    chosen = {"auto": "mps" if available["mps"] else "cuda" if available["cuda"] else "cpu",
              "gpu": "mps" if available["mps"] else "cuda"}.get(accelerator, accelerator)
    if chosen not in available:
        raise NekaError(f"accelerator: unknown device {accelerator!r}; use auto, cpu, gpu, cuda or mps")
    if not available[chosen]:
        raise NekaError(f"accelerator={accelerator}: no {chosen} device is visible here; use accelerator=cpu or auto")
    return torch.device(chosen)


@torch.inference_mode()
def predict_outputs(run: TrainedRun, rows: EncodedRows, batch_size: int, accelerator: str = "auto",
                    show_progress: bool = False) -> np.ndarray:
    """(rows, classes) probabilities, or (rows, 1) values for regression, in the order of `rows`:
    `predict_step` over length-sorted batches, in a plain loop, for evaluate, predict and serve
    alike. Not `Trainer.predict`: a Trainer costs about 6 ms per call on 2 CPU cores (5x a
    one-row forward pass of the tiny model), too much per server request, and it attaches itself
    to the model, so two requests could not share one; it would add nothing here that a loop
    lacks (evaluation runs in float32 either way: predict_step sees to it). The bar is on stderr:
    stdout is predict's answers (input=-) and a user's pipes. An exported run (backend=onnx) is
    scored by ONNX Runtime on the CPU, in the same batches."""
    if isinstance(run, OnnxRun):
        return onnx_outputs(run, rows, batch_size, show_progress)
    return model_outputs(run.model, rows, run.tokenizer.pad_id, batch_size, inference_device(accelerator),
                         show_progress)


@torch.inference_mode()
def model_outputs(model: NekaClassifier, rows: EncodedRows, pad_id: int, batch_size: int, device: torch.device,
                  show_progress: bool = False) -> np.ndarray:
    """`predict_outputs` for a model that is not yet a run folder's: train's threshold tuning."""
    loader, order = length_sorted_loader(rows, batch_size, collate_fn=Collate(pad_id))
    model = model.to(device).eval()
    batches = [model.predict_step({name: tensor.to(device) for name, tensor in batch.items()}, index).cpu()
               for index, batch in enumerate(tqdm(loader, desc="scoring", unit="batch", disable=not show_progress,
                                                  file=sys.stderr, leave=False))]
    outputs = torch.cat(batches).numpy() if batches else np.zeros((0, model.hparams.num_labels), dtype=np.float32)
    in_order = np.empty_like(outputs)
    in_order[order] = outputs
    return in_order


def answer_rows(run: TrainedRun, rows: list[list[str]], outputs: np.ndarray) -> list[dict]:
    """One JSON-ready answer per row, for `predict input=-` and the server alike: the label, its
    probability and every class's (rounded to 6 places); for multi-label runs the labels that
    reach their thresholds and every label's probability; or the value for regression."""
    names = run.label_names
    label_sets = run.predicted_labels(outputs) if run.is_multilabel else None
    answers = []
    for index, (row, scores) in enumerate(zip(rows, outputs)):
        answer = {"text": row[0] if len(row) == 1 else row}
        if run.is_regression:
            answer["value"] = round(float(scores[0]), 6)
            answers.append(answer)
            continue
        if label_sets is not None:
            answer["labels"] = label_sets[index]
        else:
            best = int(scores.argmax())
            answer["label"] = names[best]
            answer["probability"] = round(float(scores[best]), 6)
        answer["probabilities"] = {name: round(float(p), 6) for name, p in zip(names, scores)}
        answers.append(answer)
    return answers

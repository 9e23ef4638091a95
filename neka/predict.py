"""`python -m neka.predict`: the predicted label and one probability per class for every row.

A table in, the same table out (same format, same rows in the same order) with
`predicted_label` and `prob_<label>` columns (multi-label runs: `predicted_labels`, the labels
that reach their thresholds joined with the run's separator, empty for none); or, with
`input=-`, one row per line on stdin (fields separated by tabs for pair and table runs) and JSON
lines on stdout.
"""

import dataclasses
import json
import sys
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.crossval.ensemble import ensemble_outputs, open_runs
from neka.data.tables import SEPARATORS, TextLayout, check_table_file, check_writable, text_layout, write_table
from neka.errors import NekaError
from neka.inference.scoring import answer_rows
from neka.runs.trained import TrainedRun


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="predict")
def main(cfg: DictConfig) -> None:
    with user_errors():
        run_dir = cfg.run_dir  # a missing run_dir is named before any file is looked at
        if cfg.input == "-":
            runs = open_runs(run_dir, cfg.ckpt, cfg.trust_checkpoint, cfg.backend)
            predict_stream(runs, sys.stdin, sys.stdout, cfg.batch_size, cfg.accelerator)
            return
        path = check_table_file(cfg.input, "input")
        output = Path(cfg.output) if cfg.output else default_output(path)
        check_output(path, output, cfg.overwrite)  # before the run is opened and rows are scored
        runs = open_runs(run_dir, cfg.ckpt, cfg.trust_checkpoint, cfg.backend)  # a cross-validation: its folds
        predict_file(runs, path, output, cfg.batch_size, cfg.accelerator, cfg.data.encoding, cfg.data.sep,
                     cfg.data.has_header)
        print(f"wrote {output}", file=sys.stderr)


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


def check_output(path: Path, output: Path, overwrite: bool) -> None:
    """Everything about the output that can be told before any work: a file predict can write,
    never its input, and no earlier file replaced unless asked."""
    check_writable(output, "output")
    if output.resolve() == path.resolve():
        raise NekaError(f"output: {output} is the input file; predict never replaces its input, so choose "
                        f"another output")
    if output.exists() and not overwrite:
        raise NekaError(f"output: {output} exists; choose another output or set overwrite=true to replace it")


def output_layout(path: Path, output: Path, reading: dict) -> TextLayout | None:
    """A delimited output keeps the delimited input's encoding, byte-order mark and line endings,
    and its separator when both have the same extension (else the output extension's)."""
    if path.suffix.lower() not in SEPARATORS or output.suffix.lower() not in SEPARATORS:
        return None
    layout = text_layout(path, **reading)
    if output.suffix.lower() != path.suffix.lower():
        layout = dataclasses.replace(layout, sep=SEPARATORS[output.suffix.lower()])
    return layout


def add_predictions(run: TrainedRun, frame: pd.DataFrame, outputs: np.ndarray) -> pd.DataFrame:
    """`outputs` are class probabilities, each label's probability (multi-label), or for
    regression one column of values."""
    names = run.label_names
    if run.is_regression:
        columns = {"predicted_value": outputs[:, 0]}
    else:
        columns = ({"predicted_labels": [run.label_sep.join(labels) for labels in run.predicted_labels(outputs)]}
                   if run.is_multilabel else {"predicted_label": [names[i] for i in outputs.argmax(axis=1)]})
        columns.update({f"prob_{name}": outputs[:, index] for index, name in enumerate(names)})
    clash = sorted(set(columns) & set(frame.columns))
    if clash:
        raise NekaError(f"input: the table already has columns {clash}; rename them before predicting")
    return frame.assign(**columns)


def predict_file(runs: list[TrainedRun], path: Path, output: Path, batch_size: int, accelerator: str,
                 encoding: str | None = None, sep: str | None = None, has_header: bool | None = None) -> None:
    """`encoding`, `sep`, `has_header`: how the input is read, None meaning as the training table was.
    Several runs (the folds of a cross-validation) give the mean of their probabilities."""
    run = runs[0]
    frame = run.read_table(path, "input", encoding, sep, has_header)
    outputs = ensemble_outputs(runs, frame, path.name, batch_size, accelerator, show_progress=True, log_lengths=True)
    layout = output_layout(path, output, run.table_options(encoding, sep, has_header))
    write_table(add_predictions(run, frame, outputs), output, "output", layout)


def predict_stream(runs: list[TrainedRun], lines, out, batch_size: int, accelerator: str) -> None:
    """One answer per line, blank lines included (the empty text), so answers line up with lines."""
    run = runs[0]
    columns = run.input_columns
    rows = [line.rstrip("\r\n").split("\t", len(columns) - 1) for line in lines]
    short = next((i for i, row in enumerate(rows) if len(row) != len(columns)), None)
    if short is not None:
        raise NekaError(f"input=-: line {short + 1} has {len(rows[short])} tab-separated fields; this run reads "
                        f"{len(columns)} ({columns})")
    frame = pd.DataFrame(rows, columns=columns)
    outputs = ensemble_outputs(runs, frame, "stdin", batch_size, accelerator)  # a pipe: stderr stays quiet
    for answer in answer_rows(run, rows, outputs):
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()


def command() -> None:
    """`python -m neka.predict` and the console script `neka-predict`."""
    run_command(main, "predict")


if __name__ == "__main__":
    command()

"""`python -m neka.predict`: the predicted label and one probability per class for every row.

A table in, the same table out (same format, same rows in the same order) with
`predicted_label` and `prob_<label>` columns; or, with `input=-`, one row per line on stdin
(fields separated by tabs for pair and table runs) and JSON lines on stdout.
"""

import json
import sys
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from neka.cli import run_command, user_errors
from neka.errors import NekaError
from neka.runs import TrainedRun, open_run
from neka.scoring import answer_rows, encode_frame, predict_outputs
from neka.tables import write_table


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    with user_errors():
        run = open_run(cfg.run_dir, cfg.ckpt, cfg.trust_checkpoint)
        if cfg.input == "-":
            predict_stream(run, sys.stdin, sys.stdout, cfg.batch_size, cfg.accelerator)
        else:
            output = Path(cfg.output) if cfg.output else default_output(Path(cfg.input))
            predict_file(run, Path(cfg.input), output, cfg.batch_size, cfg.accelerator)
            print(f"wrote {output}", file=sys.stderr)


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.predictions{path.suffix}")


def add_predictions(run: TrainedRun, frame: pd.DataFrame, outputs: np.ndarray) -> pd.DataFrame:
    """`outputs` are class probabilities, or for regression one column of values."""
    names = run.label_names
    if run.is_regression:
        columns = {"predicted_value": outputs[:, 0]}
    else:
        columns = {"predicted_label": [names[i] for i in outputs.argmax(axis=1)]}
        columns.update({f"prob_{name}": outputs[:, index] for index, name in enumerate(names)})
    clash = sorted(set(columns) & set(frame.columns))
    if clash:
        raise NekaError(f"input: the table already has columns {clash}; rename them before predicting")
    return frame.assign(**columns)


def predict_file(run: TrainedRun, path: Path, output: Path, batch_size: int, accelerator: str) -> None:
    frame = run.read_table(path, "input")  # and written back with the training table's separator
    outputs = predict_outputs(run, encode_frame(run, frame, path.name), batch_size, accelerator, show_progress=True)
    write_table(add_predictions(run, frame, outputs), output, "output", run.config.data.get("sep"))


def predict_stream(run: TrainedRun, lines, out, batch_size: int, accelerator: str) -> None:
    columns = run.input_columns
    rows = [line.rstrip("\n").split("\t", len(columns) - 1) for line in lines if line.strip()]
    short = next((i for i, row in enumerate(rows) if len(row) != len(columns)), None)
    if short is not None:
        raise NekaError(f"input=-: line {short + 1} has {len(rows[short])} tab-separated fields; this run reads "
                        f"{len(columns)} ({columns})")
    frame = pd.DataFrame(rows, columns=columns)
    outputs = predict_outputs(run, encode_frame(run, frame, "stdin"), batch_size, accelerator)
    for answer in answer_rows(run, rows, outputs):
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()


if __name__ == "__main__":
    run_command(main, "predict")

"""`python -m neka.evaluate`: score a run's checkpoint on its own test split or a new file.

Writes into `<run>/eval/` (a new file's results into `<run>/eval/<file stem>/`):
metrics.json, report.csv (per class), confusion_matrix.png; the figure also goes to the
run's TensorBoard.
"""

from pathlib import Path

import hydra
import matplotlib.pyplot as plt
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.tensorboard import SummaryWriter

from neka.cli import run_command, user_errors
from neka.errors import NekaError
from neka.labels import check_known_labels, encode_labels, label_names, regression_targets
from neka.reports import (
    classification_metrics,
    confusion_figure,
    per_class_report,
    regression_metrics,
    save_png_atomic,
)
from neka.run_files import write_json_atomic
from neka.runs import TrainedRun, open_run
from neka.scoring import encode_frame, predict_outputs
from neka.tables import write_table
from neka.transform import EncodedRows


@hydra.main(version_base="1.3", config_path="../conf", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    with user_errors():
        run = open_run(cfg.run_dir, cfg.ckpt, cfg.trust_checkpoint)
        if cfg.data.path:
            rows, split = rows_of_file(run, Path(cfg.data.path)), "eval"
            out_dir = run.run_dir / "eval" / Path(cfg.data.path).stem
        else:
            rows, split = rows_of_test_split(run), "test"
            out_dir = run.run_dir / "eval"
        metrics = evaluate(run, rows, split, out_dir, cfg.batch_size, cfg.accelerator)
        print("\n".join(f"{name:<16}{value:.4f}" for name, value in metrics.items()), flush=True)
        print(f"wrote {out_dir}", flush=True)


def rows_of_test_split(run: TrainedRun) -> EncodedRows:
    """The run's own test rows: its data config and seed split the table again the same way."""
    data = instantiate(run.config.data, tokenizer_factory=lambda train_texts: run.tokenizer,
                       label_map=run.label_map, task=run.inputs["task"], _convert_="all")
    data.setup("test")
    return data.encoded["test"]


def rows_of_file(run: TrainedRun, path: Path) -> EncodedRows:
    frame = run.read_table(path, "data.path")
    label_column = run.inputs["label_column"]
    if label_column not in frame.columns:
        raise NekaError(f"data.path: {path.name} has no label column {label_column!r}; evaluation needs labels "
                        f"(python -m neka.predict scores unlabelled rows)")
    if run.is_regression:
        return encode_frame(run, frame, path.name, regression_targets(frame[label_column], path.name))
    names = label_names(frame[label_column])
    check_known_labels(names, run.label_map, path.name)
    return encode_frame(run, frame, path.name, encode_labels(names, run.label_map))


def evaluate(run: TrainedRun, rows: EncodedRows, split: str, out_dir: Path, batch_size: int,
             accelerator: str) -> dict[str, float]:
    """metrics.json always; for classes also report.csv and the confusion matrix."""
    outputs = predict_outputs(run, rows, batch_size, accelerator, show_progress=True)
    labels, names = rows.labels, run.label_names
    if run.is_regression:
        metrics = regression_metrics(outputs, labels, split)
    else:
        metrics = classification_metrics(outputs, labels, split)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / "metrics.json", {**metrics, f"{split}_rows": len(labels),
                                                 "checkpoint": str(run.checkpoint)})
    if run.is_regression:
        return metrics
    write_table(per_class_report(outputs, labels, names), out_dir / "report.csv", "eval")
    figure = confusion_figure(outputs, labels, names)
    save_png_atomic(figure, out_dir / "confusion_matrix.png")
    with SummaryWriter(str(run.run_dir / "tb")) as writer:
        writer.add_figure(f"{split}/confusion_matrix", figure)
    plt.close(figure)
    return metrics


if __name__ == "__main__":
    run_command(main, "evaluate")

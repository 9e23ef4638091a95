"""How far an exported graph is from the PyTorch model it came from, on the run's own test rows:
written to parity.json at export, so the folder carries its proof that only the speed changed.

Float32 ONNX should differ from PyTorch by rounding alone (under 1e-4 in probability); beyond
1e-3 the graph is wrong (a traced constant, a missed branch) and the export is refused. int8
weights move probabilities further, so for them the test metrics and their change are what count.
"""

import logging

import numpy as np

from neka.data.split_record import check_unchanged, load_recorded_split
from neka.data.transform import EncodedRows
from neka.model.metrics import metrics_of_outputs
from neka.runs.trained import TrainedRun

log = logging.getLogger(__name__)

MAX_ROWS = 1000  # parity is a check, not an evaluation: the first 1,000 test rows are enough
FLOAT32_LIMIT = 1e-3  # a larger difference means a wrong graph, not rounding


def parity_rows(run: TrainedRun) -> tuple[EncodedRows, str]:
    """The run's recorded test rows (as evaluate reads them), at most MAX_ROWS, and where they came from."""
    from neka.evaluate import rows_of_recorded_split, rows_of_test_split  # the one place test rows are read

    recorded = load_recorded_split(run.run_dir, "test")
    if recorded:
        check_unchanged(recorded, "test")
        rows, source = rows_of_recorded_split(run, recorded), str(recorded.path)
    else:
        rows, source = rows_of_test_split(run), "the test split of the run's data config"
    return rows.first(MAX_ROWS), source


def decisions(run: TrainedRun, outputs: np.ndarray) -> np.ndarray | None:
    """What a row is labelled: its class, or its set of labels at the run's thresholds; None for regression."""
    if run.is_regression:
        return None
    return outputs >= run.thresholds if run.is_multilabel else outputs.argmax(axis=1)


def compare(run: TrainedRun, reference: np.ndarray, outputs: np.ndarray, labels: np.ndarray) -> dict:
    """The largest difference from `reference`, the share of rows labelled alike, and the test metrics."""
    ours, theirs = decisions(run, outputs), decisions(run, reference)
    agreement = None if ours is None else float(np.mean(np.all((ours == theirs).reshape(len(ours), -1), axis=1)))
    return {"max_abs_diff": float(np.max(np.abs(outputs - reference), initial=0.0)), "label_agreement": agreement,
            "metrics": test_metrics(run, outputs, labels)}


def test_metrics(run: TrainedRun, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    thresholds = run.thresholds if run.is_multilabel else None
    return metrics_of_outputs(outputs, labels, "test", run.task, thresholds, run.label_names)


def metric_change(int8: dict[str, float], float32: dict[str, float]) -> dict[str, float]:
    """int8 minus float32, per metric (accuracy in points of 1.0: -0.004 is 0.4 points lost)."""
    return {name: round(int8[name] - float32[name], 6) for name in float32 if name in int8}

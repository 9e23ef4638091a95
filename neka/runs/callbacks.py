"""Lightning callbacks from `callbacks.*`: checkpoints (best, last, and every N steps to resume
from), the learning rate in TensorBoard, and the per-epoch history.csv / curves.png."""

from pathlib import Path

from pytorch_lightning.callbacks import Callback, LearningRateMonitor, ModelCheckpoint

from neka.runs.checkpoint_names import BEST_CHECKPOINT_NAME
from neka.runs.history import EpochHistory
from neka.runs.resume import RandomState

LOWER_IS_BETTER = ("ce", "bce", "mse", "mae", "loss", "hamming")
DEFAULT_MONITORS = {"regression": "val/mse", "multilabel": "val/f1_micro", "classification": "val/acc"}


def default_monitor(task: str) -> str:
    """What checkpoints and sweeps compare unless `monitor` names another metric."""
    return DEFAULT_MONITORS[task]


def build_callbacks(run_dir: Path, monitor: str, task: str, checkpoint: dict,
                    log_learning_rate: bool = True) -> list[Callback]:
    """Checkpoints keep the best `monitor` value (the highest accuracy or R², the lowest loss)
    after each validation. Step checkpoints are a second ModelCheckpoint: Lightning lets one
    callback save by epoch or by step, not both, and the best must be judged per epoch."""
    mode = "min" if monitor.rsplit("/", 1)[-1] in LOWER_IS_BETTER else "max"
    every_n_train_steps = checkpoint.pop("every_n_train_steps", None)
    save_last = checkpoint.pop("save_last", True)
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=run_dir / "checkpoints", monitor=monitor, mode=mode,
                        # metric names hold "/", which would become folders in a file name
                        filename=BEST_CHECKPOINT_NAME, auto_insert_metric_name=False, **checkpoint),
    ]
    if save_last:
        # A callback of its own: Lightning 2.6 rewrites a monitoring callback's last.ckpt only in
        # epochs whose monitor value improved, so last.ckpt would not be the newest epoch.
        callbacks.append(ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="last", save_top_k=1,
                                         enable_version_counter=False))
    if every_n_train_steps:  # only the newest is kept
        callbacks.append(ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="step{step}", save_top_k=1,
                                         auto_insert_metric_name=False, every_n_train_steps=every_n_train_steps))
    callbacks.append(RandomState())
    if log_learning_rate:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    callbacks.append(EpochHistory(run_dir, task))
    return callbacks

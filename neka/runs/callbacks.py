"""Lightning callbacks from `callbacks.*`: checkpoints (best, last, and every N steps to resume
from), early stopping, the learning rate in TensorBoard, and the per-epoch history.csv / curves.png."""

from pathlib import Path

from pytorch_lightning import Trainer
from pytorch_lightning.callbacks import Callback, EarlyStopping, LearningRateMonitor, ModelCheckpoint

from neka.runs.checkpoint_names import BEST_CHECKPOINT_NAME
from neka.runs.history import EpochHistory
from neka.runs.resume import RandomState

LOWER_IS_BETTER = ("ce", "bce", "mse", "mae", "loss", "hamming")
DEFAULT_MONITORS = {"regression": "val/mse", "multilabel": "val/f1_micro", "classification": "val/acc"}


def default_monitor(task: str) -> str:
    """What checkpoints and sweeps compare unless `monitor` names another metric."""
    return DEFAULT_MONITORS[task]


def build_callbacks(run_dir: Path, monitor: str, task: str, checkpoint: dict,
                    log_learning_rate: bool = True, early_stopping: dict | None = None) -> list[Callback]:
    """Checkpoints keep the best `monitor` value (the highest accuracy or R², the lowest loss)
    after each validation. Step checkpoints are a second ModelCheckpoint: Lightning lets one
    callback save by epoch or by step, not both, and the best must be judged per epoch.
    `early_stopping` (patience, min_delta) stops when `monitor` has not improved for `patience`
    validations; Lightning keeps its count in checkpoints, so a resumed run stops where it would have."""
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
    if early_stopping is not None:
        callbacks.append(EarlyStopping(monitor=monitor, mode=mode, **early_stopping))
    callbacks.append(RandomState())
    if log_learning_rate:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    callbacks.append(EpochHistory(run_dir, task))
    return callbacks


def early_stop_reason(trainer: Trainer) -> str | None:
    """Why fitting ended before trainer.max_epochs, for the log and the summary; None if it did not."""
    stopper = trainer.early_stopping_callback
    if stopper is None or not stopper.stopped_epoch or stopper.stopped_epoch + 1 >= trainer.max_epochs:
        return None
    return (f"early stopping: {stopper.monitor} did not improve by more than {stopper.min_delta:g} for "
            f"{stopper.patience} epoch(s) (best {float(stopper.best_score):.4f}); stopped after epoch "
            f"{stopper.stopped_epoch + 1} of {trainer.max_epochs} (callbacks.early_stopping.patience, or "
            f"callbacks.early_stopping=null to train every epoch)")

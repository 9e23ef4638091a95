"""Lightning callbacks from `callbacks.*`: checkpoints (best and last), the learning rate in
TensorBoard, and the per-epoch history.csv / curves.png."""

from pathlib import Path

from pytorch_lightning.callbacks import Callback, LearningRateMonitor, ModelCheckpoint

from neka.history import EpochHistory

LOWER_IS_BETTER = ("ce", "mse", "mae", "loss")


def build_callbacks(run_dir: Path, monitor: str, checkpoint: dict, log_learning_rate: bool = True) -> list[Callback]:
    """Checkpoints keep the best `monitor` value: the highest accuracy or R², the lowest loss."""
    mode = "min" if monitor.rsplit("/", 1)[-1] in LOWER_IS_BETTER else "max"
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=run_dir / "checkpoints", monitor=monitor, mode=mode,
                        # metric names hold "/", which would become folders in a file name
                        filename="best-epoch{epoch}-step{step}", auto_insert_metric_name=False, **checkpoint),
    ]
    if log_learning_rate:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    callbacks.append(EpochHistory(run_dir))
    return callbacks

"""Lightning callbacks from `callbacks.*`: checkpoints (best and last), the learning rate in
TensorBoard, and the per-epoch history.csv / curves.png."""

from pathlib import Path

from pytorch_lightning.callbacks import Callback, LearningRateMonitor, ModelCheckpoint

from neka.history import EpochHistory


def build_callbacks(run_dir: Path, checkpoint: dict, log_learning_rate: bool = True) -> list[Callback]:
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=run_dir / "checkpoints",
                        # metric names hold "/", which would become folders in a file name
                        filename="best-epoch{epoch}-step{step}", auto_insert_metric_name=False, **checkpoint),
    ]
    if log_learning_rate:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    callbacks.append(EpochHistory(run_dir))
    return callbacks

"""Lightning callbacks from `callbacks.*`: checkpoints (best and last) and the learning rate in TensorBoard."""

from pathlib import Path

from pytorch_lightning.callbacks import Callback, LearningRateMonitor, ModelCheckpoint


def build_callbacks(run_dir: Path, checkpoint: dict, log_learning_rate: bool = True) -> list[Callback]:
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=run_dir / "checkpoints",
                        # metric names hold "/", which would become folders in a file name
                        filename="best-epoch{epoch}-step{step}", auto_insert_metric_name=False, **checkpoint),
    ]
    if log_learning_rate:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    return callbacks

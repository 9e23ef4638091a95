"""The per-step training loss, logged only on the steps Lightning writes to the logger.

`train/loss` is logged every `trainer.log_every_n_steps` (50, the KoBERT notebook's log_interval),
with the same tag at the same steps as before. A `self.log` call costs about 1 ms of host work
(RESULTS.md, table R). The progress bar shows the loss of the last logged step. Lightning would
otherwise read every step's loss to the host for the bar, and on a GPU that read waits for the
step to finish (neka/bench/step_syncs.py).
"""

import pytorch_lightning as pl
import torch

STEP_LOSS = "train/loss"


def is_logged_step(trainer: pl.Trainer) -> bool:
    """Lightning's own rule for the steps it writes to the logger: every log_every_n_steps-th optimizer
    step, and the step at which training is told to stop. It holds the same from `on_train_batch_start`
    to `on_train_batch_end`, since the step count moves on only after the batch ends."""
    return trainer._logger_connector.should_update_logs


def log_step_loss(module: pl.LightningModule, loss: torch.Tensor) -> None:
    """`train/loss` at the steps the logger writes, the mean over DDP ranks. It stays off the progress
    bar's Lightning path, which would convert it to a number at every step."""
    if is_logged_step(module.trainer):
        module.log(STEP_LOSS, loss, on_step=True, on_epoch=False, prog_bar=False, sync_dist=True)


class LoggedLossOnBar:
    """A progress bar mixin: shows the loss of the last logged step, read to the host on that step only."""

    _shown_loss: float | None = None

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict:
        metrics = super().get_metrics(trainer, pl_module)
        if trainer.training and is_logged_step(trainer) and STEP_LOSS in trainer.callback_metrics:
            self._shown_loss = float(trainer.callback_metrics[STEP_LOSS])
        if self._shown_loss is not None:
            metrics[STEP_LOSS] = self._shown_loss
        return metrics

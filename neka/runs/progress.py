"""The training progress bar, counting epochs as people do: "Epoch 2/2" in the second of two.

Lightning names an epoch by its index from 0 ("Epoch 1/1" in the second of two with rich,
"Epoch 1" with tqdm), while curves.png and the summary count from 1. The bar stays the one
Lightning would choose: rich's where rich is installed (one line per bar in a log file), else tqdm's.
Its loss is the last logged step's (neka/model/step_logging.py).
"""

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ProgressBar, RichProgressBar, TQDMProgressBar
from pytorch_lightning.utilities.imports import _RICH_AVAILABLE

from neka.model.step_logging import LoggedLossOnBar


def epoch_description(current_epoch: int, max_epochs: int | None) -> str:
    return f"Epoch {current_epoch + 1}" + (f"/{max_epochs}" if max_epochs and max_epochs > 0 else "")


class RichEpochProgressBar(LoggedLossOnBar, RichProgressBar):
    def _get_train_description(self, current_epoch: int) -> str:
        """Lightning's own hook for the label (2.0 to 2.6), padded as it pads it, to the
        validation bar's label, so the two do not flicker."""
        description = epoch_description(current_epoch, self.trainer.max_epochs)
        return f"{description:{len(self.validation_description)}}"


class TqdmEpochProgressBar(LoggedLossOnBar, TQDMProgressBar):
    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(epoch_description(trainer.current_epoch, trainer.max_epochs))


def epoch_progress_bar() -> ProgressBar:
    return RichEpochProgressBar() if _RICH_AVAILABLE else TqdmEpochProgressBar()

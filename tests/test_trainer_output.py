"""What Lightning shows while neka trains: the epoch bar counts from 1, and the warnings no neka
user can act on stay out. A real Trainer fits Lightning's own small demo model: these are
Lightning's behaviours, whatever model trains."""

import warnings

import pytest
from pytorch_lightning import Callback, Trainer
from pytorch_lightning.demos.boring_classes import BoringModel
from pytorch_lightning.loggers import TensorBoardLogger

from neka.cli.quiet import quiet_lightning
from neka.runs.progress import RichEpochProgressBar, TqdmEpochProgressBar


class TrainDescriptions(Callback):
    def __init__(self):
        self.seen: list[str] = []

    def on_train_epoch_end(self, trainer, pl_module):
        bar = trainer.progress_bar_callback.train_progress_bar  # a rich Task or a tqdm bar
        self.seen.append((bar.desc if hasattr(bar, "desc") else bar.description).rstrip(": "))


@pytest.mark.parametrize("bar", [RichEpochProgressBar, TqdmEpochProgressBar])
def test_epoch_bar_counts_from_one_and_lightning_warnings_stay_out(bar, tmp_path):
    descriptions = TrainDescriptions()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_lightning()  # neka's filters, in front of "always"
        trainer = Trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=1, accelerator="cpu",
                          precision="bf16-mixed", log_every_n_steps=50, logger=TensorBoardLogger(tmp_path),
                          callbacks=[bar(), descriptions], enable_checkpointing=False, default_root_dir=tmp_path)
        trainer.fit(BoringModel())
    assert descriptions.seen == ["Epoch 1/2", "Epoch 2/2"]
    messages = [str(warning.message) for warning in caught]
    assert not [m for m in messages if "model summary" in m or "logging interval" in m], messages

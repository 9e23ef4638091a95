"""The seed's train_history / loss_history per epoch, as history.csv and curves.png in the run
folder, beside TensorBoard."""

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytorch_lightning as pl  # noqa: E402
from pytorch_lightning.callbacks import Callback  # noqa: E402

from neka.atomic import atomic_path  # noqa: E402

COLUMNS = {"train/acc": "train_acc", "train/ce": "train_loss", "val/acc": "val_acc", "val/ce": "val_loss"}


class EpochHistory(Callback):
    """Reads an epoch's metrics when the next epoch starts (or fit ends): only then has
    Lightning aggregated the training epoch's values."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.rows: list[dict[str, float]] = []

    def _record(self, trainer: pl.Trainer, epoch: int) -> None:
        metrics = trainer.callback_metrics
        if epoch < 0 or "val/acc" not in metrics:
            return
        row = {"epoch": epoch, "step": trainer.global_step}
        row.update({name: float(metrics[key]) for key, name in COLUMNS.items() if key in metrics})
        row["lr"] = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else float("nan")
        self.rows.append(row)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1 if trainer.current_epoch == trainer.max_epochs
                     else trainer.current_epoch)
        if not self.rows or trainer.sanity_checking:
            return
        history = pd.DataFrame(self.rows).drop_duplicates("epoch", keep="last")
        with atomic_path(self.run_dir / "history.csv") as temporary:
            history.to_csv(temporary, index=False)
        with atomic_path(self.run_dir / "curves.png") as temporary:
            plot_curves(history).savefig(temporary, dpi=110, format="png")
        plt.close("all")


def plot_curves(history: pd.DataFrame):
    figure, (accuracy, loss) = plt.subplots(1, 2, figsize=(9, 3.5))
    for column, axes in (("acc", accuracy), ("loss", loss)):
        for split in ("train", "val"):
            if f"{split}_{column}" in history:
                axes.plot(history["epoch"], history[f"{split}_{column}"], marker="o", label=split)
        axes.set_xlabel("epoch")
        axes.set_title("accuracy" if column == "acc" else "cross-entropy")
        axes.legend()
    figure.tight_layout()
    return figure

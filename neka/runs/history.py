"""The KoBERT notebook's train_history / loss_history per epoch, as history.csv and curves.png in the run
folder, beside TensorBoard."""

import matplotlib.pyplot as plt
import pandas as pd
import pytorch_lightning as pl
from matplotlib.ticker import MaxNLocator
from pytorch_lightning.callbacks import Callback

from neka.atomic import atomic_path
from neka.inference.reports import save_png_atomic  # importing reports also selects matplotlib's file-only backend
from neka.runs.checkpoint_names import best_epoch_and_step

COLUMNS = {"train/acc": "train_acc", "train/ce": "train_loss", "val/acc": "val_acc", "val/ce": "val_loss",
           "train/mse": "train_mse", "val/mse": "val_mse", "val/r2": "val_r2",  # classes or regression
           "train/f1_micro": "train_f1_micro", "val/f1_micro": "val_f1_micro",  # multi-label
           "train/bce": "train_loss", "val/bce": "val_loss",
           "train/mlm_acc": "train_mlm_acc", "val/mlm_acc": "val_mlm_acc", "val/loss": "val_loss"}  # pretraining
VALIDATION_METRIC = {"regression": "val/mse", "multilabel": "val/bce", "classification": "val/mse", "mlm": "val/loss"}
PANELS = {"regression": (("r2", "R²"), ("mse", "mean squared error")),
          "multilabel": (("f1_micro", "micro-F1"), ("loss", "binary cross-entropy")),
          "classification": (("acc", "accuracy"), ("loss", "cross-entropy")),
          "mlm": (("mlm_acc", "masked-token accuracy"), ("loss", "masked-token cross-entropy"))}


class EpochHistory(Callback):
    """Reads an epoch's metrics when the next epoch starts (or fit ends): only then has
    Lightning aggregated the training epoch's values."""

    def __init__(self, run_dir, task: str):
        self.run_dir = run_dir
        self.task = task
        self.rows: list[dict[str, float]] = []
        self.validated_epoch: int | None = None  # the newest epoch whose validation ran

    def state_dict(self) -> dict:
        """Saved in checkpoints, so a resumed run's history.csv still has its earlier epochs."""
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = list(state_dict["rows"])

    def _record(self, trainer: pl.Trainer, epoch: int) -> None:
        metrics = trainer.callback_metrics
        if epoch < 0 or VALIDATION_METRIC[self.task] not in metrics:
            return
        row = {"epoch": epoch, "step": trainer.global_step}
        row.update({name: float(metrics[key]) for key, name in COLUMNS.items()
                    if key in metrics and (self.task == "regression" or not name.endswith(("_mse", "_r2")))})
        row["lr"] = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else float("nan")
        self.rows.append(row)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.validated_epoch = trainer.current_epoch

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The last epoch's row: the epoch validated last (training may have stopped early, after
        Lightning counted the epoch done)."""
        self._record(trainer, self.validated_epoch if self.validated_epoch is not None
                     else trainer.current_epoch - 1 if trainer.current_epoch == trainer.max_epochs
                     else trainer.current_epoch)
        if not self.rows or trainer.sanity_checking or not trainer.is_global_zero:  # one writer under DDP
            return
        history = pd.DataFrame(self.rows).drop_duplicates("epoch", keep="last")
        with atomic_path(self.run_dir / "history.csv") as temporary:
            history.to_csv(temporary, index=False)
        best = best_epoch_and_step(trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else None)
        figure = plot_curves(history, best[0] if best else None, self.task)
        save_png_atomic(figure, self.run_dir / "curves.png", dpi=110)
        plt.close("all")


def plot_curves(history: pd.DataFrame, best_epoch: int | None = None, task: str = "classification"):
    """Epochs counted from 1 (history.csv keeps Lightning's count from 0, as checkpoint names
    do), on whole-number ticks; a dashed line marks the epoch of the best checkpoint."""
    panels = PANELS[task]
    figure, all_axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for (column, title), axes in zip(panels, all_axes):
        for split in ("train", "val"):
            if f"{split}_{column}" in history:
                axes.plot(history["epoch"] + 1, history[f"{split}_{column}"], marker="o", label=split)
        if best_epoch is not None:
            axes.axvline(best_epoch + 1, color="grey", linestyle="--",
                         label=f"best checkpoint (epoch {best_epoch + 1})")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.legend()
    figure.tight_layout()
    return figure

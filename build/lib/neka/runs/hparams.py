"""A run's hyper-parameters beside its final metrics in TensorBoard's HPARAMS tab, so that
`tensorboard --logdir <sweep folder>` shows the jobs of a sweep side by side."""

from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import Logger

# the recipe's numbers, in every run, so that runs from different sweeps line up in one table
RECIPE_KEYS = ("optimizer.lr", "optimizer.weight_decay", "model.dr_rate", "model.pretrained", "data.batch_size",
               "data.max_len", "scheduler.name", "scheduler.warmup_ratio", "trainer.max_epochs", "seed")


def select_hparams(cfg: DictConfig, overrides: list[str]) -> dict[str, Any]:
    """The recipe's keys and every key the command line set (what a grid or a search varies). A
    group choice (`model=bert`, `+experiment=tiny`) is shown as the option's name."""
    params: dict[str, Any] = {key: OmegaConf.select(cfg, key) for key in RECIPE_KEYS}
    for override in overrides:
        key, _, text = override.lstrip("+~").partition("=")
        value = OmegaConf.select(cfg, key, default=None)
        params.setdefault(key, text if value is None or OmegaConf.is_config(value) else value)
    return {key: "null" if value is None else value for key, value in params.items()}


def best_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Under their own tags: logging them as `val/acc` would add a point to the epoch curves."""
    return {"best/" + name.replace("/", "_"): float(value) for name, value in sorted(metrics.items())}


def log_hparams(logger: Logger | None, cfg: DictConfig, metrics: dict[str, float]) -> None:
    """Lightning's TensorBoardLogger writes the hparams plugin data only when metrics come with the
    parameters, so this runs once, after the best checkpoint's validation and test. Nothing closes
    the logger after it and the process ends soon after, so finalize drains the writer's queue:
    one CI run lost its best/* events, most likely still queued for the writer thread at exit."""
    if logger is None:
        return
    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    logger.log_hyperparams(select_hparams(cfg, overrides), metrics=best_metrics(metrics))
    logger.finalize("success")

"""Lightning messages that every neka command would print and no neka user can act on."""

import contextlib
import logging
import warnings
from collections.abc import Iterator

# rank_zero_info's logger ("GPU available: False, used: False", "TPU available: ...") and the
# CUDA accelerator's ("LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0]"), both at INFO
DEVICE_INFO_LOGGERS = ("pytorch_lightning.utilities.rank_zero", "pytorch_lightning.accelerators.cuda")


class _DropAdvertisements(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")  # Lightning 2.6 advertises its cloud logger on every fit


def quiet_lightning() -> None:
    # Lightning 2.6's own use of torch's pytree API, printed on every fit and predict.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")
    # neka's default is num_workers=0 on purpose: collating short token rows is cheaper than
    # shipping them between processes on a small CPU; data.num_workers raises it.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Mixed precision keeps the weights in float32, so the model summary's fallback to 32 bits
    # is the right size; its warning says the estimate may be wrong on every bf16/16-mixed fit.
    warnings.filterwarnings("ignore", message=r"Precision (bf16|16)-mixed is not supported by the model summary")
    # Printed whenever an epoch has fewer batches than log_every_n_steps (50, the seed's
    # log_interval: 3,200 training rows at batch size 64). The train/* metrics are still logged
    # once per epoch; only the per-step train/loss curve gets sparser (trainer.log_every_n_steps).
    warnings.filterwarnings("ignore", message=r"The number of training batches \(\d+\) is smaller than the logging")
    logging.getLogger("pytorch_lightning.utilities.rank_zero").addFilter(_DropAdvertisements())


@contextlib.contextmanager
def device_info_hidden() -> Iterator[None]:
    """Inside: Lightning's INFO lines about devices are not logged. Training keeps them in its
    log; predict and evaluate build a Trainer only to score rows, and would print them on every
    call. Lightning's warnings are Python warnings and still show."""
    loggers = [logging.getLogger(name) for name in DEVICE_INFO_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)

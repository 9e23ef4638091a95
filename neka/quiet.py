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

"""Lightning messages that every neka command would print and no neka user can act on."""

import logging
import warnings


class _DropAdvertisements(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")  # Lightning 2.6 advertises its cloud logger on every fit


def quiet_lightning() -> None:
    # Lightning 2.6's own use of torch's pytree API, printed on every fit.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")
    # neka's default is num_workers=0 on purpose: collating short token rows is cheaper than
    # shipping them between processes on a small CPU; data.num_workers raises it.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Mixed precision keeps the weights in float32, so the model summary's fallback to 32 bits
    # is the right size; its warning says the estimate may be wrong on every bf16/16-mixed fit.
    warnings.filterwarnings("ignore", message=r"Precision (bf16|16)-mixed is not supported by the model summary")
    # Printed whenever an epoch has fewer batches than log_every_n_steps (50, the KoBERT notebook's
    # log_interval: 3,200 training rows at batch size 64). The train/* metrics are still logged
    # once per epoch; only the per-step train/loss curve gets sparser (trainer.log_every_n_steps).
    warnings.filterwarnings("ignore", message=r"The number of training batches \(\d+\) is smaller than the logging")
    logging.getLogger("pytorch_lightning.utilities.rank_zero").addFilter(_DropAdvertisements())


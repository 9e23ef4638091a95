"""Lightning messages that every neka command would print and no neka user can act on."""

import logging
import warnings


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

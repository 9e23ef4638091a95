"""Whether a training step makes the host wait for the device, checked on the steps Lightning does
not log at.

A GPU runs what the host queues; the host gets ahead, and queues the next step while the GPU runs
this one, unless something reads a value back: `.item()`, `if tensor:`, `.tolist()`, or an
operation whose output size depends on values (`nonzero`, `unique`, boolean-mask indexing). On an
H200 neka's step was bound by the host's work (RESULTS.md, table Q), so a wait per step costs the
whole overlap. A logged step (every `trainer.log_every_n_steps`) reads its values by design.

Two guards, one per device kind, so a CPU test checks what a GPU run proves:
- `HostReads`, a torch function mode that records every such operation. On a CPU nothing waits,
  but the operations are the same ones.
- `torch.cuda.set_sync_debug_mode("error")`, which makes CUDA raise at the first synchronising call.

`UnloggedStepGuard` enters the guard at each unlogged step's start and leaves it at the next
step's start (or when validation starts, or training ends), so the step, the hooks after it, and
fetching and moving the next batch are all inside.
"""

import contextlib
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytorch_lightning as pl
import torch
from torch.overrides import TorchFunctionMode

from neka.model.step_logging import is_logged_step

# Tensor methods and functions that give the host a value, or whose output size depends on values
READS = {"item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "__index__", "__format__",
         "nonzero", "argwhere", "unique", "_unique", "_unique2", "unique_dim", "unique_consecutive",
         "masked_select", "bincount"}


class HostReads(TorchFunctionMode):
    """Records each read as "operation from file:line (function)", the code outside torch that asked.
    Reads inside torch's DataLoader are left out: its seeds and samplers are CPU tensors on every
    machine, and a CPU tensor's value is at hand without waiting."""

    def __init__(self):
        super().__init__()
        self.reads: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in READS or (name == "__getitem__" and _boolean_index(args)):
            stack = traceback.extract_stack()[:-1]
            if not any("/torch/utils/data/" in frame.filename for frame in stack):
                self.reads.append(f"{name} from {_caller(stack)}")
        return func(*args, **(kwargs or {}))


def _boolean_index(args: tuple) -> bool:
    index = args[1] if len(args) > 1 else None
    indices = index if isinstance(index, tuple) else (index,)
    return any(isinstance(item, torch.Tensor) and item.dtype == torch.bool for item in indices)


def _caller(stack: traceback.StackSummary) -> str:
    """The innermost frame outside torch itself and this module."""
    for frame in reversed(stack):
        if "/torch/" not in frame.filename and not frame.filename.endswith("step_syncs.py"):
            return f"{frame.filename}:{frame.lineno} ({frame.name})"
    return "?"


@contextlib.contextmanager
def cuda_sync_errors() -> Iterator[None]:
    """CUDA raises at the first call that waits for the GPU."""
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


class UnloggedStepGuard(pl.Callback):
    """`guard()` around each step that Lightning does not log at; `steps` counts the guarded ones."""

    def __init__(self, guard: Callable[[], contextlib.AbstractContextManager]):
        self.guard = guard
        self.steps = 0
        self._open: contextlib.ExitStack | None = None

    def _close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self._close()
        if not is_logged_step(trainer):
            self._open = contextlib.ExitStack()
            self._open.enter_context(self.guard())
            self.steps += 1

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._close()

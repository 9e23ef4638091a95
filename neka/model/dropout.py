"""Dropout whose keep-masks come from numpy on CPU (`model.cpu_dropout`).

torch draws a CPU dropout mask with MKL's vectorised Bernoulli sampler only on Intel CPUs
(`bernoulli_scalar_kernel` in ATen's cpu/DistributionKernels.cpp checks the vendor); elsewhere
(AMD, Arm) it draws one value at a time: about 7 ns a value on this project's AMD EPYC, 13 % of
a tiny-BERT training step. numpy's PCG64 fills the same mask from its raw 64-bit output about
10x faster, so a dropout's forward and backward take half the time. `auto` (the default) uses
numpy where torch's sampler is the serial one, and torch's own on Intel CPUs with MKL.

Each mask's seed is drawn from torch's generator, so `seed` still decides every mask and a
resumed run replays them. The drop probability is p rounded to 1/65536. On a GPU, and in
evaluation, this is torch's own dropout. The attention-probability dropout inside torch's
SDPA kernel stays torch's: it is not a module.
"""

import logging
import math
import platform

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

CHOICES = ("auto", "numpy", "torch")
RESOLUTION = 1 << 16  # a mask value is 16 random bits against p's threshold
# Below this many values torch's sampler wins: forward and backward of a (64, 8, 4) dropout took
# 0.06 ms with torch's against 0.15 ms with numpy's (a new generator per mask), (64, 8, 32) 0.16
# against 0.20 ms; from (64, 16, 64) on numpy's wins, 0.33 against 0.50 ms (2026-12-07, 2 threads).
NUMPY_FROM_VALUES = 1 << 15


def numpy_keep_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """True where a value is kept (probability 1 - p), as a bool tensor of `shape`."""
    count = math.prod(shape)
    generator = np.random.PCG64(int(torch.randint(0, 2 ** 62, (1,))))
    # the bits Generator.bytes returned (it slices this raw output), in half the time: no copies
    bits = generator.random_raw(-(-count // 4)).view(np.uint16)[:count]
    return torch.from_numpy(bits >= round(p * RESOLUTION)).view(shape)


class NumpyMaskDropout(nn.Dropout):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0 < self.p < 1 or x.device.type != "cpu" or x.numel() < NUMPY_FROM_VALUES:
            return super().forward(x)
        # Zeroed, then scaled: torch's dropout, x * mask / (1 - p). Two multiplications that
        # vectorise take 0.46 ms forward and backward on (64, 24, 128) against 0.57 ms for
        # torch.where with a scalar; the values kept are the same bits.
        return (x * numpy_keep_mask(x.shape, self.p).to(x.dtype)).mul_(1 / (1 - self.p))


def use_numpy_masks(module: nn.Module) -> None:
    """Replaces every plain nn.Dropout below `module` (encoder and head) with NumpyMaskDropout.
    They hold no weights, so checkpoints and exports do not change."""
    for name, child in module.named_children():
        if type(child) is nn.Dropout:
            setattr(module, name, NumpyMaskDropout(child.p, child.inplace))
        else:
            use_numpy_masks(child)


def cpu_vendor() -> str:
    """The CPU's vendor id, e.g. GenuineIntel or AuthenticAMD; empty when unknown."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux: Windows names the vendor in platform.processor()
        pass
    return "GenuineIntel" if "GenuineIntel" in platform.processor() else ""


def torch_samples_dropout_vectorised() -> bool:
    return torch.backends.mkl.is_available() and cpu_vendor() == "GenuineIntel"


def choose_cpu_dropout(choice: str) -> str:
    """`auto`: numpy unless torch's own CPU sampler is MKL's vectorised one."""
    if choice != "auto":
        return choice
    chosen = "torch" if torch_samples_dropout_vectorised() else "numpy"
    log.info("model.cpu_dropout=auto: %s (%s)", chosen,
             "Intel CPU: torch samples with MKL" if chosen == "torch" else "torch would sample one value at a time")
    return chosen

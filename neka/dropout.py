"""Dropout whose keep-masks come from numpy on CPU (`model.cpu_dropout=numpy`).

torch draws a CPU dropout mask with a serial Bernoulli sampler, one value at a time: about
7 ns a value on this project's AMD EPYC (torch's vectorised MKL sampler only runs on Intel
CPUs), 13 % of a tiny-BERT training step. numpy's PCG64 fills the same mask from random
bytes about 5x faster, so a dropout's forward and backward take half the time.

Each mask's seed is drawn from torch's generator, so `seed` still decides every mask and a
resumed run replays them. The drop probability is p rounded to 1/65536. On a GPU, and in
evaluation, this is torch's own dropout. The attention-probability dropout inside torch's
SDPA kernel stays torch's: it is not a module.
"""

import math

import numpy as np
import torch
from torch import nn

RESOLUTION = 1 << 16  # a mask value is 16 random bits against p's threshold


def numpy_keep_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """True where a value is kept (probability 1 - p), as a bool tensor of `shape`."""
    count = math.prod(shape)
    generator = np.random.default_rng(int(torch.randint(0, 2 ** 62, (1,))))
    bits = np.frombuffer(generator.bytes(2 * count), dtype=np.uint16)
    return torch.from_numpy(bits >= round(p * RESOLUTION)).view(shape)


class NumpyMaskDropout(nn.Dropout):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0 < self.p < 1 or x.device.type != "cpu":
            return super().forward(x)
        # where() keeps a bool mask for the backward pass, as torch's dropout does
        return torch.where(numpy_keep_mask(x.shape, self.p), x * (1 / (1 - self.p)), 0)


def use_numpy_masks(module: nn.Module) -> int:
    """Replaces every plain nn.Dropout below `module` (encoder and head) with NumpyMaskDropout;
    returns how many. They hold no weights, so checkpoints and exports do not change."""
    replaced = 0
    for name, child in module.named_children():
        if type(child) is nn.Dropout:
            setattr(module, name, NumpyMaskDropout(child.p, child.inplace))
            replaced += 1
        else:
            replaced += use_numpy_masks(child)
    return replaced

"""Length-grouped batches: rows of similar length share a batch, so little padding is computed.

Korean reviews are short and uneven (NSMC sample: mean 19 tokens, longest of a random batch
of 64 about 62), so random batches spend most of their compute on padding. Each epoch the
rows are shuffled (seed + epoch), cut into pools of `pool_batches` batches, each pool sorted
by length and cut into batches, and the batches shuffled again: epochs stay random, every
row is seen once per epoch. Under DDP each rank takes every world_size-th batch, and no row
twice (split_for_ranks); `hydra.verbose=neka.sampling` logs the rows each rank takes.
"""

import logging

import numpy as np
import torch.distributed as dist
from torch.utils.data import Sampler

log = logging.getLogger(__name__)


class LengthGroupedBatchSampler(Sampler[list[int]]):
    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, pool_batches: int = 50,
                 rank: int | None = None, world_size: int | None = None):
        """`rank`/`world_size` default to torch.distributed's when it is initialised."""
        self.lengths = np.asarray(lengths)
        self.rank, self.world_size = rank, world_size
        self.batch_size = batch_size
        self.seed = seed
        self.pool_batches = pool_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The next pass uses this epoch's order. Lightning (2.6) calls set_epoch only on
        `loader.sampler` and `loader.batch_sampler.sampler`, never on a batch sampler itself,
        so each pass also moves on to the next epoch by itself."""
        self.epoch = epoch

    def _world(self) -> tuple[int, int]:
        if self.rank is not None and self.world_size is not None:
            return self.rank, self.world_size
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def batches(self) -> list[np.ndarray]:
        """All batches of this epoch, before sharding across ranks."""
        generator = np.random.default_rng([self.seed, self.epoch])
        order = generator.permutation(len(self.lengths))
        pool_size = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool_size):
            pool = order[start:start + pool_size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches.extend(pool[i:i + self.batch_size] for i in range(0, len(pool), self.batch_size))
        return [batches[i] for i in generator.permutation(len(batches))]

    def __iter__(self):
        rank, world = self._world()
        epoch, batches = self.epoch, split_for_ranks(self.batches(), world)
        self.epoch += 1
        shard = batches[rank::world]
        if log.isEnabledFor(logging.DEBUG):
            rows = sorted(int(i) for batch in shard for i in batch)
            log.debug("epoch %d, rank %d of %d: %d batches, rows %s", epoch, rank, world, len(shard), rows)
        for batch in shard:
            yield batch.tolist()

    def __len__(self) -> int:
        _, world = self._world()
        full_pools, rest = divmod(len(self.lengths), self.batch_size * self.pool_batches)
        total = full_pools * self.pool_batches + -(-rest // self.batch_size)
        return -(-total // world)


def split_for_ranks(batches: list[np.ndarray], world_size: int) -> list[np.ndarray]:
    """DDP ranks step in lockstep, so each needs as many batches. Rather than repeat batches as
    DistributedSampler pads, the largest batches are halved until the count divides evenly:
    every row still once per epoch. Only with fewer rows than ranks are batches repeated."""
    batches = list(batches)
    while len(batches) % world_size and max(map(len, batches)) > 1:
        largest = max(range(len(batches)), key=lambda index: len(batches[index]))
        batch = batches[largest]
        batches[largest:largest + 1] = [batch[:len(batch) // 2], batch[len(batch) // 2:]]
    return batches + batches[: -len(batches) % world_size]

"""Length-grouped batches: rows of similar length share a batch, so little padding is computed.

Korean reviews are short and uneven (NSMC sample: mean 19 tokens, longest of a random batch
of 64 about 62), so random batches spend most of their compute on padding. Each epoch the
rows are shuffled (seed + epoch), cut into pools of `pool_batches` batches, each pool sorted
by length and cut into batches, and the batches shuffled again: epochs stay random, every
row is seen once per epoch. Under DDP each rank takes every world_size-th batch, and no row
twice (split_for_ranks); `hydra.verbose=neka.data.sampling` logs the rows each rank takes.

A run resumed from a mid-epoch checkpoint continues the same epoch where it stopped:
ResumableLoader tells Lightning (which stores it in the checkpoint) how many batches of the
epoch the training loop has taken, and skips those on resume.
"""

import logging
from typing import Any

import numpy as np
import torch.distributed as dist
from torch.utils.data import DataLoader, Sampler

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
        self.skip = 0  # batches of the next iteration to leave out: those a resumed run already trained on

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
        skip, self.skip = self.skip, 0
        shard = batches[rank::world]
        if log.isEnabledFor(logging.DEBUG):
            rows = sorted(int(i) for batch in shard for i in batch)
            log.debug("epoch %d, rank %d of %d: %d batches, rows %s", epoch, rank, world, len(shard), rows)
        for batch in shard[skip:]:
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


class ResumableLoader(DataLoader):
    """A DataLoader over a LengthGroupedBatchSampler with Lightning's `state_dict` /
    `load_state_dict` protocol: the epoch (the sampler's, which moves on each pass) and the
    batches of it the training loop has taken, counted as the loop takes them, not as workers
    prefetch them, so the count matches the step a checkpoint was saved at."""

    def __init__(self, dataset, batch_sampler: LengthGroupedBatchSampler, **kwargs: Any):
        super().__init__(dataset, batch_sampler=batch_sampler, **kwargs)
        self._position = {"epoch": 0, "batches": 0}  # the current (or last) pass

    def __iter__(self):
        # a generator: this body runs when the training loop takes the first batch, before the
        # sampler's own pass starts (and moves its epoch on)
        sampler: LengthGroupedBatchSampler = self.batch_sampler
        self._position = {"epoch": sampler.epoch, "batches": sampler.skip}
        for batch in super().__iter__():
            self._position["batches"] += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return dict(self._position)

    def load_state_dict(self, state: dict[str, int]) -> None:
        """A checkpoint from inside an epoch continues it; one from its end starts the next."""
        sampler: LengthGroupedBatchSampler = self.batch_sampler
        is_epoch_done = state["batches"] >= len(sampler)
        sampler.set_epoch(state["epoch"] + 1 if is_epoch_done else state["epoch"])
        sampler.skip = 0 if is_epoch_done else state["batches"]

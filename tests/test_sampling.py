import numpy as np
import pytest

from neka.data.sampling import LengthGroupedBatchSampler, ResumableLoader

LENGTHS = np.random.default_rng(0).integers(3, 65, size=1003)


def epoch_batches(seed=1, epoch=0, **kwargs):
    sampler = LengthGroupedBatchSampler(LENGTHS, batch_size=64, seed=seed, **kwargs)
    sampler.set_epoch(epoch)
    return list(sampler), len(sampler)


def test_every_row_exactly_once_per_epoch():
    batches, count = epoch_batches()
    assert len(batches) == count == 16
    assert sorted(i for batch in batches for i in batch) == list(range(len(LENGTHS)))


def test_order_changes_with_epoch_and_seed():
    first = epoch_batches(epoch=0)[0]
    assert first != epoch_batches(epoch=1)[0] and first != epoch_batches(seed=2)[0]
    assert first == epoch_batches(epoch=0)[0]


def test_batches_hold_similar_lengths():
    grouped = epoch_batches()[0]
    random = np.array_split(np.random.default_rng(0).permutation(len(LENGTHS)), 16)
    padding = lambda batches: sum(LENGTHS[b].max() * len(b) - LENGTHS[b].sum() for b in map(np.asarray, batches))  # noqa: E731
    assert padding(grouped) < 0.2 * padding(random)


def test_two_ranks_see_disjoint_shards_that_cover_the_epoch():
    rank0, count0 = epoch_batches(rank=0, world_size=2)
    rank1, count1 = epoch_batches(rank=1, world_size=2)
    assert count0 == count1 == len(rank0) == len(rank1) == 8
    seen0, seen1 = {i for b in rank0 for i in b}, {i for b in rank1 for i in b}
    assert seen0.isdisjoint(seen1) and seen0 | seen1 == set(range(len(LENGTHS)))


@pytest.mark.parametrize("row_count, world_size", [(160, 2), (300, 3), (65, 4)])
def test_ranks_split_an_uneven_epoch_without_repeating_rows(row_count, world_size):
    """160 rows in batches of 32 are 5 batches: two ranks need 3 each, from halving one batch."""
    lengths = LENGTHS[:row_count]
    shards = []
    for rank in range(world_size):
        sampler = LengthGroupedBatchSampler(lengths, batch_size=32, seed=1, rank=rank, world_size=world_size)
        shards.append(list(sampler))
        assert len(shards[-1]) == len(sampler)
    rows = [i for shard in shards for batch in shard for i in batch]
    assert sorted(rows) == list(range(row_count))
    assert len({len(shard) for shard in shards}) == 1


def test_each_pass_is_the_next_epoch():
    """Lightning never calls set_epoch on a batch sampler, so passes must differ by themselves."""
    sampler = LengthGroupedBatchSampler(LENGTHS, batch_size=64, seed=1)
    assert list(sampler) == epoch_batches(epoch=0)[0] and list(sampler) == epoch_batches(epoch=1)[0]


def loader() -> ResumableLoader:
    return ResumableLoader(list(range(len(LENGTHS))), LengthGroupedBatchSampler(LENGTHS, 64, seed=1),
                           collate_fn=lambda rows: rows)


def test_each_pass_over_the_loader_is_the_next_epoch():
    """Lightning never calls set_epoch on a batch sampler: the loader numbers epochs itself."""
    passes = loader()
    assert [list(passes) for _ in range(3)] == [epoch_batches(epoch=epoch)[0] for epoch in range(3)]


def test_a_resumed_loader_continues_its_epoch_where_the_checkpoint_was_taken():
    first = loader()
    list(first)
    list(first)
    epoch = iter(first)
    taken = [next(epoch) for _ in range(5)]
    state = first.state_dict()
    assert state == {"epoch": 2, "batches": 5}
    resumed = loader()
    resumed.load_state_dict(state)
    assert taken + list(resumed) == epoch_batches(epoch=2)[0]
    assert list(resumed) == epoch_batches(epoch=3)[0]  # the next epoch is whole again
    at_epoch_end = loader()
    at_epoch_end.load_state_dict({"epoch": 2, "batches": 16})
    assert list(at_epoch_end) == epoch_batches(epoch=3)[0]

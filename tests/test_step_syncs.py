"""A training step never makes the host wait for the device (neka/bench/step_syncs.py): on the CPU
no unlogged step reads a value back, on a GPU CUDA's sync debug mode raises at the first wait. The
changes that removed the waits leave the logits, the metrics and TensorBoard's steps as they were."""

import tempfile

import pytest
import torch
import torch.nn.functional as F
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy
from transformers import BertConfig, BertModel

from neka.bench.peers import compose_train
from neka.bench.step_syncs import HostReads, UnloggedStepGuard, cuda_sync_errors
from neka.model.attention import encoder_attention_mask
from neka.model.classifier import make_attention_mask
from neka.model.metrics import MultilabelMetrics, SplitMetrics

from conftest import restored_process_state

# 540 training rows in batches of 32: 17 steps, train/loss written at every 4th
SMALL_RUN = ["data.max_rows=600", "data.batch_size=32", "tokenizer.vocab_size=2000", "trainer.max_epochs=1",
             "trainer.log_every_n_steps=4", "data.cache_dir=null",
             "model.cpu_dropout=torch"]  # the dropout a GPU step draws (numpy's masks are the CPU's own path)


def train_guarded(guard, *overrides: str) -> tuple[UnloggedStepGuard, str]:
    from neka.train import run

    run_dir = tempfile.mkdtemp()
    guarded = UnloggedStepGuard(guard)
    with restored_process_state():
        run(compose_train([*SMALL_RUN, f"paths.run_dir={run_dir}", *overrides]), extra_callbacks=[guarded])
    return guarded, run_dir


@pytest.mark.parametrize("overrides", [[], ["data=hate_multilabel", "model.attn_implementation=eager"]],
                         ids=["classes-sdpa", "multilabel-eager"])
def test_no_unlogged_step_reads_a_value_back(overrides):
    recorders: list[HostReads] = []

    def guard() -> HostReads:
        recorders.append(HostReads())
        return recorders[-1]

    guarded, run_dir = train_guarded(guard, *overrides)
    assert guarded.steps >= 8
    assert [read for recorder in recorders for read in recorder.reads] == []
    if not overrides:  # the loss is still written at Lightning's steps: the 4th, 8th, 12th and 16th
        accumulator = EventAccumulator(run_dir + "/tb")
        accumulator.Reload()
        assert [event.step for event in accumulator.Scalars("train/loss")] == [3, 7, 11, 15]


def test_the_guard_sees_a_read():
    """The recorder is not blind: the checks neka turned off are reads."""
    with HostReads() as recorder:
        MeanMetric().update(torch.tensor([1.0, 2.0]))
        MulticlassAccuracy(num_classes=3).update(torch.tensor([0, 1]), torch.tensor([0, 2]))
        if torch.ones(2).all():
            pass
    assert len(recorder.reads) >= 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_no_unlogged_step_waits_for_the_gpu():
    guarded, _ = train_guarded(cuda_sync_errors, "trainer.accelerator=gpu")
    assert guarded.steps >= 8


@pytest.mark.parametrize("implementation", ["sdpa", "eager"])
def test_the_4d_mask_gives_transformers_own_outputs(implementation):
    """Padded and unpadded batches, against the 2-D mask transformers turns into its own."""
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, attn_implementation=implementation)
    encoder = BertModel(config).eval()
    input_ids = torch.randint(5, 50, (3, 7))
    for lengths in ([7, 4, 2], [7, 7, 7]):
        mask = make_attention_mask(torch.tensor(lengths), 7)
        expected = encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
        given = encoder_attention_mask(mask, config, torch.float32)
        assert given.shape == (3, 1, 1, 7)
        actual = encoder(input_ids=input_ids, attention_mask=given).last_hidden_state
        for row, length in enumerate(lengths):
            torch.testing.assert_close(actual[row, :length], expected[row, :length], atol=1e-6, rtol=1e-5)


def test_losses_are_the_means_they_were():
    torch.manual_seed(0)
    logits, labels = torch.randn(10, 3), torch.randint(0, 3, (10,))
    metrics = SplitMetrics(3)
    loss = metrics.update(logits[:6], labels[:6])
    metrics.update(logits[6:], labels[6:])
    torch.testing.assert_close(loss, F.cross_entropy(logits[:6], labels[:6]))
    torch.testing.assert_close(metrics.ce.compute(), F.cross_entropy(logits, labels))
    assert metrics.acc.compute() == (logits.argmax(1) == labels).float().mean()
    targets = torch.randint(0, 2, (10, 4)).float()
    multilabel = MultilabelMetrics(4)
    loss = multilabel.update(logits.repeat(1, 2)[:, :4][:7], targets[:7])
    multilabel.update(logits.repeat(1, 2)[:, :4][7:], targets[7:])
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(logits.repeat(1, 2)[:7, :4], targets[:7]))
    torch.testing.assert_close(multilabel.bce.compute(),
                               F.binary_cross_entropy_with_logits(logits.repeat(1, 2)[:, :4], targets))

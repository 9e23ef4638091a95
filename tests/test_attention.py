"""Attention with numpy dropout masks (neka/attention.py) computes what SDPA computes: the same
attention, the same masking of padded keys, and SDPA itself once dropout is off."""

import pytest
import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from neka.attention import NAME, sdpa_numpy_dropout
from neka.dropout import numpy_keep_mask
from neka.model import NekaClassifier

OPTIMIZER = {"lr": 5e-5, "weight_decay": 0.01, "eps": 1e-8}
SCHEDULER = {"name": "linear", "warmup_ratio": 0.1}
TINY = {"num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64}


def attention_inputs(batch=4, heads=2, length=7, size=8):
    torch.manual_seed(0)
    q, k, v = (torch.randn(batch, heads, length, size, dtype=torch.float64) for _ in range(3))
    valid = torch.tensor([length, 3, 5, 1])
    keys_attended = torch.arange(length)[None, :] < valid[:, None]  # sdpa's mask: True where a key counts
    return q, k, v, keys_attended[:, None, None, :].expand(batch, 1, length, length)


def test_with_dropout_it_is_attention_with_the_numpy_mask():
    q, k, v, mask = attention_inputs()
    module = torch.nn.Module().train()
    torch.manual_seed(3)
    out, _ = sdpa_numpy_dropout(module, q, k, v, mask, dropout=0.25)
    scores = (q @ k.transpose(-1, -2) / 8 ** 0.5).masked_fill(~mask, float("-inf"))
    torch.manual_seed(3)  # the same seed draws the same mask
    keep = numpy_keep_mask(scores.shape, 0.25)
    expected = (scores.softmax(-1) * keep / 0.75) @ v
    assert torch.allclose(out, expected.transpose(1, 2), atol=1e-6)
    assert 0.15 < 1 - keep.float().mean() < 0.35


def test_without_dropout_it_is_sdpa():
    q, k, v, mask = attention_inputs()
    module = torch.nn.Module().eval()
    module.is_causal = False
    ours, _ = sdpa_numpy_dropout(module, q, k, v, mask, dropout=0.0)
    sdpa, _ = sdpa_attention_forward(module, q, k, v, mask, dropout=0.0)
    assert torch.equal(ours, sdpa)


def classifier(cpu_dropout: str) -> NekaClassifier:
    torch.manual_seed(0)
    return NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                          encoder=TINY, cpu_dropout=cpu_dropout)


@pytest.mark.parametrize(("cpu_dropout", "implementation"), [("numpy", NAME), ("torch", "sdpa")])
def test_fitting_with_numpy_masks_switches_sdpa_attention(cpu_dropout, implementation):
    model = classifier(cpu_dropout)
    assert model.encoder.config._attn_implementation == "sdpa"
    model.setup("fit")
    assert model.encoder.config._attn_implementation == implementation
    assert "_attn_implementation" not in str(model.encoder.config.to_dict())  # checkpoints still say sdpa


def test_in_training_padded_positions_change_nothing_and_gradients_flow():
    model = classifier("numpy")
    model.setup("fit")
    model.train()
    ids = torch.randint(5, 50, (3, 9))
    valid, segments = torch.tensor([9, 4, 6]), torch.zeros_like(ids)
    other_padding = ids.clone()
    other_padding[1, 4:], other_padding[2, 6:] = 7, 11
    torch.manual_seed(5)
    logits = model(ids, valid, segments)
    torch.manual_seed(5)  # the same dropout masks
    assert torch.allclose(model(other_padding, valid, segments), logits, atol=1e-6)
    logits.sum().backward()
    assert model.encoder.encoder.layer[0].attention.self.query.weight.grad.abs().sum() > 0


def test_after_fitting_evaluation_matches_an_sdpa_model_with_the_same_weights():
    trained, reference = classifier("numpy"), classifier("torch")
    trained.setup("fit")
    trained.eval(), reference.eval()
    ids, valid = torch.randint(5, 50, (3, 9)), torch.tensor([9, 4, 6])
    assert torch.equal(trained(ids, valid, torch.zeros_like(ids)), reference(ids, valid, torch.zeros_like(ids)))

"""neka's CPU dropout (model.cpu_dropout=numpy) behaves as torch's: the same share dropped,
the kept values scaled, the masks decided by torch's seed, identity in evaluation."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from neka.errors import NekaError
from neka.model import dropout
from neka.model.classifier import NekaClassifier
from neka.model.dropout import NumpyMaskDropout, choose_cpu_dropout, numpy_keep_mask

from conftest import OPTIMIZER, SCHEDULER, TINY

TWO_LAYERS = {**TINY, "num_hidden_layers": 2}


@pytest.mark.parametrize("p", [0.1, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_drops_a_share_p_and_scales_what_it_keeps(p, dtype):
    x = torch.full((1000, 1000), 2.0, dtype=dtype)
    out = NumpyMaskDropout(p)(x)
    dropped = (out == 0).float().mean().item()
    assert dropped == pytest.approx(p, abs=0.003)  # 1e6 draws: the standard error is below 0.0005
    assert torch.allclose(out[out != 0].float(), torch.tensor(2 / (1 - p)), rtol=1e-2)
    assert out.dtype == dtype


def test_gradient_flows_through_the_kept_values_only():
    torch.manual_seed(0)
    x = torch.randn(64, 32, 16, requires_grad=True)  # 32,768 values: numpy's masks
    out = NumpyMaskDropout(0.1)(x)
    out.sum().backward()
    kept = out != 0
    assert torch.allclose(x.grad[kept], torch.tensor(1 / 0.9))
    assert torch.all(x.grad[~kept] == 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_values_and_gradients_are_the_masked_scaled_ones_bit_for_bit(dtype):
    """where(mask, x / (1 - p), 0), as neka computed it before the two multiplications that replace
    it: the same values and gradients, so a run resumed across that change trains the same."""
    x = torch.randn(64, 24, 128).to(dtype).requires_grad_()
    torch.manual_seed(5)
    out = NumpyMaskDropout(0.1)(x)
    out.backward(torch.ones_like(out))
    torch.manual_seed(5)
    mask = numpy_keep_mask(x.shape, 0.1)
    expected = torch.where(mask, x.detach() * (1 / 0.9), 0)
    assert out.dtype == dtype and torch.equal(out, expected)
    assert torch.equal(x.grad, torch.where(mask, torch.ones_like(x) * (1 / 0.9), 0))


def test_small_tensors_keep_torchs_sampler():
    """Under NUMPY_FROM_VALUES values torch's own dropout is the faster one: the same output bits."""
    x = torch.randn(64, 8, 4)
    torch.manual_seed(11)
    expected = torch.nn.Dropout(0.1)(x)
    torch.manual_seed(11)
    assert torch.equal(NumpyMaskDropout(0.1)(x), expected)
    large = torch.randn(64, 32, 16)
    torch.manual_seed(11)
    expected = torch.nn.Dropout(0.1)(large)
    torch.manual_seed(11)
    assert not torch.equal(NumpyMaskDropout(0.1)(large), expected)  # from 32,768 values on: numpy's masks


def test_masks_follow_torchs_seed():
    torch.manual_seed(7)
    first = numpy_keep_mask(torch.Size([256, 64]), 0.1)
    torch.manual_seed(7)
    again = numpy_keep_mask(torch.Size([256, 64]), 0.1)
    following = numpy_keep_mask(torch.Size([256, 64]), 0.1)
    assert torch.equal(first, again)
    assert not torch.equal(again, following)


@pytest.mark.parametrize("shape", [(3, 5, 7), (64, 20, 128)])
def test_masks_are_generator_bytes_compared_with_p(shape):
    """The mask of a seed is the one numpy's Generator.bytes gives (what neka drew before it read
    PCG64's raw output): a run resumed across that change replays the same masks."""
    torch.manual_seed(3)
    mask = numpy_keep_mask(torch.Size(shape), 0.1)
    torch.manual_seed(3)
    generator = np.random.default_rng(int(torch.randint(0, 2 ** 62, (1,))))
    bits = np.frombuffer(generator.bytes(2 * math.prod(shape)), dtype=np.uint16)
    assert torch.equal(mask, torch.from_numpy(bits >= round(0.1 * 65536)).view(shape))


def test_identity_in_evaluation_and_at_p_zero():
    x = torch.randn(8, 4)
    assert torch.equal(NumpyMaskDropout(0.1).eval()(x), x)
    assert torch.equal(NumpyMaskDropout(0.0)(x), x)


def test_cpu_dropout_key_chooses_the_encoders_and_heads_dropout():
    def dropouts(choice):
        model = NekaClassifier(num_labels=2, vocab_size=50, pad_id=1, optimizer=OPTIMIZER, scheduler=SCHEDULER,
                               encoder=TWO_LAYERS, cpu_dropout=choice)
        assert {type(m) for m in model.modules() if isinstance(m, nn.Dropout)} == {nn.Dropout}  # until fit
        model.setup("fit")
        return [type(m) for m in model.modules() if isinstance(m, nn.Dropout)]

    numpy_choice, torch_choice = dropouts("numpy"), dropouts("torch")
    # the embeddings', three per layer (attention probabilities: the module eager attention calls,
    # SDPA passes p to its kernel instead; attention output; feed-forward output), the head's
    assert numpy_choice == [NumpyMaskDropout] * (3 * TWO_LAYERS["num_hidden_layers"] + 2)
    assert torch_choice == [nn.Dropout] * len(numpy_choice)
    with pytest.raises(NekaError, match="model.cpu_dropout"):
        dropouts("mkl")


@pytest.mark.parametrize(("vendor", "mkl", "expected"), [
    ("AuthenticAMD", True, "numpy"), ("GenuineIntel", True, "torch"), ("GenuineIntel", False, "numpy"),
    ("", False, "numpy")])
def test_auto_keeps_torchs_sampler_only_where_it_is_mkls(monkeypatch, vendor, mkl, expected):
    monkeypatch.setattr(dropout, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(dropout.torch.backends.mkl, "is_available", lambda: mkl)
    assert choose_cpu_dropout("auto") == expected
    assert choose_cpu_dropout("torch") == "torch" and choose_cpu_dropout("numpy") == "numpy"

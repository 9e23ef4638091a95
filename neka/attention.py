"""Attention with numpy dropout masks, for training on CPU (`model.cpu_dropout`).

With attention dropout (BERT's attention_probs_dropout_prob, 0.1) torch's SDPA cannot use its
fused CPU kernel in training: it falls back to its reference path, which upcasts bfloat16 to
float32 and draws the mask with torch's serial CPU sampler (neka/dropout.py). Written out, the
same attention with a numpy mask takes 0.6-0.7x the time forward and backward, e.g. 8.8 ->
5.9 ms a MiniLM-shaped layer in bf16. The softmax and the dropout run in float32, as in SDPA.
Without dropout (evaluation), or off the CPU, this is transformers' own SDPA attention.

Registered with transformers' AttentionInterface as NAME; NekaClassifier switches an sdpa
encoder to it when fitting with numpy masks. Checkpoints and exports do not record it
(transformers does not save `_attn_implementation`), so saved runs still load as sdpa.
"""

import torch
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from neka.dropout import numpy_keep_mask

NAME = "sdpa_numpy_dropout"


def sdpa_numpy_dropout(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                       attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                       **kwargs) -> tuple[torch.Tensor, None]:
    """transformers' attention signature: (batch, heads, length, head size) in, (batch, length,
    heads, head size) out. `attention_mask` is sdpa's: bool, True where a key is attended, or None."""
    if not 0 < dropout < 1 or query.device.type != "cpu":
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    scaling = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query, key.transpose(-1, -2)).float() * scaling
    if attention_mask is not None:
        scores = scores.masked_fill(~attention_mask, float("-inf")) if attention_mask.dtype == torch.bool \
            else scores + attention_mask
    probabilities = scores.softmax(dim=-1)
    kept = torch.where(numpy_keep_mask(probabilities.shape, dropout), probabilities * (1 / (1 - dropout)), 0)
    output = torch.matmul(kept.to(value.dtype), value)
    return output.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, sdpa_numpy_dropout)
AttentionMaskInterface.register(NAME, sdpa_mask)  # the same masks as sdpa


def use_numpy_attention_dropout(encoder: PreTrainedModel) -> bool:
    """Switches an encoder that uses sdpa to NAME; returns whether it did (eager stays eager)."""
    if encoder.config._attn_implementation != "sdpa" or not encoder._can_set_attn_implementation():
        return False
    encoder.set_attn_implementation(NAME)
    return True

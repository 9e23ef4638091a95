"""The attention mask an encoder is handed, and `model.cudnn_attention`: whether torch's fused
attention (SDPA) may use cuDNN's kernel on a GPU.

On an H200 with torch 2.11, bf16 attention with a padding mask went to cuDNN's kernel, which
builds an execution plan for every new (batch, length) shape: 0.12-0.5 s each. Length-grouped
batches bring up to 64 new lengths in a first epoch, and neka trained 2.45x slower with it
(neka/bench/RESULTS.md, table Q). Without cuDNN, SDPA takes its memory-efficient kernel, which
needs no plan. A process-wide switch of torch's, set when training starts; float32 (evaluation,
predict, serve) never uses cuDNN's attention.
"""

import logging

import torch
from transformers import PretrainedConfig

log = logging.getLogger(__name__)

# Families whose model builds its mask with transformers' create_bidirectional_mask, which takes a
# 4-D mask as it is. DeBERTa builds its own; ModernBERT adds a sliding window to the one it builds.
TAKES_4D_MASK = {"bert", "roberta", "xlm-roberta", "camembert", "electra", "distilbert"}


def encoder_attention_mask(mask: torch.Tensor, config: PretrainedConfig, dtype: torch.dtype) -> torch.Tensor:
    """`mask` (batch, width; 1 for a token, 0 for padding) in the form the encoder's kernel takes,
    (batch, 1, 1, width): True where attended for SDPA, 0 or `dtype`'s lowest value to add to the
    scores for eager attention, as transformers would build it.

    Given the 2-D mask, transformers checks `mask.all()` to hand SDPA no mask when nothing is
    padded. That reads a GPU value back every step, so the host waits for the GPU instead of
    queueing the next step (RESULTS.md, table Q; neka/bench/step_syncs.py). Other families and
    kernels get the 2-D mask. Tracing (ONNX) skips the check either way."""
    implementation = config._attn_implementation
    if config.model_type not in TAKES_4D_MASK or implementation not in ("sdpa", "eager"):
        return mask
    attended = mask.bool()[:, None, None, :]
    if implementation == "sdpa":
        return attended
    return torch.zeros(attended.shape, dtype=dtype, device=mask.device).masked_fill(~attended,
                                                                                    torch.finfo(dtype).min)


def allow_cudnn_attention(allowed: bool) -> None:
    torch.backends.cuda.enable_cudnn_sdp(allowed)
    if torch.cuda.is_available():
        log.info("model.cudnn_attention=%s: SDPA %s cuDNN's attention kernel", str(allowed).lower(),
                 "may use" if allowed else "leaves out")

"""`model.cudnn_attention`: whether torch's fused attention (SDPA) may use cuDNN's kernel on a GPU.

On an H200 with torch 2.11, bf16 attention with a padding mask went to cuDNN's kernel, which
builds an execution plan for every new (batch, length) shape: 0.12-0.5 s each. Length-grouped
batches bring up to 64 new lengths in a first epoch, and neka trained 2.45x slower with it
(neka/bench/RESULTS.md, table Q). Without cuDNN, SDPA takes its memory-efficient kernel, which
needs no plan. A process-wide switch of torch's, set when training starts; float32 (evaluation,
predict, serve) never uses cuDNN's attention.
"""

import logging

import torch

log = logging.getLogger(__name__)


def allow_cudnn_attention(allowed: bool) -> None:
    torch.backends.cuda.enable_cudnn_sdp(allowed)
    if torch.cuda.is_available():
        log.info("model.cudnn_attention=%s: SDPA %s cuDNN's attention kernel", str(allowed).lower(),
                 "may use" if allowed else "leaves out")

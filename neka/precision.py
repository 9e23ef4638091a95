"""`trainer.precision=auto`: bf16 autocast where the hardware computes bfloat16 natively, else float32.

On this project's 2-core CPU (AVX512-BF16) a bfloat16 matrix multiply runs about twice as fast
as a float32 one, and an epoch of the embedded default took 9 s in float32 and 6 s in bf16-mixed,
at the same test accuracy after 5 epochs (0.789 / 0.788). Without native bfloat16, autocast
would emulate it and be slower, so float32 is kept.
"""

import logging

import torch

log = logging.getLogger(__name__)


def has_native_bf16(accelerator: str) -> bool:
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    if accelerator in ("cpu", "auto"):
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def choose_precision(precision: str | int, accelerator: str) -> str | int:
    if precision != "auto":
        return precision
    chosen = "bf16-mixed" if has_native_bf16(accelerator) else "32-true"
    log.info("trainer.precision=auto: %s (%s native bfloat16)", chosen,
             "with" if chosen == "bf16-mixed" else "no")
    return chosen

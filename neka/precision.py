"""`trainer.precision=auto`: bf16 autocast where the hardware computes bfloat16 natively, else float32.

The default (conf/trainer/default.yaml). On this project's 2-core CPU (AVX512-BF16) a bfloat16
matrix multiply runs about twice as fast as a float32 one; `python -m neka.bench` shows what
it gains in training (the neka_fp32 row) and that test accuracy and cross-entropy stay
(neka/bench/RESULTS.md). Without native bfloat16, autocast would emulate it and be slower,
so float32 is kept.
"""

import logging

import torch

log = logging.getLogger(__name__)


def cpu_has_native_bf16() -> bool:
    """oneDNN's own test: AVX512-BF16 or AMX on x86, bf16 instructions on Arm."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def has_native_bf16(accelerator: str) -> bool:
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    if accelerator in ("cpu", "auto"):
        return cpu_has_native_bf16()
    return False


def choose_precision(precision: str | int, accelerator: str) -> str | int:
    if precision != "auto":
        return precision
    chosen = "bf16-mixed" if has_native_bf16(accelerator) else "32-true"
    log.info("trainer.precision=auto: %s (%s native bfloat16)", chosen,
             "with" if chosen == "bf16-mixed" else "no")
    return chosen

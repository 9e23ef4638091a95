"""`trainer.precision=auto`: the fastest mixed precision the hardware computes natively.

| hardware                                                      | auto         |
|---------------------------------------------------------------|--------------|
| CUDA GPU, compute capability >= 8.0 (Ampere, Ada, Hopper, ...) | bf16-mixed   |
| CUDA GPU, 7.x (V100, T4, RTX 20xx): tensor cores, no bfloat16   | 16-mixed     |
| older CUDA GPU (Pascal and before)                             | 32-true      |
| CPU with native bfloat16 (AVX512-BF16, AMX, Arm bf16)          | bf16-mixed   |
| other CPUs, and other accelerators                             | 32-true      |

bf16 keeps float32's range, so it needs no loss scaling. float16 does: under 16-mixed
Lightning scales the loss with torch's GradScaler (neka/model/classifier.py unscales before clipping).
Without tensor cores, float16 matrix multiplies are no faster than float32 ones, and without
native bfloat16, autocast emulates it and is slower, so float32 is kept. On this project's
2-core CPU (AVX512-BF16) a bfloat16 matrix multiply runs about twice as fast as a float32 one;
`python -m neka.bench` shows what it gains in training (the neka_fp32 row) and that test
accuracy and cross-entropy stay (neka/bench/RESULTS.md).
"""

import logging

import torch

log = logging.getLogger(__name__)

BF16_CAPABILITY = (8, 0)         # Ampere: bfloat16 tensor cores
TENSOR_CORE_CAPABILITY = (7, 0)  # Volta: float16 tensor cores


def cpu_has_native_bf16() -> bool:
    """oneDNN's own test: AVX512-BF16 or AMX on x86, bf16 instructions on Arm."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def lowest_cuda_capability() -> tuple[int, int] | None:
    """A machine with mixed GPUs gets what its oldest one computes natively."""
    capabilities = [torch.cuda.get_device_capability(index) for index in range(torch.cuda.device_count())]
    return min(capabilities) if capabilities else None


def decide_precision(accelerator: str, cuda_available: bool, capability: tuple[int, int] | None,
                     cpu_bf16: bool) -> tuple[str, str]:
    """The precision `auto` stands for, and why: a pure function of what the hardware reports.
    `capability` is the lowest CUDA compute capability among the visible GPUs."""
    if accelerator in ("gpu", "cuda", "auto") and cuda_available and capability is not None:
        name = f"CUDA compute capability {capability[0]}.{capability[1]}"
        if capability >= BF16_CAPABILITY:
            return "bf16-mixed", f"{name} computes bfloat16 natively"
        if capability >= TENSOR_CORE_CAPABILITY:
            return "16-mixed", f"{name} has float16 tensor cores but no native bfloat16 (loss scaled)"
        return "32-true", f"{name} has no tensor cores"
    if accelerator in ("cpu", "auto"):
        if cpu_bf16:
            return "bf16-mixed", "the CPU computes bfloat16 natively"
        return "32-true", "the CPU has no native bfloat16"
    if accelerator in ("gpu", "cuda"):
        return "32-true", "no CUDA GPU is visible"
    return "32-true", f"mixed precision is not chosen automatically for trainer.accelerator={accelerator}"


def auto_precision(accelerator: str) -> tuple[str, str]:
    """decide_precision on what this machine reports."""
    cuda_available = torch.cuda.is_available()
    return decide_precision(accelerator, cuda_available, lowest_cuda_capability() if cuda_available else None,
                            cpu_has_native_bf16())


def has_native_bf16(accelerator: str) -> bool:
    """Whether `auto` trains in bfloat16 here (the benchmark's tuned peer does where neka does)."""
    return auto_precision(accelerator)[0] == "bf16-mixed"


def choose_precision(precision: str | int, accelerator: str) -> str | int:
    if precision != "auto":
        return precision
    chosen, reason = auto_precision(accelerator)
    log.info("trainer.precision=auto: %s (%s)", chosen, reason)
    return chosen

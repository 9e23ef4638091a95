"""trainer.precision=auto: what each kind of device gets, decided from what it reports."""

import pytest

from neka.model.precision import choose_precision, cpu_has_native_bf16, decide_precision

CASES = [  # accelerator, CUDA available, lowest compute capability, CPU has native bf16 -> precision
    ("auto", True, (9, 0), False, "bf16-mixed"),   # H100, H200
    ("gpu", True, (8, 0), False, "bf16-mixed"),    # A100
    ("cuda", True, (8, 6), True, "bf16-mixed"),    # RTX 30xx, A10
    ("auto", True, (7, 5), True, "16-mixed"),      # T4, RTX 20xx: tensor cores, no native bf16
    ("gpu", True, (7, 0), False, "16-mixed"),      # V100
    ("auto", True, (6, 1), True, "32-true"),       # P4, GTX 10xx: no tensor cores
    ("gpu", False, None, True, "32-true"),         # asked for a GPU, none visible
    ("auto", False, None, True, "bf16-mixed"),     # CPU with AVX512-BF16 or AMX
    ("auto", False, None, False, "32-true"),       # CPU without
    ("cpu", True, (9, 0), True, "bf16-mixed"),     # the CPU chosen on a GPU machine
    ("cpu", True, (9, 0), False, "32-true"),
    ("mps", False, None, True, "32-true"),
]


@pytest.mark.parametrize(("accelerator", "cuda", "capability", "cpu_bf16", "expected"), CASES)
def test_auto_precision_for_each_kind_of_device(accelerator, cuda, capability, cpu_bf16, expected):
    precision, reason = decide_precision(accelerator, cuda, capability, cpu_bf16)
    assert precision == expected
    if capability and accelerator != "cpu":
        assert f"{capability[0]}.{capability[1]}" in reason  # the log says which GPU it judged


def test_explicit_precision_is_kept_and_auto_is_logged_with_its_reason(caplog):
    assert choose_precision("16-mixed", "cpu") == "16-mixed"
    with caplog.at_level("INFO", logger="neka.model.precision"):
        chosen = choose_precision("auto", "cpu")
    assert chosen == ("bf16-mixed" if cpu_has_native_bf16() else "32-true")
    assert f"trainer.precision=auto: {chosen} (the CPU " in caplog.text

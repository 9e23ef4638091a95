"""The device evaluate and predict score on, named as the configs name it (accelerator=)."""

import pytest
import torch

from neka.errors import NekaError
from neka.inference.scoring import inference_device


def test_cpu_and_auto_without_a_gpu_score_on_the_cpu():
    assert inference_device("cpu") == torch.device("cpu")
    if not (torch.cuda.is_available() or torch.backends.mps.is_available()):
        assert inference_device("auto") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is visible here")
def test_a_device_that_is_not_there_or_unknown_is_a_user_error():
    with pytest.raises(NekaError, match="accelerator=cuda: no cuda device is visible here; use accelerator=cpu"):
        inference_device("cuda")
    with pytest.raises(NekaError, match="accelerator: unknown device 'tpu'; use auto, cpu, gpu, cuda or mps"):
        inference_device("tpu")

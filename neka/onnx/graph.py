"""The run's `predict_step` as an ONNX graph: probabilities (or values) straight from token ids.

The graph is traced from `NekaClassifier.predict_step` itself, so whatever it does after the
logits (softmax, sigmoid for multi-label runs, a calibration temperature) is inside the graph and
ONNX Runtime answers exactly what PyTorch does. TorchScript tracing (`dynamo=False`, legacy
since torch 2.9 but still shipped in 2.13) rather than `torch.export`: it needs no `onnxscript`,
and BERT's attention traces to one graph whose batch and sequence axes stay symbolic.
"""

import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from neka.model.classifier import NekaClassifier

INPUT_NAMES = ["input_ids", "valid_length", "token_type_ids"]  # the keys of neka's batches (neka/data/batching.py)
WINDOW_INPUT = "window_rows"  # a run that reads long rows as windows: each window's row, pooled in the graph
OUTPUT_NAME = "outputs"  # (batch, labels) probabilities, or (batch, 1) values for regression
OPSET = 17


class PredictStep(nn.Module):
    """`predict_step` with positional inputs, the form a tracer calls."""

    def __init__(self, model: NekaClassifier):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, valid_length: torch.Tensor, token_type_ids: torch.Tensor,
                window_rows: torch.Tensor | None = None):
        batch = {"input_ids": input_ids, "valid_length": valid_length, "token_type_ids": token_type_ids}
        if window_rows is not None:
            batch[WINDOW_INPUT] = window_rows
        return self.model.predict_step(batch, 0)


def export_graph(model: NekaClassifier, path: Path, windowed: bool = False) -> None:
    """A three-sequence example of unequal lengths, so that no axis is traced as a constant; with
    `windowed` (data.truncation=windows) the graph also takes each sequence's row and answers per
    row, traced on two rows, the first of two windows."""
    example = (torch.tensor([[2, 5, 6, 3], [2, 7, 3, 0], [2, 8, 3, 0]]), torch.tensor([4, 3, 3]),
               torch.zeros(3, 4, dtype=torch.long))
    names = list(INPUT_NAMES)
    axes = {name: {0: "batch", 1: "sequence"} for name in ("input_ids", "token_type_ids")}
    axes.update({"valid_length": {0: "batch"}, OUTPUT_NAME: {0: "rows" if windowed else "batch"}})
    if windowed:
        example, names = (*example, torch.tensor([0, 0, 1])), [*names, WINDOW_INPUT]
        axes[WINDOW_INPUT] = {0: "batch"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        # the tracer warns about Python-side shape checks in transformers' mask code; the graph is
        # checked against PyTorch on real rows afterwards (neka/onnx/parity.py)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # transformers' mask code indexes with position ranges, never negative, the case this warns of
        warnings.filterwarnings("ignore", "Exporting aten::index operator of advanced indexing", UserWarning)
        # chosen on purpose (module docstring); torch>=2.9 warns that the TorchScript exporter is legacy
        warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based ONNX export", DeprecationWarning)
        warnings.filterwarnings("ignore", "The feature will be removed", DeprecationWarning)
        # the wrapper in eval mode too: the exporter puts modules back in their mode afterwards, and a
        # wrapper left in training mode would switch the run's dropout on for every later forward pass
        torch.onnx.export(PredictStep(model.eval().cpu()).eval(), example, str(path), input_names=names,
                          output_names=[OUTPUT_NAME], dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def quantize_graph(source: Path, target: Path) -> None:
    """int8 weights for the linear layers (MatMul), activations quantized on the fly per batch:
    onnxruntime's dynamic quantization, the recipe for transformer encoders on CPUs."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # the quantizer logs a line per tensor, and advice, on the root logger
    try:
        quantize_dynamic(str(source), str(target), op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)

"""A long row read as several windows (data.truncation=windows) gets one output: its windows'
logits pooled by mean or max before calibration, softmax and metrics, so every split's metrics,
predict's rows and the server's answers stay one per input row.

Pooled with a (rows, windows) membership matrix rather than `scatter_reduce`: the same code then
traces into an ONNX graph (opset 17 has no max-reducing scatter), and a batch's few hundred
windows make the matrix tiny.
"""

import torch


def pool_windows(logits: torch.Tensor, window_rows: torch.Tensor, how: str) -> torch.Tensor:
    """(windows, outputs) -> (rows, outputs); `window_rows` numbers each window's row, ascending from 0."""
    row_ids = torch.arange(window_rows.shape[0], device=logits.device)[: window_rows[-1] + 1]
    member = window_rows[None, :] == row_ids[:, None]  # (rows, windows)
    if how == "max":
        return logits[None].masked_fill(~member[:, :, None], float("-inf")).amax(dim=1)
    weights = member.to(logits.dtype)
    return (weights / weights.sum(dim=1, keepdim=True)) @ logits

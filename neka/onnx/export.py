"""`python -m neka.export format=onnx [quantize=int8]`: a self-contained ONNX Runtime folder.

model.onnx (int8 linear layers with quantize=int8), the run's vocab/, labels.json, inputs.json,
config.yaml and, where the run has them, thresholds.json, calibration.json and metrics.json: what
`backend=onnx` in predict and serve reads (neka/inference/onnx_backend.py). parity.json says how
close the graph is to the PyTorch model on the run's test rows (neka/onnx/parity.py).
"""

import json
import logging
import shutil
from pathlib import Path

from neka.atomic import atomic_path
from neka.errors import NekaError
from neka.inference.onnx_backend import (
    CONFIG_FILE,
    ENCODER_KEY,
    MODEL_FILE,
    import_onnxruntime,
    new_session,
    session_outputs,
)
from neka.inference.scoring import predict_outputs
from neka.onnx.graph import export_graph, quantize_graph
from neka.onnx.parity import FLOAT32_LIMIT, compare, metric_change, parity_rows, test_metrics
from neka.runs.files import write_json_atomic
from neka.runs.trained import TrainedRun

log = logging.getLogger(__name__)

QUANTIZATIONS = (None, "int8")
RUN_FILES = ("labels.json", "inputs.json", "thresholds.json", "calibration.json", "metrics.json")
PARITY_BATCH = 64


def check_quantize(quantize: str | None) -> None:
    if quantize not in QUANTIZATIONS:
        raise NekaError(f"quantize: unknown value {quantize!r}; use int8 or null (float32)")


def export_onnx(run: TrainedRun, out: Path, quantize: str | None = None) -> dict:
    """Built in a temporary folder beside `out` and swapped in (neka/atomic.py), so a refused or
    stopped export leaves no half folder. Returns what parity.json holds."""
    check_quantize(quantize)
    import_onnxruntime("format=onnx")
    with atomic_path(out, is_folder=True, replace=True) as staging:
        model_path = staging / MODEL_FILE
        export_graph(run.model, model_path, windowed=run.truncation.mode == "windows")
        parity = check_parity(run, model_path, quantize)
        name_encoder(model_path, run.encoder_config.to_dict())
        shutil.copytree(run.run_dir / "vocab", staging / "vocab")
        shutil.copyfile(run.run_dir / ".hydra" / "config.yaml", staging / CONFIG_FILE)
        for name in RUN_FILES:
            if (run.run_dir / name).is_file():
                shutil.copyfile(run.run_dir / name, staging / name)
        write_json_atomic(staging / "parity.json", parity)
    return parity


def check_parity(run: TrainedRun, model_path: Path, quantize: str | None) -> dict:
    """Float32 against PyTorch (refused beyond FLOAT32_LIMIT); with int8, `model_path` is replaced
    by its quantized graph and compared with both."""
    rows, source = parity_rows(run)
    reference = predict_outputs(run, rows, PARITY_BATCH, "cpu")
    float32 = session_outputs(new_session(model_path, "format=onnx"), rows, run.tokenizer.pad_id, PARITY_BATCH)
    parity = {"rows": len(rows), "source": source, "checkpoint": str(run.checkpoint),
              "pytorch": {"metrics": test_metrics(run, reference, rows.labels)},
              "float32": compare(run, reference, float32, rows.labels)}
    difference = parity["float32"]["max_abs_diff"]
    if difference > FLOAT32_LIMIT:
        raise NekaError(f"format=onnx: the exported graph's outputs differ from PyTorch's by {difference:.2g} on the "
                        f"test rows (allowed {FLOAT32_LIMIT:g}); the graph is wrong, so nothing was written")
    log.info("onnx float32: largest difference from PyTorch %.2g on %d test rows", difference, len(rows))
    if quantize == "int8":
        float32_path = model_path.with_name("float32.onnx")
        model_path.rename(float32_path)
        quantize_graph(float32_path, model_path)
        float32_path.unlink()
        int8 = session_outputs(new_session(model_path, "format=onnx"), rows, run.tokenizer.pad_id, PARITY_BATCH)
        parity["int8"] = compare(run, reference, int8, rows.labels)
        parity["int8"]["change_from_float32"] = metric_change(parity["int8"]["metrics"],
                                                              parity["float32"]["metrics"])
    return parity


def name_encoder(model_path: Path, encoder_config: dict) -> None:
    """The encoder's config in the model's metadata, for serve's /info."""
    import onnx

    model = onnx.load(str(model_path))
    onnx.helper.set_model_props(model, {ENCODER_KEY: json.dumps(encoder_config, default=str)})
    onnx.save(model, str(model_path))

"""Scoring with ONNX Runtime (`backend=onnx`): the same rows, batches and outputs as
neka/inference/scoring.py, from `model.onnx` in an export folder (`python -m neka.export
format=onnx`) or in a run folder's `onnx/` subfolder.

An export folder holds what scoring reads from a run folder: the run's config.yaml, labels.json,
inputs.json, vocab/ and, where the run has them, thresholds.json and calibration.json, so an
`OnnxRun` is a `TrainedRun` whose folder is the export and whose model is the ONNX session.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm
from transformers import AutoConfig, PretrainedConfig

from neka.data.batching import Collate, length_sorted_loader
from neka.data.transform import EncodedRows
from neka.errors import NekaError
from neka.onnx.graph import WINDOW_INPUT
from neka.runs.trained import TrainedRun, open_run
from neka.tokenization.loading import load_saved_tokenizer

MODEL_FILE = "model.onnx"
CONFIG_FILE = "config.yaml"  # the run's .hydra/config.yaml: max_len, pair, how tables are read
ENCODER_KEY = "neka_encoder_config"  # model.onnx metadata: the encoder's transformers config, as JSON
BACKENDS = ("torch", "onnx")


def import_onnxruntime(key: str):
    """onnxruntime and onnx are the optional extra neka[onnx]; without them, say how to install them."""
    try:
        import onnx  # noqa: F401  (export and quantization write ONNX files with it)
        import onnxruntime
    except ImportError as error:
        raise NekaError(f"{key} needs {error.name or 'onnxruntime'}, from the onnx extra: "
                        f"pip install 'neka[onnx]'") from None
    return onnxruntime


def new_session(path: Path, key: str, threads: int = 0):
    """A CPU session with ONNX Runtime's full graph optimisations (its default level); `threads`
    0: one per physical core, ONNX Runtime's default."""
    onnxruntime = import_onnxruntime(key)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@dataclass
class OnnxRun(TrainedRun):
    session: object = None  # onnxruntime.InferenceSession; `model` stays None

    @property
    def encoder_config(self) -> PretrainedConfig:
        metadata = self.session.get_modelmeta().custom_metadata_map
        return AutoConfig.for_model(**json.loads(metadata[ENCODER_KEY]))


def find_model(run_dir: Path) -> Path:
    for folder in (run_dir, run_dir / "onnx"):
        if (folder / MODEL_FILE).is_file():
            return folder
    raise NekaError(f"backend=onnx: no {MODEL_FILE} in {run_dir} or {run_dir / 'onnx'}; write one with python -m "
                    f"neka.export run_dir={run_dir} out={run_dir / 'onnx'} format=onnx, or use backend=torch")


def open_onnx_run(run_dir: str | Path) -> OnnxRun:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise NekaError(f"run_dir: {run_dir} does not exist; give a run folder or an ONNX export folder")
    folder = find_model(run_dir)
    session = new_session(folder / MODEL_FILE, "backend=onnx")
    config = OmegaConf.load(folder / CONFIG_FILE)
    label_map = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return OnnxRun(folder, config, label_map, load_saved_tokenizer(folder / "vocab"), None, folder / MODEL_FILE,
                   session)


def open_backend(backend: str, run_dir: str | Path, ckpt: str = "best", trust_checkpoint: bool = False) -> TrainedRun:
    """The run as predict and serve score it: its checkpoint in PyTorch, or its exported model.onnx."""
    if backend not in BACKENDS:
        raise NekaError(f"backend: unknown backend {backend!r}; use torch or onnx")
    return open_onnx_run(run_dir) if backend == "onnx" else open_run(run_dir, ckpt, trust_checkpoint)


def session_outputs(session, rows: EncodedRows, pad_id: int, batch_size: int,
                    show_progress: bool = False) -> np.ndarray:
    """`neka.inference.scoring.model_outputs` with ONNX Runtime: the same length-sorted, padded
    batches, outputs put back in input order."""
    loader, order = length_sorted_loader(rows, batch_size, collate_fn=Collate(pad_id))
    width = session.get_outputs()[0].shape[1]
    names = [graph_input.name for graph_input in session.get_inputs()]
    batches = [session.run(None, {name: array for name, array in graph_inputs(batch).items() if name in names})[0]
               for batch in tqdm(loader, desc="scoring", unit="batch", disable=not show_progress, file=sys.stderr,
                                 leave=False)]
    outputs = np.concatenate(batches) if batches else np.zeros((0, width), dtype=np.float32)
    in_order = np.empty_like(outputs)
    in_order[order] = outputs
    return in_order


def graph_inputs(batch: dict) -> dict[str, np.ndarray]:
    """A batch's tensors as arrays; a windowed run's graph also takes each sequence's row, which a
    batch without long rows numbers one to one."""
    arrays = {name: tensor.numpy() for name, tensor in batch.items()}
    arrays.setdefault(WINDOW_INPUT, np.arange(len(arrays["input_ids"]), dtype=np.int64))
    return arrays


def onnx_outputs(run: OnnxRun, rows: EncodedRows, batch_size: int, show_progress: bool = False) -> np.ndarray:
    return session_outputs(run.session, rows, run.tokenizer.pad_id, batch_size, show_progress)

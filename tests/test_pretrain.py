"""`python -m neka.pretrain`: masked-language-model pretraining from scratch and continued from its own
encoder/, resumed after a kill, swept, refused on bad input; its encoder/ loaded by AutoModel and
fine-tuned by neka.train. Real runs on a few hundred shipped reviews with a one-layer BERT of width 32."""

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transformers import AutoModel, AutoTokenizer

from neka.cli.configs import compose_config
from neka.cli.resolvers import packaged_data_path
from neka.data.batching import Collate, EncodedDataset
from neka.data.transform import encode_rows
from neka.pretraining.masking import TokenMasker

from conftest import assert_user_error, kill_after_first_step_checkpoint, run_in_process

PRETRAIN = "neka.pretrain"
# 270 training rows, 30 val, batches of 16: 17 steps
SCRATCH = ("data.max_rows=300", "data.batch_size=16", "trainer.max_epochs=1", "trainer.log_every_n_steps=5",
           "tokenizer.vocab_size=1000", "model.encoder.hidden_size=32", "model.encoder.num_hidden_layers=1",
           "model.encoder.num_attention_heads=2", "model.encoder.intermediate_size=64",
           "model.encoder.max_position_embeddings=128")
LINES = 400  # of the .txt corpus; every fifth line is left blank


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pretrain")


@pytest.fixture(scope="module")
def scratch(workdir) -> tuple[Path, object]:
    """From scratch on the shipped reviews, with a WordPiece vocabulary trained on them."""
    result = run_in_process(*SCRATCH, "hydra.run.dir=scratch", cwd=workdir, module=PRETRAIN)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "scratch", result


@pytest.fixture(scope="module")
def corpus(workdir) -> Path:
    """A plain .txt file, one review per line, with blank lines among them."""
    reviews = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t")["document"].dropna().tolist()
    lines = ["" if index % 5 == 4 else reviews[index] for index in range(LINES)]
    path = workdir / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def continued_settings(scratch_dir: Path, corpus: Path) -> tuple[str, ...]:
    """Continued on the .txt corpus from the scratch run's encoder and tokenizer; a step checkpoint
    every 3 of the 18 steps, for the resume test, which compares with this uninterrupted run."""
    return ("model=bert", f"model.pretrained={scratch_dir / 'encoder'}", f"data.path={corpus}",
            "data.batch_size=16", "trainer.max_epochs=1", "trainer.deterministic=true",
            "callbacks.checkpoint.every_n_train_steps=3")


@pytest.fixture(scope="module")
def continued(workdir, scratch, corpus) -> Path:
    result = run_in_process(*continued_settings(scratch[0], corpus), "hydra.run.dir=continued", cwd=workdir,
                            module=PRETRAIN)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "continued"


def scalar_tags(run_dir: Path) -> set[str]:
    accumulator = EventAccumulator(str(run_dir / "tb"))
    accumulator.Reload()
    return set(accumulator.Tags()["scalars"])


def test_from_scratch_leaves_an_encoder_that_transformers_loads(scratch):
    run_dir, result = scratch
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics) == {"val_loss", "val_mlm_acc"} and 0 < metrics["val_mlm_acc"] < 1
    assert {"train/loss", "train/mlm_acc", "val/loss", "val/mlm_acc"} <= scalar_tags(run_dir)
    assert (run_dir / "pretrain.log").is_file() and (run_dir / "history.csv").is_file()
    encoder = run_dir / "encoder"
    assert (f"fine-tune it: python -m neka.train model=bert model.pretrained={encoder} optimizer=adamw_scratch"
            in result.stdout)
    model = AutoModel.from_pretrained(encoder)
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (32, 1)
    # the best checkpoint's weights, not the last step's or fresh ones
    [best] = (run_dir / "checkpoints").glob("best-*.ckpt")
    state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    assert torch.equal(model.embeddings.word_embeddings.weight, state["mlm.bert.embeddings.word_embeddings.weight"])
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    assert tokenizer.mask_token == "[MASK]" and len(tokenizer) == model.config.vocab_size
    assert tokenizer.convert_ids_to_tokens(tokenizer("정말 재밌는 영화")["input_ids"])[0] == "[CLS]"


def test_continued_keeps_the_tokenizer_and_reads_a_text_file(scratch, continued):
    """One text per line, blank lines left out: 320 texts, 288 train and 32 val."""
    assert (continued / "encoder" / "vocab.txt").read_text() == (scratch[0] / "encoder" / "vocab.txt").read_text()
    log = (continued / "pretrain.log").read_text()
    assert "rows: train 288" in log and "val 32 carved from" in log
    before, after = (load_file(run / "encoder" / "model.safetensors") for run in (scratch[0], continued))
    name = "bert.embeddings.word_embeddings.weight"
    assert before[name].shape == after[name].shape and not torch.equal(before[name], after[name])


def test_resume_after_a_kill_ends_as_the_uninterrupted_run(workdir, scratch, corpus, continued):
    settings = continued_settings(scratch[0], corpus)
    kill_after_first_step_checkpoint(workdir, "killed", settings, module=PRETRAIN)
    assert not (workdir / "killed" / "metrics.json").exists()
    result = run_in_process(*settings, f"resume={workdir / 'killed'}", cwd=workdir, module=PRETRAIN)
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = workdir / "killed"
    assert "resuming" in (resumed / "pretrain.log").read_text()
    expected, found = (json.loads((run / "metrics.json").read_text()) for run in (continued, resumed))
    assert found == pytest.approx(expected, abs=1e-6)
    weights, resumed_weights = (load_file(run / "encoder" / "model.safetensors") for run in (continued, resumed))
    for name, tensor in weights.items():
        torch.testing.assert_close(resumed_weights[name], tensor, atol=1e-6, rtol=0)


def test_train_fine_tunes_the_encoder(workdir, scratch):
    encoder = scratch[0] / "encoder"
    result = run_in_process("model=bert", f"model.pretrained={encoder}", "optimizer=adamw_scratch", "data.max_rows=200",
                            "data.test_path=null", "trainer.max_epochs=1", "hydra.run.dir=fine_tuned", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = workdir / "fine_tuned"
    assert json.loads((run_dir / "metrics.json").read_text())["test_acc"] > 0
    assert (run_dir / "vocab" / "vocab.txt").read_text() == (encoder / "vocab.txt").read_text()


def test_a_sweep_ranks_its_jobs_by_val_loss(workdir):
    sweep_dir = workdir / "sweep"
    result = run_in_process("-m", *SCRATCH, "data.max_rows=120", "optimizer.lr=1e-3,3e-3",
                            f"hydra.sweep.dir={sweep_dir}", cwd=workdir, module=PRETRAIN)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = pd.read_csv(sweep_dir / "summary.csv")
    assert len(summary) == 2 and summary["val_loss"].is_monotonic_increasing
    assert all((sweep_dir / str(job) / "encoder" / "config.json").is_file() for job in (0, 1))


@pytest.mark.parametrize(("name", "content", "settings", "fragment"), [
    ("reviews.csv", "id,document\n1,좋다\n", ("data.text_columns=text",), "data.text_columns: no column 'text'"),
    ("empty.txt", "", (), "data.path: empty.txt is empty"),
    ("blank.txt", "\n  \n\n", (), "data.path: every line of blank.txt is empty"),
    ("blank.csv", "id,text\n1,\n2, \n", ("data.text_columns=text",), "data.path: every row's ['text'] of blank.csv"),
])
def test_bad_input_is_one_line_and_leaves_no_folder(tmp_path, name, content, settings, fragment):
    (tmp_path / name).write_text(content, encoding="utf-8")
    result = run_in_process(f"data.path={name}", *settings, "hydra.run.dir=outputs/run", cwd=tmp_path,
                            module=PRETRAIN)
    assert_user_error(result, fragment)
    assert not (tmp_path / "outputs" / "run").exists()


@pytest.mark.parametrize("model", ["tiny", "bert", "minilm"])
def test_the_config_composes_with_every_model(model):
    """The sample's review column by default; another file is read whole (a .txt: one text per line)."""
    overrides = [f"model={model}", *(["model.pretrained=some/encoder"] if model == "bert" else [])]
    cfg = compose_config("pretrain", overrides)
    assert cfg.data.text_columns == ["document"] and cfg.mlm.probability == 0.15 and cfg.monitor == "val/loss"
    assert compose_config("pretrain", [*overrides, "data.path=corpus.txt"]).data.text_columns is None
    assert cfg.tokenizer.kind == ("wordpiece" if model == "tiny" else "hf")


def test_masking_follows_the_80_10_10_rule(word_tokenizer):
    """15 % of the text tokens chosen; of those 80 % [MASK], 10 % another token, 10 % kept; never
    [CLS], [SEP] or padding."""
    texts = [[5 + (row * 7 + position) % 17 for position in range(10 + row % 20)] for row in range(2000)]
    rows = encode_rows([texts], torch.zeros(len(texts)).numpy(), word_tokenizer.cls_id, word_tokenizer.sep_id, 64,
                       pair=False)
    dataset = EncodedDataset(rows)
    batch = Collate(word_tokenizer.pad_id)(dataset.__getitems__(list(range(len(dataset)))))
    masked = TokenMasker(word_tokenizer).mask(batch, torch.Generator().manual_seed(0))
    chosen = masked["labels"] != -100
    is_text = (batch["input_ids"] >= 5)
    assert not (chosen & ~is_text).any()
    assert chosen.sum() / is_text.sum() == pytest.approx(0.15, abs=0.01)
    assert torch.equal(masked["labels"][chosen], batch["input_ids"][chosen])
    mask_id = word_tokenizer.token_to_id("[MASK]")
    replaced = (masked["input_ids"][chosen] == mask_id).float().mean()
    kept = (masked["input_ids"][chosen] == batch["input_ids"][chosen]).float().mean()
    assert replaced == pytest.approx(0.8, abs=0.02)
    assert kept == pytest.approx(0.1 + 0.1 / len(word_tokenizer), abs=0.02)  # a random token may be the same one
    assert torch.equal(masked["input_ids"][~chosen], batch["input_ids"][~chosen])

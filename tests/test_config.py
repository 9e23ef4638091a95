"""Every shipped config composes, and every experiment instantiates its data, trainer and logger."""

import re
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from pytorch_lightning import Trainer

import neka  # noqa: F401  registers the ${neka_data:...} resolver
from neka.cli.configs import compose_config, config_dir
from neka.cli.resolvers import packaged_data_path
from neka.data.datamodule import NekaDataModule
from neka.errors import NekaError
from neka.model.precision import choose_precision
from neka.tokenization.loading import load_tokenizer

CONF = config_dir()
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def compose_train(*overrides: str):
    return compose_config("train", overrides, return_hydra_config=True)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_instantiates(experiment, tmp_path):
    cfg = compose_train(f"+experiment={experiment}", f"hydra.runtime.output_dir={tmp_path}")
    data = instantiate(cfg.data, tokenizer_factory=None, _convert_="all")
    assert isinstance(data, NekaDataModule) and Path(data.path).is_file()
    precision = choose_precision(cfg.trainer.precision, cfg.trainer.accelerator)  # as neka.train resolves auto
    trainer = instantiate(cfg.trainer, logger=instantiate(cfg.logger, save_dir=str(tmp_path)), precision=precision)
    assert isinstance(trainer, Trainer)


def test_kobert_is_the_seed_recipe():
    cfg = compose_train("+experiment=kobert")
    assert cfg.model.pretrained == "monologg/kobert" and cfg.tokenizer.pretrained == "monologg/kobert"
    assert (cfg.data.max_len, cfg.data.batch_size, cfg.optimizer.lr, cfg.scheduler.warmup_ratio) == (64, 64, 5e-5, 0.1)
    assert (cfg.trainer.max_epochs, cfg.trainer.gradient_clip_val, cfg.trainer.log_every_n_steps) == (5, 1.0, 200)


@pytest.mark.parametrize("group", ["trainer", "scheduler", "optimizer", "tokenizer", "model", "data"])
def test_every_option_of_a_group_composes(group):
    for option in sorted(p.stem for p in (CONF / group).glob("*.yaml")):
        overrides = [f"{group}={option}"]
        if (group, option) in {("model", "bert"), ("tokenizer", "hf")}:
            overrides.append("model.pretrained=some/encoder")
        if group == "data" and option == "table":
            overrides += ["data.path=t.csv", "data.label_column=y"]
        cfg = compose_train(*overrides)
        assert OmegaConf.to_container(cfg[group], resolve=True)


def test_default_trains_on_the_embedded_sample():
    cfg = compose_train()
    assert Path(cfg.data.path).is_file() and cfg.data.test_path == packaged_data_path("nsmc/test.tsv")
    assert cfg.model.pretrained is None and cfg.tokenizer.kind == "wordpiece"


def set_up_data(*overrides: str) -> NekaDataModule:
    cfg = compose_train(*overrides, "data.cache_dir=null", "tokenizer.min_frequency=1")
    tokenizer = partial(load_tokenizer, **OmegaConf.to_container(cfg.tokenizer, resolve=True))
    data = instantiate(cfg.data, tokenizer_factory=tokenizer, _convert_="all")
    data.setup("fit")
    return data


def test_own_table_gives_its_own_validation_and_test_rows(tmp_path):
    """data.path alone: the shipped sample's 2,000 test reviews must not become the test split."""
    table = pd.read_csv(packaged_data_path("nsmc/train.tsv"), sep="\t").head(100)
    table.to_csv(tmp_path / "my.tsv", sep="\t", index=False)
    data = set_up_data(f"data.path={tmp_path / 'my.tsv'}", "data.text_columns=[document]", "data.label_column=label")
    assert (data.test_path, data.val_path) == (None, None)
    assert {split: len(rows) for split, rows in data.encoded.items()} == {"train": 80, "val": 10, "test": 10}
    given = set_up_data(f"data.path={tmp_path / 'my.tsv'}", f"data.test_path={packaged_data_path('nsmc/test.tsv')}")
    assert len(given.encoded["test"]) == 2000  # a test file the user names is still used


def test_a_single_column_name_without_brackets_is_one_column(tmp_path, grades_table):
    grades_table.assign(note="좋음").to_csv(tmp_path / "grades.csv", index=False)
    texts = set_up_data(f"data.path={tmp_path / 'grades.csv'}", "data.text_columns=note", "data.label_column='학점'")
    assert texts.input_columns == ["note"]
    dropped = set_up_data("data=table", f"data.path={tmp_path / 'grades.csv'}", "data.label_column='학점'",
                          "data.drop_columns='나이'")
    assert dropped.input_columns == ["id", "중간고사", "기말고사", "note"]


@pytest.mark.parametrize("model", ["tiny", "minilm"])
def test_cudnn_attention_is_off_by_default(model):
    assert compose_train(f"model={model}").model.cudnn_attention is False


@pytest.mark.parametrize("pin", [False, True])
def test_data_pin_memory_reaches_every_loader(pin):
    cfg = compose_train("+experiment=tiny", f"data.pin_memory={pin}", "data.cache_dir=null")
    tokenizer = partial(load_tokenizer, **OmegaConf.to_container(cfg.tokenizer, resolve=True))
    data = instantiate(cfg.data, tokenizer_factory=tokenizer, _convert_="all")
    data.setup("fit")
    loaders = [data.train_dataloader(), data.val_dataloader(), data.test_dataloader()]
    assert [loader.pin_memory for loader in loaders] == [pin] * 3
    with pytest.raises(NekaError, match="data.pin_memory: must be true or false, got 'auto'"):
        NekaDataModule(data.path, "label", tokenizer, pin_memory="auto")


def test_train_help_lists_the_groups_and_points_to_existing_readme_sections():
    help_config = compose_train().hydra.help
    assert "$APP_CONFIG_GROUPS" in help_config.template
    sections = re.findall(r'"([^"]+)"', help_config.footer)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", readme, re.MULTILINE)
    assert len(sections) >= 5 and all(any(h.startswith(s) for h in headings) for s in sections), sections


def test_data_table_without_a_path_stops_instead_of_training_on_the_sample():
    cfg = compose_train("data=table", "data.label_column=grade")
    assert cfg.data.path is None  # not the shipped reviews' path, which `???` would have kept
    with pytest.raises(InstantiationException) as raised:
        instantiate(cfg.data, tokenizer_factory=None, _convert_="all")
    assert isinstance(raised.value.__cause__, NekaError) and "data.path: no table given" in str(raised.value.__cause__)

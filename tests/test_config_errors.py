"""The one line for each configuration mistake, built from the exceptions Hydra and OmegaConf raise."""


import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

import neka  # noqa: F401  registers the ${neka_data:...} resolver
from neka.cli.config_errors import describe, option_keys
from neka.cli.configs import config_dir
from neka.cli.entry import user_errors
from neka.tokenization.loading import pretrained_key

CONF = config_dir()


def composition_error(config_name: str, *overrides: str) -> HydraException:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        with pytest.raises(HydraException) as raised:
            compose(config_name=config_name, overrides=list(overrides))
    return raised.value


@pytest.mark.parametrize("config_name, overrides, line", [
    ("train", ["tokenizer.pretrained=x"],
     "tokenizer.pretrained is a key of tokenizer=hf and tokenizer=kobert; add tokenizer=hf"),
    ("train", ["model=bert", "model.encoder.num_hidden_layers=4"],
     "model.encoder.num_hidden_layers is a key of model=tiny; add model=tiny"),
    ("train", ["model.pretraind=x"], "model.pretraind: no such key; did you mean model.pretrained?"),
    ("train", ["modl=bert"], "modl: no such key; did you mean model?"),
    ("predict", ["run_dri=x"], "run_dri: no such key; did you mean run_dir?"),
    ("train", ["model=kobert"], "model=kobert: no such option; model is one of bert, minilm, tiny "
                                "(kobert is an option of experiment=kobert and tokenizer=kobert)"),
    ("train", ["+experiment=nope"], "experiment=nope: no such option; experiment is one of kobert, tiny"),
    ("train", ["data.label_column=학점]"],
     "data.label_column=학점]: Hydra cannot read this value; a list is written [a,b], and text that holds "
     ", [ ] { } ( ) = goes in quotes: \"data.label_column='학점]'\""),
    ("train", ["데이터=1"], "데이터=1: 데이터 is not a key; keys are ASCII names like data.label_column (values may be "
                           "Korean)"),
])
def test_config_mistakes_name_the_fix(config_name, overrides, line):
    assert describe(composition_error(config_name, *overrides), config_name) == line


def test_keys_of_a_global_option_and_of_the_options_it_extends():
    assert "model.pretrained" in option_keys("model", "bert")  # @package _global_
    assert "model.pretrained" in option_keys("model", "minilm")  # through its defaults: bert
    assert "model.encoder.hidden_size" in option_keys("model", "tiny")


def test_a_missing_value_names_the_key_and_an_example(capsys):
    config = OmegaConf.create({"run_dir": "???", "eval": {"dir": "${run_dir}/eval"}, "model": {"pretrained": "???"}})
    with pytest.raises(SystemExit) as exited, user_errors():
        OmegaConf.to_container(config.eval, resolve=True)  # through an interpolation, as hydra.run.dir reads it
    assert exited.value.code == 2
    assert capsys.readouterr().err == ("neka: error: run_dir is required: the folder of a finished training run, "
                                       "e.g. run_dir=outputs/2026-11-29/14-03-12-123456\n")
    with pytest.raises(OmegaConfBaseException) as raised:
        config.model.pretrained
    assert describe(raised.value, "train", {"model": "bert"}) == (
        "model.pretrained is required with model=bert: a Hugging Face name or folder, "
        "e.g. model.pretrained=klue/bert-base")


def test_the_tokenizer_that_follows_the_encoder_names_model_pretrained():
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        assert pretrained_key(compose("train", ["+experiment=kobert"]).tokenizer) == "model.pretrained"
        own = compose("train", ["+experiment=kobert", "tokenizer.pretrained=org/tok"]).tokenizer
        assert pretrained_key(own) == "tokenizer.pretrained"
